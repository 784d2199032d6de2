"""Merkle tree, proofs and frontier appends against an independent RFC 6962 reference."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger import merkle
from ledger.merkle import MemoryTree, ProofError

# --- independent reference: the RFC 6962 section 2.1 definitions, written out literally ---


def ref_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) straight from the RFC."""
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) straight from the RFC."""
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) straight from the RFC."""
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) straight from the RFC."""
    return ref_subproof(m, d, True)


# --- fixtures ---

TEST_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]

N = 64
DATA = [i.to_bytes(4, "big") + b"kindpakket" for i in range(N)]
TREE = MemoryTree.from_data(DATA)


def checked_get_node(tree: MemoryTree, size: int, calls: list[tuple[int, int]]) -> merkle.GetNode:
    """Wrap get_node: assert each request is a perfect subtree inside ``size`` leaves."""

    def get(level: int, index: int) -> bytes:
        assert level >= 0 and index >= 0
        assert (index + 1) << level <= size, f"node ({level},{index}) outside size {size}"
        calls.append((level, index))
        return tree.get_node(level, index)

    return get


# --- known answers ---


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
        (2, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
        (8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
    ],
)
def test_known_roots(count: int, expected: str) -> None:
    tree = MemoryTree.from_data(TEST_LEAVES[:count])
    assert tree.root().hex() == expected
    assert merkle.root_from_frontier(tree.frontier).hex() == expected
    assert ref_mth(TEST_LEAVES[:count]).hex() == expected


def test_hash_prefixes() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT


# --- proofs for every leaf and size pair up to 64 ---


@pytest.mark.parametrize("size", range(1, N + 1))
def test_root_and_inclusion_match_reference(size: int) -> None:
    d = DATA[:size]
    calls: list[tuple[int, int]] = []
    get = checked_get_node(TREE, size, calls)
    root = merkle.root(get, size)
    assert root == ref_mth(d)
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, get)
        assert proof == ref_path(index, d)
        assert len(proof) == merkle.inclusion_proof_length(index, size)
        assert merkle.verify_inclusion(merkle.leaf_hash(d[index]), index, size, proof, root)
        other = (index + 1) % size
        if other != index:
            assert not merkle.verify_inclusion(merkle.leaf_hash(d[other]), index, size, proof, root)


@pytest.mark.parametrize("new_size", range(1, N + 1))
def test_consistency_matches_reference(new_size: int) -> None:
    d = DATA[:new_size]
    new_root = ref_mth(d)
    get = checked_get_node(TREE, new_size, [])
    assert _code_of(lambda: merkle.consistency_proof(0, new_size, get) and None) == "bad_size"
    for old_size in range(1, new_size + 1):  # RFC 9162: no proof from the empty tree
        proof = merkle.consistency_proof(old_size, new_size, get)
        expected = ref_proof(old_size, d) if old_size < new_size else []
        assert proof == expected
        assert len(proof) == merkle.consistency_proof_length(old_size, new_size)
        old_root = ref_mth(DATA[:old_size])
        assert merkle.verify_consistency(old_size, new_size, old_root, new_root, proof)
        if 0 < old_size < new_size:
            wrong_old = ref_mth(DATA[1 : old_size + 1])
            assert not merkle.verify_consistency(old_size, new_size, wrong_old, new_root, proof)
            assert not merkle.verify_consistency(old_size, new_size, old_root, old_root, proof)


def test_proofs_make_logarithmically_many_node_calls() -> None:
    size = N - 1  # 63 = 32+16+8+4+2+1: the right edge is as ragged as it gets
    calls: list[tuple[int, int]] = []
    get = checked_get_node(TREE, size, calls)
    for index in range(size):
        calls.clear()
        merkle.inclusion_proof(index, size, get)
        assert len(calls) <= 6 * 6  # O(log^2 n) bound with log n = 6
    for old in range(1, size):
        calls.clear()
        merkle.consistency_proof(old, size, get)
        assert len(calls) <= 6 * 6


# --- refused proofs ---


def _inclusion_case(index: int = 5, size: int = 13) -> tuple[bytes, list[bytes], bytes]:
    """Return leaf hash, proof and root for leaf ``index`` of the tree of ``size``."""
    return TREE.leaves[index], TREE.inclusion_proof(index, size), TREE.root(size)


def _code_of(fn: Callable[[], None]) -> str:
    """Run ``fn`` and return the code of the ProofError it raises."""
    with pytest.raises(ProofError) as info:
        fn()
    return info.value.code


def test_inclusion_bit_flip_refused() -> None:
    leaf, proof, root = _inclusion_case()
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 0x01]) + bad[i][1:]
        assert not merkle.verify_inclusion(leaf, 5, 13, bad, root)
        code = _code_of(lambda bad=bad: merkle.check_inclusion(leaf, 5, 13, bad, root))
        assert code == "root_mismatch"
    flipped_root = root[:-1] + bytes([root[-1] ^ 0x80])
    assert not merkle.verify_inclusion(leaf, 5, 13, proof, flipped_root)


def test_inclusion_wrong_size_and_index_refused() -> None:
    leaf, proof, root = _inclusion_case()
    # A proof binds the size through the root: against the root of any other size it fails,
    # and with the claimed root it fails whenever the size changes the proof's shape.
    for size in range(6, N + 1):
        if size != 13:
            assert not merkle.verify_inclusion(leaf, 5, size, proof, TREE.root(size))
    for size in (6, 7, 8, 17, 32):  # 9..16 share the shape of 13: only the root tells them apart
        assert not merkle.verify_inclusion(leaf, 5, size, proof, root)
    assert not merkle.verify_inclusion(leaf, 4, 13, proof, root)
    assert not merkle.verify_inclusion(leaf, 6, 13, proof, root)
    assert _code_of(lambda: merkle.check_inclusion(leaf, 13, 13, proof, root)) == (
        "index_out_of_range"
    )
    assert _code_of(lambda: merkle.check_inclusion(leaf, -1, 13, proof, root)) == (
        "index_out_of_range"
    )
    assert _code_of(lambda: merkle.check_inclusion(leaf, 0, 0, [], root)) == "bad_size"
    assert not merkle.verify_inclusion(leaf, 0, 0, [], merkle.EMPTY_ROOT)


def test_inclusion_extra_or_missing_hash_refused() -> None:
    leaf, proof, root = _inclusion_case()
    extra = [*proof, proof[0]]
    missing = proof[:-1]
    assert not merkle.verify_inclusion(leaf, 5, 13, extra, root)
    assert not merkle.verify_inclusion(leaf, 5, 13, missing, root)
    assert _code_of(lambda: merkle.check_inclusion(leaf, 5, 13, extra, root)) == (
        "bad_proof_length"
    )
    assert _code_of(lambda: merkle.check_inclusion(leaf, 5, 13, missing, root)) == (
        "bad_proof_length"
    )
    # single-leaf tree: proof must be empty and the leaf hash is the root
    assert merkle.verify_inclusion(TREE.leaves[0], 0, 1, [], TREE.root(1))
    assert not merkle.verify_inclusion(TREE.leaves[0], 0, 1, [TREE.leaves[1]], TREE.root(1))


def test_inclusion_malformed_hashes_refused() -> None:
    leaf, proof, root = _inclusion_case()
    short = [*proof[:-1], proof[-1][:31]]
    assert _code_of(lambda: merkle.check_inclusion(leaf, 5, 13, short, root)) == "bad_hash"
    assert not merkle.verify_inclusion(leaf, 5, 13, short, root)
    assert not merkle.verify_inclusion(leaf[:16], 5, 13, proof, root)
    assert not merkle.verify_inclusion(leaf, 5, 13, proof, root + b"\x00")
    assert not merkle.verify_inclusion(leaf, 5, 13, ["ab" * 32], root)  # type: ignore[list-item]


def test_consistency_corruptions_refused() -> None:
    old, new = 6, 13
    proof = TREE.consistency_proof(old, new)
    old_root, new_root = TREE.root(old), TREE.root(new)
    assert merkle.verify_consistency(old, new, old_root, new_root, proof)
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 0x04]) + bad[i][1:]
        assert not merkle.verify_consistency(old, new, old_root, new_root, bad)
    assert not merkle.verify_consistency(old, new, old_root, new_root, [*proof, proof[0]])
    assert not merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not merkle.verify_consistency(old, new, old_root, new_root, [])
    for size in range(old, N + 1):
        if size != new:
            assert not merkle.verify_consistency(old, size, old_root, TREE.root(size), proof)
    for size in range(1, new):
        if size != old:
            assert not merkle.verify_consistency(size, new, TREE.root(size), new_root, proof)
    for size in (7, 8, 17, 32):  # 9..16 share the shape of 13: only the root tells them apart
        assert not merkle.verify_consistency(old, size, old_root, new_root, proof)
    assert not merkle.verify_consistency(new, old, new_root, old_root, proof)
    assert _code_of(lambda: merkle.check_consistency(new, old, new_root, old_root, [])) == (
        "bad_size"
    )
    assert _code_of(lambda: merkle.check_consistency(old, new, old_root, new_root, proof[:-1])) == (
        "bad_proof_length"
    )


def test_consistency_power_of_two_old_size() -> None:
    proof = TREE.consistency_proof(8, 13)
    assert merkle.verify_consistency(8, 13, TREE.root(8), TREE.root(13), proof)
    assert not merkle.verify_consistency(8, 13, TREE.root(7), TREE.root(13), proof)


def test_consistency_edge_sizes() -> None:
    r5 = TREE.root(5)
    assert merkle.verify_consistency(5, 5, r5, r5, [])
    assert not merkle.verify_consistency(5, 5, r5, TREE.root(6), [])
    assert not merkle.verify_consistency(5, 5, r5, r5, [r5])
    # RFC 9162 and transparency-dev: an old size of 0 is refused, with or without a proof
    assert not merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, r5, [])
    assert not merkle.verify_consistency(0, 5, merkle.EMPTY_ROOT, r5, [r5])
    assert _code_of(lambda: merkle.check_consistency(0, 5, merkle.EMPTY_ROOT, r5, [])) == (
        "bad_size"
    )
    assert not merkle.verify_consistency(-1, 5, merkle.EMPTY_ROOT, r5, [])


def test_builders_refuse_impossible_arguments() -> None:
    assert _code_of(lambda: TREE.inclusion_proof(0, 0) and None) == "bad_size"
    assert _code_of(lambda: TREE.inclusion_proof(7, 7) and None) == "index_out_of_range"
    assert _code_of(lambda: TREE.inclusion_proof(0, N + 1) and None) == "bad_size"
    assert _code_of(lambda: TREE.consistency_proof(8, 7) and None) == "bad_size"
    assert _code_of(lambda: TREE.consistency_proof(0, 7) and None) == "bad_size"
    assert _code_of(lambda: merkle.root(TREE.get_node, -1) and None) == "bad_size"


# --- frontier appends ---


def test_frontier_append_matches_reference_and_stores_exactly_the_perfect_nodes() -> None:
    frontier: list[bytes] = []
    stored: dict[tuple[int, int], bytes] = {}
    data = [f"entry-{i}".encode() for i in range(200)]
    for size in range(200):
        frontier, completed = merkle.frontier_append(frontier, size, merkle.leaf_hash(data[size]))
        new_size = size + 1
        assert len(frontier) == new_size.bit_count()
        assert merkle.root_from_frontier(frontier) == ref_mth(data[:new_size])
        for level, index, h in completed:
            assert level >= 1
            assert (level, index) not in stored
            lo, hi = index << level, (index + 1) << level
            assert hi == new_size, "a node is completed by the leaf that ends it"
            assert h == ref_mth(data[lo:hi])
            stored[(level, index)] = h
    expected = {
        (level, index) for level in range(1, 8) for index in range(200 >> level)
    }  # every perfect subtree of level >= 1 inside 200 leaves
    assert set(stored) == expected


def test_frontier_encoding_round_trip_and_refusals() -> None:
    tree = MemoryTree.from_data(DATA[:13])
    blob = merkle.encode_frontier(tree.frontier)
    assert len(blob) == 32 * 3
    assert merkle.decode_frontier(blob) == tree.frontier
    assert merkle.decode_frontier(b"") == []
    assert _code_of(lambda: merkle.decode_frontier(blob[:-1]) and None) == "bad_frontier"
    code = _code_of(lambda: merkle.frontier_append(tree.frontier, 12, tree.leaves[0]) and None)
    assert code == "bad_frontier"


def test_memory_tree_get_node_only_knows_existing_nodes() -> None:
    tree = MemoryTree.from_data(DATA[:5])
    assert tree.get_node(2, 0) == ref_mth(DATA[:4])
    with pytest.raises(KeyError):
        tree.get_node(1, 2)  # leaves 4..5: not complete yet
    with pytest.raises(KeyError):
        tree.get_node(0, 5)


@given(st.lists(st.binary(max_size=40), min_size=1, max_size=80), st.data())
def test_property_proofs_verify_and_bind(items: list[bytes], data: st.DataObject) -> None:
    tree = MemoryTree.from_data(items)
    size = data.draw(st.integers(1, len(items)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    old = data.draw(st.integers(1, size), label="old")
    root = tree.root(size)
    assert root == ref_mth(items[:size])
    proof = tree.inclusion_proof(index, size)
    assert merkle.verify_inclusion(merkle.leaf_hash(items[index]), index, size, proof, root)
    cons = tree.consistency_proof(old, size)
    assert merkle.verify_consistency(old, size, tree.root(old), root, cons)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="flip")
        bit = data.draw(st.integers(0, 255), label="bit")
        bad = list(proof)
        bad[i] = bytes(b ^ (1 << (bit % 8)) if j == bit // 8 else b for j, b in enumerate(bad[i]))
        assert not merkle.verify_inclusion(merkle.leaf_hash(items[index]), index, size, bad, root)

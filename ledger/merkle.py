"""Merkle tree of RFC 6962 / RFC 9162: hashes, frontier appends, proofs and their verifiers.

Pure module: ``hashlib`` only, no Flask, no SQLAlchemy.

The store keeps only *perfect* subtrees. Node ``(level, index)`` is the root over the
leaves ``[index * 2**level, (index + 1) * 2**level)``; level 0 is the leaf hash. Proof
builders take a ``get_node(level, index)`` callback and only ever ask it for perfect
subtrees that lie wholly inside the tree of the requested size. A right-edge subtree that
is not perfect is folded from the perfect subtrees of its binary decomposition.

Error convention:

* Builders (``root``, ``inclusion_proof``, ``consistency_proof``, ``frontier_append``,
  ``decode_frontier``) raise :class:`ProofError` for impossible arguments.
* ``check_inclusion`` / ``check_consistency`` raise :class:`ProofError` naming why a proof
  fails (``code`` is one of the ``PROOF_*`` constants below).
* ``verify_inclusion`` / ``verify_consistency`` never raise for bad input: they return
  ``False`` for every proof that ``check_*`` refuses, ``True`` otherwise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from ledger.errors import LedgerError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

GetNode = Callable[[int, int], bytes]

PROOF_BAD_SIZE = "bad_size"  # negative size, or size 0 where a leaf is needed
PROOF_INDEX_OUT_OF_RANGE = "index_out_of_range"  # leaf index >= tree size
PROOF_BAD_HASH = "bad_hash"  # a hash that is not 32 bytes
PROOF_BAD_LENGTH = "bad_proof_length"  # too many or too few hashes in the proof
PROOF_ROOT_MISMATCH = "root_mismatch"  # proof well-formed, but recomputed root differs
PROOF_BAD_FRONTIER = "bad_frontier"  # frontier does not match the tree size


class ProofError(LedgerError):
    """A Merkle proof or argument was refused; ``code`` says why."""

    code = "proof_error"

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 6962 leaf hash SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 6962 interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two strictly smaller than ``n`` (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """Fold perfect-subtree roots (largest first) into one root: h0 . (h1 . (h2 ...))."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _range_hash(start: int, end: int, get_node: GetNode) -> bytes:
    """Return MTH of leaves [start, end), a range aligned as in the RFC recursion.

    Args:
        start: first leaf, a multiple of the largest power of two <= end - start.
        end: one past the last leaf (> start).
        get_node: callback returning perfect-subtree hashes.

    Returns:
        The Merkle tree hash of the range, folded from its perfect subtrees.
    """
    parts: list[bytes] = []
    pos = start
    while pos < end:
        level = (end - pos).bit_length() - 1  # pos is a multiple of 2**level: see Args
        parts.append(get_node(level, pos >> level))
        pos += 1 << level
    return _fold_right(parts)


def _check_size(size: int) -> None:
    """Raise ProofError when ``size`` is negative."""
    if size < 0:
        raise ProofError(PROOF_BAD_SIZE, f"tree size {size} is negative")


def root(get_node: GetNode, size: int) -> bytes:
    """Return the Merkle tree hash of the first ``size`` leaves.

    Args:
        get_node: callback ``(level, index) -> hash`` for perfect subtrees.
        size: number of leaves; 0 gives SHA-256 of the empty string.

    Returns:
        The 32-byte root hash.
    """
    _check_size(size)
    if size == 0:
        return EMPTY_ROOT
    return _range_hash(0, size, get_node)


def inclusion_proof(index: int, size: int, get_node: GetNode) -> list[bytes]:
    """Return the RFC 9162 inclusion path PATH(index, D[0:size]), leaf side first.

    Args:
        index: zero-based leaf index, ``0 <= index < size``.
        size: tree size.
        get_node: callback ``(level, index) -> hash`` for perfect subtrees.

    Returns:
        The list of sibling hashes.

    Raises:
        ProofError: ``bad_size`` or ``index_out_of_range``.
    """
    _check_size(size)
    if size == 0:
        raise ProofError(PROOF_BAD_SIZE, "an empty tree has no inclusion proofs")
    if not 0 <= index < size:
        raise ProofError(PROOF_INDEX_OUT_OF_RANGE, f"leaf {index} not in tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index - start < k:
            path.append(_range_hash(start + k, end, get_node))
            end = start + k
        else:
            path.append(_range_hash(start, start + k, get_node))
            start += k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, get_node: GetNode) -> list[bytes]:
    """Return the RFC 9162 consistency proof PROOF(old_size, D[0:new_size]).

    RFC 9162 defines proofs for ``0 < old_size <= new_size`` only; an old size of 0 is
    refused, as transparency-dev does (every tree extends the empty one: nothing to prove).
    ``old_size == new_size`` gives an empty proof.

    Args:
        old_size: size of the earlier tree, ``1 <= old_size <= new_size``.
        new_size: size of the later tree.
        get_node: callback ``(level, index) -> hash`` for perfect subtrees.

    Returns:
        The list of hashes, innermost first.

    Raises:
        ProofError: ``bad_size`` when the old size is 0 or the sizes are reversed.
    """
    if old_size <= 0:
        raise ProofError(PROOF_BAD_SIZE, f"old size {old_size}: RFC 9162 needs 1 or more")
    if new_size < old_size:
        raise ProofError(PROOF_BAD_SIZE, f"new size {new_size} < old size {old_size}")
    if old_size == new_size:
        return []
    proof: list[bytes] = []
    start, end, complete = 0, new_size, True
    while old_size - start < end - start:
        k = _largest_power_of_two_below(end - start)
        if old_size - start <= k:
            proof.append(_range_hash(start + k, end, get_node))
            end = start + k
        else:
            proof.append(_range_hash(start, start + k, get_node))
            start += k
            complete = False
    if not complete:
        proof.append(_range_hash(start, end, get_node))
    proof.reverse()
    return proof


def inclusion_proof_length(index: int, size: int) -> int:
    """Return how many hashes the inclusion proof of ``index`` in ``size`` holds."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def consistency_proof_length(old_size: int, new_size: int) -> int:
    """Return how many hashes the consistency proof from ``old_size`` to ``new_size`` holds."""
    if old_size in (0, new_size):
        return 0
    index = old_size - 1
    inner = (index ^ (new_size - 1)).bit_length()
    border = (index >> inner).bit_count()
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits of old_size
    seed = 0 if old_size == 1 << shift else 1
    return seed + (inner - shift) + border


def _check_hash(h: bytes, what: str) -> None:
    """Raise ProofError unless ``h`` is a 32-byte hash."""
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        raise ProofError(PROOF_BAD_HASH, f"{what} is not a {HASH_SIZE}-byte hash")


def check_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Verify an inclusion proof per RFC 9162 section 2.1.3.2, raising on failure.

    Args:
        leaf: the leaf HASH (``leaf_hash(data)``), not the data.
        index: zero-based leaf index.
        size: tree size of ``root_hash``.
        proof: the inclusion path, leaf side first.
        root_hash: the trusted root of the tree of ``size`` leaves.

    Raises:
        ProofError: with code ``bad_size``, ``index_out_of_range``, ``bad_hash``,
            ``bad_proof_length`` or ``root_mismatch``.
    """
    if size <= 0:
        raise ProofError(PROOF_BAD_SIZE, "inclusion needs a tree of at least one leaf")
    if not 0 <= index < size:
        raise ProofError(PROOF_INDEX_OUT_OF_RANGE, f"leaf {index} not in tree of size {size}")
    _check_hash(leaf, "leaf")
    _check_hash(root_hash, "root")
    for h in proof:
        _check_hash(h, "proof element")
    if len(proof) != inclusion_proof_length(index, size):
        raise ProofError(PROOF_BAD_LENGTH, "inclusion proof has the wrong number of hashes")
    fn, sn, r = index, size - 1, bytes(leaf)
    for p in proof:
        if sn == 0:
            raise ProofError(PROOF_BAD_LENGTH, "inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(PROOF_BAD_LENGTH, "inclusion proof is too short")
    if r != root_hash:
        raise ProofError(PROOF_ROOT_MISMATCH, "inclusion proof does not lead to the root")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """Return True when ``proof`` shows leaf hash ``leaf`` at ``index`` under ``root_hash``."""
    try:
        check_inclusion(leaf, index, size, proof, root_hash)
    except (ProofError, TypeError):
        return False
    return True


def check_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Verify a consistency proof per RFC 9162 section 2.1.4.2, raising on failure.

    As RFC 9162 (and transparency-dev), ``old_size == 0`` is refused (``bad_size``);
    ``old_size == new_size`` needs an empty proof and equal roots.

    Args:
        old_size: size of the earlier tree.
        new_size: size of the later tree.
        old_root: trusted root of the earlier tree.
        new_root: trusted root of the later tree.
        proof: the consistency proof, innermost first.

    Raises:
        ProofError: with code ``bad_size``, ``bad_hash``, ``bad_proof_length`` or
            ``root_mismatch``.
    """
    if old_size <= 0 or new_size < old_size:
        raise ProofError(PROOF_BAD_SIZE, f"cannot go from size {old_size} to {new_size}")
    _check_hash(old_root, "old root")
    _check_hash(new_root, "new root")
    for h in proof:
        _check_hash(h, "proof element")
    if len(proof) != consistency_proof_length(old_size, new_size):
        raise ProofError(PROOF_BAD_LENGTH, "consistency proof has the wrong number of hashes")
    if old_size == new_size:
        if old_root != new_root:
            raise ProofError(PROOF_ROOT_MISMATCH, "same size but different roots")
        return
    _run_consistency(old_size, new_size, old_root, new_root, list(proof))


def _run_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: list[bytes]
) -> None:
    """Run the RFC 9162 2.1.4.2 loop for ``0 < old_size < new_size``."""
    if not path:
        raise ProofError(PROOF_BAD_LENGTH, "consistency proof is empty")
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(PROOF_BAD_LENGTH, "consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(PROOF_BAD_LENGTH, "consistency proof is too short")
    if fr != old_root:
        raise ProofError(PROOF_ROOT_MISMATCH, "consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError(PROOF_ROOT_MISMATCH, "consistency proof does not lead to the new root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Return True when ``proof`` shows the ``new_size`` tree extends the ``old_size`` tree."""
    try:
        check_consistency(old_size, new_size, old_root, new_root, proof)
    except (ProofError, TypeError):
        return False
    return True


def frontier_append(
    frontier: list[bytes], size: int, leaf: bytes
) -> tuple[list[bytes], list[tuple[int, int, bytes]]]:
    """Append one leaf hash to a compact range of perfect-subtree roots.

    Args:
        frontier: roots of the perfect subtrees of the ``size``-leaf tree, largest first.
        size: current number of leaves.
        leaf: the new leaf HASH (it becomes leaf ``size``).

    Returns:
        The new frontier, and the newly completed perfect nodes of level >= 1 as
        ``(level, index, hash)``, lowest level first.

    Raises:
        ProofError: ``bad_frontier`` when the frontier does not fit ``size``.
    """
    if size < 0:
        _check_size(size)
    if len(frontier) != size.bit_count():
        raise ProofError(PROOF_BAD_FRONTIER, f"frontier of {len(frontier)} for size {size}")
    if type(leaf) is not bytes or len(leaf) != HASH_SIZE:
        _check_hash(leaf, "leaf")
    new = list(frontier)
    if not size & 1:  # half of all appends complete no node
        new.append(leaf)
        return new, []
    completed: list[tuple[int, int, bytes]] = []
    node, level, rest = leaf, 0, size
    sha256 = hashlib.sha256
    while rest & 1:
        node = sha256(b"\x01" + new.pop() + node).digest()  # node_hash, inlined
        level += 1
        rest >>= 1
        completed.append((level, size >> level, node))
    new.append(node)
    return new, completed


def root_from_frontier(frontier: Sequence[bytes]) -> bytes:
    """Return the tree root folded from a frontier (empty frontier: the empty-tree root)."""
    return _fold_right(frontier)


def encode_frontier(frontier: Sequence[bytes]) -> bytes:
    """Return the frontier as concatenated 32-byte hashes."""
    for h in frontier:
        _check_hash(h, "frontier hash")
    return b"".join(frontier)


def decode_frontier(blob: bytes) -> list[bytes]:
    """Split concatenated 32-byte hashes back into a frontier.

    Raises:
        ProofError: ``bad_frontier`` when the length is not a multiple of 32.
    """
    if len(blob) % HASH_SIZE:
        raise ProofError(PROOF_BAD_FRONTIER, "frontier bytes are not whole hashes")
    return [bytes(blob[i : i + HASH_SIZE]) for i in range(0, len(blob), HASH_SIZE)]


class MemoryTree:
    """An in-memory tree of leaf hashes plus its perfect nodes, grown by frontier appends."""

    def __init__(self, leaves: Sequence[bytes] = ()) -> None:
        """Build a tree from leaf HASHES."""
        self.leaves: list[bytes] = []
        self.frontier: list[bytes] = []
        self.nodes: dict[tuple[int, int], bytes] = {}
        for leaf in leaves:
            self.append(leaf)

    @classmethod
    def from_data(cls, items: Sequence[bytes]) -> MemoryTree:
        """Build a tree whose leaves are the leaf hashes of ``items``."""
        return cls([leaf_hash(d) for d in items])

    @property
    def size(self) -> int:
        """Return the number of leaves."""
        return len(self.leaves)

    def append(self, leaf: bytes) -> int:
        """Append a leaf HASH; return its zero-based index."""
        index = len(self.leaves)
        self.frontier, completed = frontier_append(self.frontier, index, leaf)
        self.leaves.append(leaf)
        for level, i, h in completed:
            self.nodes[(level, i)] = h
        return index

    def append_data(self, data: bytes) -> int:
        """Append ``leaf_hash(data)``; return its zero-based index."""
        return self.append(leaf_hash(data))

    def get_node(self, level: int, index: int) -> bytes:
        """Return a stored perfect node; KeyError when it does not exist (yet)."""
        if level == 0:
            if not 0 <= index < len(self.leaves):
                raise KeyError((level, index))
            return self.leaves[index]
        return self.nodes[(level, index)]

    def root(self, size: int | None = None) -> bytes:
        """Return the root of the first ``size`` leaves (default: all)."""
        return root(self.get_node, self._size_or_all(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
        return inclusion_proof(index, self._size_or_all(size), self.get_node)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Return the consistency proof between two sizes of this tree."""
        return consistency_proof(old_size, self._size_or_all(new_size), self.get_node)

    def _size_or_all(self, size: int | None) -> int:
        """Return ``size`` (default: all leaves) when this tree has that many leaves."""
        if size is None:
            return len(self.leaves)
        if not 0 <= size <= len(self.leaves):
            raise ProofError(PROOF_BAD_SIZE, f"tree has {len(self.leaves)} leaves, not {size}")
        return size

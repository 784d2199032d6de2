"""The Merkle tree recomputed from entry hashes, and stored tree data checked against it (pure).

Stored tree nodes (``ledger_tree_nodes``) and the chain head's frontier are conveniences
for building proofs quickly; an owner of the database could write anything there. So
verification never uses them as evidence: it folds the entry hashes into a frontier itself
(:class:`RootTracker`), takes every checkpoint root from that, and then compares the stored
nodes and frontier with the recomputation, naming the first wrong node.

Stored nodes are compared level by level through a running SHA-256 of each level's hashes
(no node list in memory); only when a level differs is it recomputed again to name the
first wrong index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ledger import merkle
from ledger.verify import Problem


@dataclass(slots=True)
class RootTracker:
    """Fold entry hashes into a Merkle frontier, noting the root at the wanted sizes.

    With ``nodes=True`` it also keeps, per level, the count and a running hash of every
    perfect node completed, for :func:`check_nodes`.
    """

    wanted: set[int]
    nodes: bool = False
    size: int = 0
    frontier: list[bytes] = field(default_factory=list)
    roots: dict[int, bytes] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=dict)
    digests: dict[int, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Note the empty tree's root when size 0 is wanted."""
        if 0 in self.wanted:
            self.roots[0] = merkle.EMPTY_ROOT

    def add(self, entry_hash_hex: str) -> None:
        """Append the leaf of one entry hash (hex)."""
        self.add_digest(bytes.fromhex(entry_hash_hex))

    def add_digest(self, entry_hash: bytes) -> None:
        """Append the leaf of one entry hash (32 bytes).

        ``merkle.frontier_append`` inlined, changing the frontier in place: this runs once
        per entry on every verification.
        """
        sha256 = hashlib.sha256
        node = sha256(b"\x00" + entry_hash).digest()  # merkle.leaf_hash
        frontier, rest, level = self.frontier, self.size, 0
        while rest & 1:
            node = sha256(b"\x01" + frontier.pop() + node).digest()  # merkle.node_hash
            level += 1
            rest >>= 1
            if self.nodes:
                self.counts[level] = self.counts.get(level, 0) + 1
                digest = self.digests.get(level)
                if digest is None:
                    digest = self.digests[level] = sha256()
                digest.update(node)
        frontier.append(node)
        self.size += 1
        if self.size in self.wanted:
            self.roots[self.size] = merkle.root_from_frontier(frontier)

    def add_block(self, entry_hashes: list[bytes]) -> None:
        """Append ``len(entry_hashes)`` leaves (32-byte hashes), the same as ``add_digest`` each.

        A block whose length is a power of two, starting at a multiple of it, with no root
        wanted inside it and no node digests kept, is folded level by level into one
        perfect subtree (fewer Python steps per leaf); any other block goes leaf by leaf.
        """
        count, size = len(entry_hashes), self.size
        if (
            count < 2
            or count & (count - 1)
            or size % count
            or self.nodes
            or any(size < w < size + count for w in self.wanted)
        ):
            for h in entry_hashes:
                self.add_digest(h)
            return
        sha256 = hashlib.sha256
        nodes = [sha256(b"\x00" + h).digest() for h in entry_hashes]
        while len(nodes) > 1:
            nodes = [
                sha256(b"\x01" + a + b).digest()
                for a, b in zip(nodes[::2], nodes[1::2], strict=True)
            ]
        node, frontier, rest = nodes[0], self.frontier, size // count
        while rest & 1:
            node = sha256(b"\x01" + frontier.pop() + node).digest()
            rest >>= 1
        frontier.append(node)
        self.size = size + count
        if self.size in self.wanted:
            self.roots[self.size] = merkle.root_from_frontier(frontier)


def nodes_at_level(entry_hashes: Iterable[str], level: int) -> Iterator[bytes]:
    """Yield the recomputed perfect nodes of ``level`` (>= 1), in index order."""
    frontier: list[bytes] = []
    for size, digest in enumerate(entry_hashes):
        leaf = merkle.leaf_hash(bytes.fromhex(digest))
        frontier, completed = merkle.frontier_append(frontier, size, leaf)
        for lv, _, node in completed:
            if lv == level:
                yield node


def check_frontier(tracker: RootTracker, stored: bytes) -> Problem | None:
    """Compare the stored head frontier with the recomputed one; name the first difference."""
    try:
        found = merkle.decode_frontier(stored)
    except merkle.ProofError:
        return Problem(
            None,
            "frontier_mismatch",
            f"expected the head frontier as whole 32-byte hashes, found {len(stored)} bytes",
        )
    want = tracker.frontier
    if len(found) != len(want):
        return Problem(
            None,
            "frontier_mismatch",
            f"expected {len(want)} hashes in the head frontier of {tracker.size} entries, "
            f"found {len(found)}",
        )
    levels = [lv for lv in range(tracker.size.bit_length() - 1, -1, -1) if tracker.size >> lv & 1]
    for k, (a, b, lv) in enumerate(zip(want, found, levels, strict=True)):
        if a != b:
            index = (tracker.size >> lv) - 1
            return Problem(
                None,
                "frontier_mismatch",
                f"head frontier hash {k} (subtree level {lv}, index {index}) should be "
                f"{a.hex()}, found {b.hex()}",
            )
    return None


StoredLevel = Callable[[int], Iterable[tuple[int, bytes]]]


def check_nodes(
    tracker: RootTracker,
    stored_levels: Iterable[int],
    stored_level: StoredLevel,
    recomputed_level: Callable[[int], Iterable[bytes]],
) -> Problem | None:
    """Compare every stored perfect node with the recomputation; name the first wrong one.

    Args:
        tracker: fed with every entry hash, ``nodes=True``.
        stored_levels: the distinct levels present in the node store.
        stored_level: ``level -> (index, hash)`` rows of that level in index order.
        recomputed_level: ``level -> hashes`` of that level recomputed, in index order.

    Returns:
        ``node_missing``, ``node_extra`` or ``node_mismatch`` naming (level, index), or None.
    """
    levels = sorted(set(stored_levels) | set(tracker.counts))
    for level in levels:
        expected = tracker.counts.get(level, 0)
        digest = hashlib.sha256()
        seen = 0
        for index, node in stored_level(level):
            if index != seen or seen >= expected:
                at = seen if seen < expected else index
                return _node_problem(level, at, seen < expected)
            digest.update(node)
            seen += 1
        if seen < expected:
            return _node_problem(level, seen, True)
        if expected and digest.digest() != tracker.digests[level].digest():
            pairs = zip(recomputed_level(level), stored_level(level), strict=False)
            for want, (index, node) in pairs:
                if want != node:
                    return Problem(
                        None,
                        "node_mismatch",
                        f"tree node (level {level}, index {index}) should be {want.hex()}, "
                        f"found {node.hex()}",
                    )
    return None


def _node_problem(level: int, index: int, missing: bool) -> Problem:
    """Return the problem of a node absent from, or not belonging in, the node store."""
    if missing:
        return Problem(
            None, "node_missing", f"tree node (level {level}, index {index}) is not stored"
        )
    return Problem(
        None,
        "node_extra",
        f"tree node (level {level}, index {index}) is stored but the entries have no such node",
    )


__all__ = ["RootTracker", "check_frontier", "check_nodes", "nodes_at_level"]

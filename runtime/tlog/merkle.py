"""RFC 9162 Merkle trees: hashes, roots, inclusion and consistency proofs, compact ranges.

The hashing is RFC 6962's, unchanged in RFC 9162 §2.1: a leaf is SHA-256(0x00 ‖ entry),
an interior node SHA-256(0x01 ‖ left ‖ right), and the tree of ``n`` leaves splits at
the largest power of two below ``n``. Seen level by level, that tree is the complete
binary tree over ``n`` leaves in which a node lacking its right child is its left
child, unchanged. So every node that hashes ``2**level`` leaves has a fixed address,
:class:`NodeID`, and never changes once complete: that is what a log stores (C2SP
tlog-tiles keeps levels 0, 8, 16 ...) and what proofs are made of.

Two kinds of function live here:

- the log's: :class:`CompactRange` to append leaves and learn which nodes became
  complete, and :func:`inclusion_nodes` / :func:`consistency_nodes` to name the stored
  nodes a proof needs, which :meth:`ProofNodes.rehash` turns into the RFC's proof;
- the verifier's: :func:`root_from_inclusion_proof`, :func:`verify_inclusion` and
  :func:`verify_consistency`, the RFC 9162 §2.1.3.2 and §2.1.4.2 algorithms, which
  raise :class:`ProofError` saying which check failed.

:func:`inclusion_proof` and :func:`consistency_proof` build proofs from all the leaves,
straight from the RFC's recursive definitions: for tests, small trees and the witness.

Everything is pure: no I/O, no clocks, no global state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "NodeID",
    "ProofError",
    "ProofNodes",
    "consistency_nodes",
    "consistency_proof",
    "inclusion_nodes",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Bytes in a SHA-256 hash, and so in every leaf, node and root hash."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class ProofError(ValueError):
    """A proof did not verify; the message says which check failed and why."""


def leaf_hash(entry: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 ‖ entry)."""
    return hashlib.sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (RFC 9162 §2.1.1 MTH) of a tree with these leaf hashes.

    Iterative and O(n) time, O(log n) memory: the leaves are folded into the roots of
    perfect subtrees as they come, exactly as :meth:`CompactRange.append` does.
    Raises ValueError if a leaf hash is not :data:`HASH_SIZE` bytes.
    """
    stack: list[bytes] = []
    for count, hashed in enumerate(leaf_hashes):
        _check_hash(hashed, f"leaf hash {count}")
        # Each trailing one bit of `count` is a perfect subtree this leaf completes.
        while count & 1:
            hashed = node_hash(stack.pop(), hashed)
            count >>= 1
        stack.append(hashed)
    return _fold_right(stack) if stack else EMPTY_ROOT


@dataclass(frozen=True, order=True)
class NodeID:
    """The address of a perfect subtree: where its hash is stored."""

    level: int
    """Height above the leaves: a node at level ``l`` covers ``2**l`` leaves."""
    index: int
    """Position among the nodes of its level, from 0: it covers leaves
    ``[index * 2**level, (index + 1) * 2**level)``."""

    def __post_init__(self) -> None:
        if self.level < 0 or self.index < 0:
            raise ValueError(f"a node's level and index are never negative: {self}")


@dataclass(frozen=True)
class ProofNodes:
    """The nodes whose hashes make a proof, in proof order. Near the right edge of a
    tree whose size is not a power of two, one proof element is not a stored perfect
    subtree but the hash of several: ids[begin:end] are those, to be combined by rehash().

    ``begin == end`` when every element is a stored node; otherwise ``end - begin`` is
    at least 2, listed largest (leftmost) first.
    """

    ids: tuple[NodeID, ...]
    """The perfect subtrees to fetch, in proof order."""
    begin: int
    """Start of the run of ids that :meth:`rehash` combines into one proof element."""
    end: int
    """End (exclusive) of that run."""

    def __post_init__(self) -> None:
        if not 0 <= self.begin <= self.end <= len(self.ids):
            raise ValueError(
                f"begin {self.begin} and end {self.end} do not delimit a run of {len(self.ids)} ids"
            )

    def rehash(self, hashes: Sequence[bytes]) -> list[bytes]:
        """Given the hashes of self.ids (same order), return the proof (list of hashes)."""
        if len(hashes) != len(self.ids):
            raise ValueError(f"{len(self.ids)} node ids but {len(hashes)} hashes")
        if self.end - self.begin < 2:
            return list(hashes)
        combined = _fold_right(hashes[self.begin : self.end])
        return [*hashes[: self.begin], combined, *hashes[self.end :]]


def inclusion_nodes(index: int, size: int) -> ProofNodes:
    """The nodes of the inclusion proof (RFC 9162 §2.1.3.1 PATH) of leaf `index`.

    Raises ValueError unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    return _path_nodes(NodeID(0, index), size, [])


def consistency_nodes(size1: int, size2: int) -> ProofNodes:
    """The nodes of the consistency proof (RFC 9162 §2.1.4.1 PROOF) from `size1` to `size2`.

    Requires ``0 < size1 <= size2`` (else ValueError); equal sizes need no proof.
    """
    if not 0 < size1 <= size2:
        raise ValueError(
            f"no consistency proof from size {size1} to size {size2}: need 0 < size1 <= size2"
        )
    if size1 == size2:
        return ProofNodes((), 0, 0)
    # The proof starts at the old tree's last perfect subtree and climbs the new tree
    # from there. When the old tree is itself perfect, that subtree is its root, which
    # the verifier already holds, so the RFC leaves it out.
    level = (size1 & -size1).bit_length() - 1
    start = NodeID(level, (size1 >> level) - 1)
    return _path_nodes(start, size2, [] if size1 & (size1 - 1) == 0 else [start])


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The inclusion proof of leaf `index`, by RFC 9162 §2.1.3.1's recursive PATH.

    A reference built from all the leaves: for tests, small trees and the witness.
    Raises ValueError unless ``0 <= index < len(leaf_hashes)``.
    """
    if not 0 <= index < len(leaf_hashes):
        raise ValueError(f"leaf index {index} is not in a tree of size {len(leaf_hashes)}")
    return _path(index, leaf_hashes)


def consistency_proof(size1: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The consistency proof from `size1` to the whole tree, by RFC 9162 §2.1.4.1's PROOF.

    A reference built from all the leaves of the larger tree. Requires
    ``0 < size1 <= len(leaf_hashes)`` (else ValueError).
    """
    if not 0 < size1 <= len(leaf_hashes):
        raise ValueError(
            f"no consistency proof from size {size1} to size {len(leaf_hashes)}: "
            "need 0 < size1 <= size2"
        )
    return _subproof(size1, leaf_hashes, True)


@dataclass(frozen=True)
class PathStep:
    """One step of an inclusion proof's audit path, from the leaf up."""

    sibling: bytes
    """The hash the proof gives at this step."""
    sibling_is_left: bool
    """Whether the sibling is the left child (the path's own node is then the right one)."""
    node: bytes
    """The parent the two make: node_hash(left, right). The last step's is the root."""


def audit_path(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]) -> list[PathStep]:
    """The steps `proof` takes from leaf `index` of a tree of `size` to its root
    (RFC 9162 §2.1.3.2), for drawing and for :func:`root_from_inclusion_proof`.

    Raises ProofError if the index is outside the tree, a hash has the wrong length, or
    the proof has more or fewer hashes than the path from that leaf to the root.
    """
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")
    _check_proof_hash(leaf_hash, "leaf hash")
    _check_proof_hashes(proof)
    expected = _inclusion_length(index, size)
    if len(proof) != expected:
        raise ProofError(
            f"inclusion proof has {len(proof)} hashes; leaf {index} of a tree of size "
            f"{size} needs {expected}"
        )
    # RFC 9162 §2.1.3.2, steps 2-5: fn walks the leaf's position up the tree, sn the
    # last leaf's; where they meet the right edge, a missing right sibling is skipped.
    fn, sn = index, size - 1
    result = leaf_hash
    steps = []
    for sibling in proof:
        if sn == 0:
            raise ProofError("inclusion proof continues past the root")
        left = bool(fn & 1 or fn == sn)
        if left:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        steps.append(PathStep(sibling, left, result))
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof ends before reaching the root")
    return steps


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """The root that `proof` leads to from leaf `index` of a tree of `size` (RFC 9162 §2.1.3.2).

    Raises ProofError as :func:`audit_path` does.
    """
    steps = audit_path(leaf_hash, index, size, proof)
    return steps[-1].node if steps else leaf_hash


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `proof` shows leaf `index` of the tree of `size` whose root is `root`.

    Raises ProofError saying which check failed.
    """
    _check_proof_hash(root, "root")
    computed = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if computed != root:
        raise ProofError(
            f"inclusion proof for leaf {index} of a tree of size {size} leads to root "
            f"{computed.hex()}, not the expected {root.hex()}"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of `size2` and `root2` extends the tree of `size1` and `root1`.

    RFC 9162 §2.1.4.2 for ``0 < size1 < size2``. Equal sizes need an empty proof and
    equal roots; the empty tree (size1 0) needs an empty proof and ``root1 ==
    EMPTY_ROOT``, since every tree extends it. Raises ProofError saying which check
    failed.
    """
    if size1 < 0 or size2 < 0:
        raise ProofError(f"tree sizes are never negative: {size1}, {size2}")
    if size1 > size2:
        raise ProofError(f"size {size2} is smaller than size {size1}: a log never shrinks")
    _check_proof_hash(root1, "root1")
    _check_proof_hash(root2, "root2")
    if size1 == size2 or size1 == 0:
        if proof:
            raise ProofError(
                f"consistency proof from size {size1} to size {size2} must be empty, "
                f"has {len(proof)} hashes"
            )
        if size1 == 0 and root1 != EMPTY_ROOT:
            raise ProofError(f"root1 {root1.hex()} is not the root of the empty tree")
        if size1 == size2 and root1 != root2:
            raise ProofError(
                f"trees of the same size {size1} have different roots "
                f"{root1.hex()} and {root2.hex()}"
            )
        return
    _check_proof_hashes(proof)
    expected = _consistency_length(size1, size2)
    if len(proof) != expected:
        raise ProofError(
            f"consistency proof has {len(proof)} hashes; size {size1} to size {size2} "
            f"needs {expected}"
        )
    # RFC 9162 §2.1.4.2. Step 2: a perfect old tree is its own last subtree, and the
    # proof leaves out its root because the verifier holds it.
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # Steps 3-4: start from the old tree's last perfect subtree.
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Step 5-6: fr rebuilds the old root, sr the new one, from the same hashes.
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof continues past the new root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofError("consistency proof ends before reaching the new root")
    if fr != root1:
        raise ProofError(
            f"consistency proof leads to old root {fr.hex()} for size {size1}, "
            f"not the expected {root1.hex()}"
        )
    if sr != root2:
        raise ProofError(
            f"consistency proof leads to new root {sr.hex()} for size {size2}, "
            f"not the expected {root2.hex()}"
        )


class CompactRange:
    """The right edge of a tree of `size` leaves: the roots of its perfect subtrees,
    largest first (popcount(size) hashes).

    The sequencer keeps one, appends each batch's leaf hashes and stores the nodes that
    :meth:`append` reports; :meth:`ids_for` names the stored nodes to reload it from.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        """A compact range of `size` leaves from its stored hashes (see :meth:`ids_for`).

        Raises ValueError unless there are popcount(size) hashes of HASH_SIZE bytes.
        """
        if size < 0:
            raise ValueError(f"a tree size is never negative: {size}")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of size {size} has {size.bit_count()} perfect subtrees "
                f"on its right edge, got {len(hashes)} hashes"
            )
        for position, hashed in enumerate(hashes):
            _check_hash(hashed, f"compact range hash {position}")
        self._size = size
        self._hashes = [bytes(hashed) for hashed in hashes]

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The roots of the perfect subtrees, largest (leftmost) first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[NodeID, bytes]]:
        """Add one leaf; return every node it completed: the leaf itself (level 0) and
        each perfect subtree it closed, lowest first.

        Raises ValueError if `leaf_hash` is not HASH_SIZE bytes.
        """
        _check_hash(leaf_hash, "leaf hash")
        position = self._size
        hashed = bytes(leaf_hash)
        completed = [(NodeID(0, position), hashed)]
        level = 0
        # Each trailing one bit of the old size is a subtree of that height waiting
        # for a right sibling of the same height: the new one.
        while position & 1:
            hashed = node_hash(self._hashes.pop(), hashed)
            position >>= 1
            level += 1
            completed.append((NodeID(level, position), hashed))
        self._hashes.append(hashed)
        self._size += 1
        return completed

    def extend(self, leaf_hashes: Sequence[bytes], every: int) -> list[tuple[NodeID, bytes]]:
        """Add leaves; return the interior nodes they completed at levels that are
        multiples of `every` (8 for the levels hash tiles store), lowest first per leaf.

        The same tree as :meth:`append` per leaf, without building a NodeID for every
        node: the sequencer's batches of a thousand leaves spent a tenth of their time there.
        Raises ValueError, having added nothing, if a leaf hash is not HASH_SIZE bytes.
        """
        for count, hashed in enumerate(leaf_hashes):
            _check_hash(hashed, f"leaf hash {count}")
        hashes, position, completed = self._hashes, self._size, []
        for hashed in leaf_hashes:
            index, level = position, 0
            while index & 1:
                hashed = hashlib.sha256(_NODE_PREFIX + hashes.pop() + hashed).digest()
                index >>= 1
                level += 1
                if level % every == 0:
                    completed.append((NodeID(level, index), hashed))
            hashes.append(hashed)
            position += 1
        self._size = position
        return completed

    def root(self) -> bytes:
        """The root of the tree: :data:`EMPTY_ROOT` for size 0."""
        return _fold_right(self._hashes) if self._hashes else EMPTY_ROOT

    def ids(self) -> list[NodeID]:
        """The NodeIDs of :attr:`hashes`, largest first."""
        return self.ids_for(self._size)

    @staticmethod
    def ids_for(size: int) -> list[NodeID]:
        """The NodeIDs of the compact range of a tree of `size`, largest first."""
        if size < 0:
            raise ValueError(f"a tree size is never negative: {size}")
        return _range_ids(0, size)

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size}, hashes=[{len(self._hashes)} hashes])"


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    """The root over adjacent subtrees, largest first, each smaller than the one before.

    MTH splits at the largest power of two, so such a run hashes right to left.
    """
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _range_ids(begin: int, end: int) -> list[NodeID]:
    """The perfect subtrees covering leaves [begin, end), largest first.

    `begin` must be a multiple of a power of two above ``end - begin``, as it is for
    the whole tree (begin 0) and for the partial sibling on a tree's right edge.
    """
    ids = []
    for level in reversed(range((end - begin).bit_length())):
        if (end - begin) >> level & 1:
            ids.append(NodeID(level, begin >> level))
            begin += 1 << level
    return ids


def _path_nodes(start: NodeID, size: int, prefix: list[NodeID]) -> ProofNodes:
    """`prefix`, then the siblings on the way from `start` to the root of a tree of `size`."""
    ids = list(prefix)
    begin = end = -1
    level, index = start.level, start.index
    # Climb until the node is the root: index 0 at a level whose width covers the tree.
    while index or (1 << level) < size:
        sibling = index ^ 1
        first, last = sibling << level, (sibling + 1) << level
        if last <= size:
            ids.append(NodeID(level, sibling))
        elif first < size:
            # A right sibling cut off by the tree's edge is not stored: it is the hash
            # of the perfect subtrees covering [first, size).
            begin = len(ids)
            ids.extend(_range_ids(first, size))
            end = len(ids)
        # Otherwise there is no right sibling: the node is promoted unchanged.
        index >>= 1
        level += 1
    if end - begin < 2:
        begin = end = len(ids)
    return ProofNodes(tuple(ids), begin, end)


def _path(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]), over leaf hashes, deepest sibling first."""
    n = len(leaf_hashes)
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return [*_path(index, leaf_hashes[:k]), root(leaf_hashes[k:])]
    return [*_path(index - k, leaf_hashes[k:]), root(leaf_hashes[:k])]


def _subproof(m: int, leaf_hashes: Sequence[bytes], whole: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), over leaf hashes."""
    n = len(leaf_hashes)
    if m == n:
        return [] if whole else [root(leaf_hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, leaf_hashes[:k], whole), root(leaf_hashes[k:])]
    return [*_subproof(m - k, leaf_hashes[k:], False), root(leaf_hashes[:k])]


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1): where MTH splits."""
    return 1 << ((n - 1).bit_length() - 1)


def _inclusion_length(index: int, size: int) -> int:
    """How many hashes the inclusion proof of leaf `index` in a tree of `size` has.

    Below the level where the paths of `index` and of the last leaf part, every level
    has a sibling; above it, only the levels where the node is a right child do.
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def _consistency_length(size1: int, size2: int) -> int:
    """How many hashes the consistency proof from `size1` to `size2` has (0 < size1 < size2).

    The path from the old tree's last perfect subtree to the new root, plus that
    subtree itself unless it is the old root.
    """
    level = (size1 & -size1).bit_length() - 1
    nodes_at_level = ((size2 - 1) >> level) + 1
    path = _inclusion_length((size1 >> level) - 1, nodes_at_level)
    return path + (0 if size1 & (size1 - 1) == 0 else 1)


def _check_hash(hashed: bytes, what: str) -> None:
    if len(hashed) != HASH_SIZE:
        raise ValueError(f"{what} is {len(hashed)} bytes, not {HASH_SIZE}")


def _check_proof_hash(hashed: bytes, what: str) -> None:
    if len(hashed) != HASH_SIZE:
        raise ProofError(f"{what} is {len(hashed)} bytes, not {HASH_SIZE}")


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for position, hashed in enumerate(proof):
        _check_proof_hash(hashed, f"proof hash {position}")

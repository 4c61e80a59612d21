"""RFC 9162 Merkle trees: published vectors, every proof of small trees, tampering, compact ranges.

The known answers are the certificate-transparency reference tree of eight leaves, as
published in two places that agree byte for byte:

- google/certificate-transparency ``cpp/merkletree/merkle_tree_test.cc``: ``kInputs``,
  ``kSHA256Roots``, ``kSHA256Paths`` (leaf numbers there start at 1) and
  ``kSHA256Proofs``;
- transparency-dev/merkle ``testonly/constants.go`` (``LeafInputs``, ``NodeHashes``,
  ``RootHashes``, ``CompactTrees``), ``testonly/reference_test.go``
  (``TestRefInclusionProof``, ``TestRefConsistencyProof``) and ``proof/verify_test.go``
  (``consistencyProofs``, which adds 6 → 7).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.tlog.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    CompactRange,
    NodeID,
    ProofError,
    ProofNodes,
    consistency_nodes,
    consistency_proof,
    inclusion_nodes,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

# --- The reference tree -----------------------------------------------------------

# kInputs (merkle_tree_test.cc) = LeafInputs() (constants.go).
LEAF_INPUTS = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]

# Roots of the first 0..8 leaves: kSHA256EmptyTreeHash and kSHA256Roots
# (merkle_tree_test.cc) = RootHashes() (constants.go).
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# Every perfect subtree of the 8-leaf tree, by level then index: NodeHashes() (constants.go).
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

# The compact range of each size 0..8 as (level, index) into NODE_HASHES: CompactTrees()
# (constants.go).
COMPACT_RANGES: list[list[tuple[int, int]]] = [
    [],
    [(0, 0)],
    [(1, 0)],
    [(1, 0), (0, 2)],
    [(2, 0)],
    [(2, 0), (0, 4)],
    [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)],
    [(3, 0)],
]

# (index from 0, tree size, proof): TestRefInclusionProof (reference_test.go), which
# holds kSHA256Paths (merkle_tree_test.cc, leaves numbered from 1) and adds three.
INCLUSION_VECTORS: list[tuple[int, int, list[str]]] = [
    (0, 1, []),
    (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

# (size1, size2, proof): kSHA256Proofs (merkle_tree_test.cc) = TestRefConsistencyProof
# (reference_test.go), plus 6 -> 7 from consistencyProofs (proof/verify_test.go).
CONSISTENCY_VECTORS: list[tuple[int, int, list[str]]] = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

# A hash that is in no tree here (sha256SomeHash in proof/verify_test.go).
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

REFERENCE_LEAVES = [leaf_hash(entry) for entry in LEAF_INPUTS]

# --- Helpers ----------------------------------------------------------------------


def unhex(hashes: list[str]) -> list[bytes]:
    """Hex strings to bytes."""
    return [bytes.fromhex(h) for h in hashes]


def synthetic_leaves(count: int) -> list[bytes]:
    """Distinct leaf hashes for the trees of the exhaustive and property tests."""
    return [leaf_hash(i.to_bytes(8, "big")) for i in range(count)]


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH written out recursively, to check the iterative root()."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def store_of(leaves: list[bytes]) -> dict[NodeID, bytes]:
    """Every node a sequencer would have stored after appending `leaves`."""
    compact = CompactRange()
    stored: dict[NodeID, bytes] = {}
    for hashed in leaves:
        stored.update(compact.append(hashed))
    return stored


def served(nodes: ProofNodes, size: int, stored: dict[NodeID, bytes]) -> list[bytes]:
    """A proof as the log serves it, checking it asks only for nodes complete at `size`."""
    for node in nodes.ids:
        assert (node.index + 1) << node.level <= size, f"{node} is not complete at size {size}"
    return nodes.rehash([stored[node] for node in nodes.ids])


def flip_bit(proof: list[bytes], position: int, bit: int) -> list[bytes]:
    """`proof` with one bit of one hash flipped."""
    changed = bytearray(proof[position])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:position], bytes(changed), *proof[position + 1 :]]


def rejected(check: Callable[..., None], *args: object) -> str:
    """The message of the ProofError `check(*args)` raises; fails the test if it passes."""
    with pytest.raises(ProofError) as caught:
        check(*args)
    assert str(caught.value)
    return str(caught.value)


PROVABLE_INCLUSIONS = [v for v in INCLUSION_VECTORS if v[2]]
PROVABLE_CONSISTENCIES = [v for v in CONSISTENCY_VECTORS if v[2]]


# --- Published vectors ------------------------------------------------------------


class TestHashing:
    """Leaves and nodes hash as RFC 6962 says, with 0x00 and 0x01 domain separation."""

    def test_empty_root_is_the_hash_of_nothing(self) -> None:
        """The empty tree's root is SHA-256 of the empty string."""
        assert EMPTY_ROOT.hex() == ROOTS[0]
        assert root([]) == EMPTY_ROOT

    def test_leaf_hashes_match_published_level_zero(self) -> None:
        """leaf_hash of each reference input is the published level-0 hash."""
        assert [h.hex() for h in REFERENCE_LEAVES] == NODE_HASHES[0]

    def test_node_hashes_match_published_interior_nodes(self) -> None:
        """node_hash of two published children is their published parent."""
        for level in range(1, len(NODE_HASHES)):
            below = unhex(NODE_HASHES[level - 1])
            parents = [node_hash(below[i], below[i + 1]).hex() for i in range(0, len(below), 2)]
            assert parents == NODE_HASHES[level]

    def test_leaf_and_node_hashes_are_domain_separated(self) -> None:
        """A leaf whose bytes are two hashes does not hash like the node of those two."""
        left, right = REFERENCE_LEAVES[:2]
        assert leaf_hash(left + right) != node_hash(left, right)
        assert len(leaf_hash(b"x")) == len(node_hash(left, right)) == HASH_SIZE


class TestPublishedVectors:
    """Roots, compact ranges and proofs of the reference tree equal the published ones."""

    @pytest.mark.parametrize("size", range(len(ROOTS)))
    def test_root_of_each_prefix_is_published(self, size: int) -> None:
        """root() of the first `size` leaves is the published root."""
        assert root(REFERENCE_LEAVES[:size]).hex() == ROOTS[size]

    @pytest.mark.parametrize("size", range(len(ROOTS)))
    def test_compact_range_of_each_prefix_is_published(self, size: int) -> None:
        """Appending leaf by leaf gives the published compact range and root."""
        compact = CompactRange()
        for hashed in REFERENCE_LEAVES[:size]:
            compact.append(hashed)
        published = COMPACT_RANGES[size]
        assert [h.hex() for h in compact.hashes] == [NODE_HASHES[lv][i] for lv, i in published]
        assert compact.ids() == [NodeID(lv, i) for lv, i in published]
        assert compact.root().hex() == ROOTS[size]

    @given(
        first=st.integers(0, 600),
        cuts=st.lists(st.integers(0, 300), max_size=4),
        every=st.sampled_from([1, 2, 8]),
    )
    @settings(max_examples=60, deadline=None)
    def test_extend_is_append_leaf_by_leaf(self, first: int, cuts: list[int], every: int) -> None:
        """extend() in any chunks gives append()'s tree, reporting its nodes at the levels asked."""
        leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(first + sum(cuts))]
        by_append, by_extend = CompactRange(), CompactRange()
        expected = []
        for hashed in leaves:
            expected += [n for n in by_append.append(hashed)[1:] if n[0].level % every == 0]
        reported = by_extend.extend(leaves[:first], every)
        position = first
        for cut in cuts:
            reported += by_extend.extend(leaves[position : position + cut], every)
            position += cut
        assert reported == expected
        assert by_extend.hashes == by_append.hashes and by_extend.size == by_append.size

    def test_extend_refuses_a_bad_leaf_and_adds_nothing(self) -> None:
        """A short leaf hash anywhere in the batch: ValueError, the range unchanged."""
        compact = CompactRange()
        with pytest.raises(ValueError, match="leaf hash 1"):
            compact.extend([leaf_hash(b"a"), b"short"], 8)
        assert compact.size == 0

    @pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
    def test_inclusion_proof_is_published(self, index: int, size: int, proof: list[str]) -> None:
        """Reference and stored-node proofs both equal the published one, which verifies."""
        leaves = REFERENCE_LEAVES[:size]
        expected = unhex(proof)
        assert inclusion_proof(index, leaves) == expected
        assert served(inclusion_nodes(index, size), size, store_of(leaves)) == expected
        verify_inclusion(leaves[index], index, size, expected, bytes.fromhex(ROOTS[size]))
        assert root_from_inclusion_proof(leaves[index], index, size, expected).hex() == ROOTS[size]

    @pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_VECTORS)
    def test_consistency_proof_is_published(self, size1: int, size2: int, proof: list[str]) -> None:
        """Reference and stored-node proofs both equal the published one, which verifies."""
        leaves = REFERENCE_LEAVES[:size2]
        expected = unhex(proof)
        assert consistency_proof(size1, leaves) == expected
        assert served(consistency_nodes(size1, size2), size2, store_of(leaves)) == expected
        root1, root2 = bytes.fromhex(ROOTS[size1]), bytes.fromhex(ROOTS[size2])
        verify_consistency(size1, size2, expected, root1, root2)


# --- Every proof of small trees ---------------------------------------------------

SMALL = 64
SMALL_LEAVES = synthetic_leaves(SMALL)


class TestEveryProofOfSmallTrees:
    """For every tree up to 64 leaves, stored-node proofs are the RFC's and verify."""

    @pytest.mark.parametrize("size", range(1, SMALL + 1))
    def test_root_is_the_recursive_mth(self, size: int) -> None:
        """The iterative root() equals MTH written out as the RFC defines it."""
        assert root(SMALL_LEAVES[:size]) == mth(SMALL_LEAVES[:size])

    @pytest.mark.parametrize("size", range(1, SMALL + 1))
    def test_inclusion_from_stored_nodes_is_the_reference_proof(self, size: int) -> None:
        """inclusion_nodes + rehash over stored nodes equals PATH, for every index."""
        leaves = SMALL_LEAVES[:size]
        stored, tree_root = store_of(leaves), mth(leaves)
        for index in range(size):
            proof = served(inclusion_nodes(index, size), size, stored)
            assert proof == inclusion_proof(index, leaves), f"index {index}"
            verify_inclusion(leaves[index], index, size, proof, tree_root)

    @pytest.mark.parametrize("size2", range(1, SMALL + 1))
    def test_consistency_from_stored_nodes_is_the_reference_proof(self, size2: int) -> None:
        """consistency_nodes + rehash over stored nodes equals PROOF, for every older size."""
        leaves = SMALL_LEAVES[:size2]
        stored, root2 = store_of(leaves), mth(leaves)
        for size1 in range(1, size2 + 1):
            proof = served(consistency_nodes(size1, size2), size2, stored)
            assert proof == consistency_proof(size1, leaves), f"size1 {size1}"
            verify_consistency(size1, size2, proof, mth(leaves[:size1]), root2)

    def test_the_combined_element_is_the_right_edge_of_the_tree(self) -> None:
        """A combined run has two or more nodes, tiling leaves up to the tree's last one."""
        for size in range(1, SMALL + 1):
            for nodes in [inclusion_nodes(i, size) for i in range(size)] + [
                consistency_nodes(s, size) for s in range(1, size + 1)
            ]:
                run = nodes.ids[nodes.begin : nodes.end]
                assert len(run) != 1
                for left, right in itertools.pairwise(run):
                    assert left.level > right.level
                    assert (left.index + 1) << left.level == right.index << right.level
                if run:
                    assert (run[-1].index + 1) << run[-1].level == size


# --- Tampering --------------------------------------------------------------------


class TestInclusionTampering:
    """A changed index, size, leaf, root or proof makes inclusion fail, saying why."""

    @pytest.mark.parametrize(("index", "size", "proof"), PROVABLE_INCLUSIONS)
    def test_proof_for_wrong_index_fails(self, index: int, size: int, proof: list[str]) -> None:
        """The proof of one leaf does not prove that leaf at another index."""
        hashes, tree_root = unhex(proof), bytes.fromhex(ROOTS[size])
        for wrong in {index - 1, index + 1, index ^ 2} - {index}:
            message = rejected(
                verify_inclusion, REFERENCE_LEAVES[index], wrong, size, hashes, tree_root
            )
            assert "not in a tree" in message or "needs" in message or "leads to root" in message

    @pytest.mark.parametrize(("index", "size", "proof"), PROVABLE_INCLUSIONS)
    def test_proof_for_wrong_size_fails(self, index: int, size: int, proof: list[str]) -> None:
        """The proof for one tree size does not verify as that of a taller or shorter tree."""
        hashes, tree_root, leaf = unhex(proof), bytes.fromhex(ROOTS[size]), REFERENCE_LEAVES[index]
        # Only sizes whose path has another shape: a proof binds the size through the
        # root, which the checkpoint signs together with the size (RFC 9162 §2.1.3.2).
        for wrong in (size * 2, size // 2):
            rejected(verify_inclusion, leaf, index, wrong, hashes, tree_root)

    def test_index_outside_the_tree_fails(self) -> None:
        """An index at or past the size is refused before any hashing."""
        leaf = REFERENCE_LEAVES[0]
        for index, size in ((8, 8), (9, 8), (0, 0), (-1, 8)):
            message = rejected(verify_inclusion, leaf, index, size, [], SOME_HASH)
            assert "not in a tree of size" in message

    @pytest.mark.parametrize(("index", "size", "proof"), PROVABLE_INCLUSIONS)
    def test_proof_for_wrong_leaf_fails(self, index: int, size: int, proof: list[str]) -> None:
        """Another leaf's hash at the same place does not verify."""
        wrong_leaf, tree_root = leaf_hash(b"WrongLeaf"), bytes.fromhex(ROOTS[size])
        message = rejected(verify_inclusion, wrong_leaf, index, size, unhex(proof), tree_root)
        assert "leads to root" in message

    @pytest.mark.parametrize(("index", "size", "proof"), PROVABLE_INCLUSIONS)
    def test_proof_against_wrong_root_fails(self, index: int, size: int, proof: list[str]) -> None:
        """The right proof does not verify against another root."""
        leaf, hashes = REFERENCE_LEAVES[index], unhex(proof)
        for wrong in (EMPTY_ROOT, SOME_HASH, bytes.fromhex(ROOTS[size - 1])):
            message = rejected(verify_inclusion, leaf, index, size, hashes, wrong)
            assert f"not the expected {wrong.hex()}" in message

    @pytest.mark.parametrize(("index", "size", "proof"), PROVABLE_INCLUSIONS)
    def test_flipped_bit_in_any_element_fails(
        self, index: int, size: int, proof: list[str]
    ) -> None:
        """Flipping any one bit of any proof hash breaks the proof."""
        leaf, hashes, tree_root = REFERENCE_LEAVES[index], unhex(proof), bytes.fromhex(ROOTS[size])
        for position in range(len(hashes)):
            for bit in range(HASH_SIZE * 8):
                tampered = flip_bit(hashes, position, bit)
                with pytest.raises(ProofError, match="leads to root"):
                    verify_inclusion(leaf, index, size, tampered, tree_root)

    @pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_VECTORS)
    def test_extra_element_fails(self, index: int, size: int, proof: list[str]) -> None:
        """A hash added before or after the proof makes it too long."""
        leaf, hashes, tree_root = REFERENCE_LEAVES[index], unhex(proof), bytes.fromhex(ROOTS[size])
        for longer in ([*hashes, tree_root], [tree_root, *hashes], [*hashes, SOME_HASH]):
            message = rejected(verify_inclusion, leaf, index, size, longer, tree_root)
            assert f"has {len(hashes) + 1} hashes" in message
            assert f"needs {len(hashes)}" in message

    @pytest.mark.parametrize(("index", "size", "proof"), PROVABLE_INCLUSIONS)
    def test_missing_element_fails(self, index: int, size: int, proof: list[str]) -> None:
        """A proof missing its first or last hash is too short."""
        leaf, hashes, tree_root = REFERENCE_LEAVES[index], unhex(proof), bytes.fromhex(ROOTS[size])
        for shorter in (hashes[1:], hashes[:-1]):
            message = rejected(verify_inclusion, leaf, index, size, shorter, tree_root)
            assert f"needs {len(hashes)}" in message

    def test_hash_of_wrong_length_fails(self) -> None:
        """A leaf, root or proof element that is not 32 bytes is refused as such."""
        index, size, proof = INCLUSION_VECTORS[4]
        leaf, hashes, tree_root = REFERENCE_LEAVES[index], unhex(proof), bytes.fromhex(ROOTS[size])
        with pytest.raises(ProofError, match="proof hash 1 is 31 bytes"):
            verify_inclusion(leaf, index, size, [hashes[0], hashes[1][:31], hashes[2]], tree_root)
        with pytest.raises(ProofError, match="proof hash 0 is 0 bytes"):
            verify_inclusion(leaf, index, size, [b"", *hashes[1:]], tree_root)
        with pytest.raises(ProofError, match="leaf hash is 9 bytes"):
            verify_inclusion(b"WrongLeaf", index, size, hashes, tree_root)
        with pytest.raises(ProofError, match="root is 0 bytes"):
            verify_inclusion(leaf, index, size, hashes, b"")

    def test_every_proof_of_small_trees_proves_only_its_own_leaf(self) -> None:
        """In trees up to 32 leaves, no proof verifies at another index or with a flipped bit."""
        for size in range(1, 33):
            leaves = SMALL_LEAVES[:size]
            tree_root = mth(leaves)
            for index in range(size):
                proof = inclusion_proof(index, leaves)
                for other in range(size):
                    if other != index:
                        rejected(verify_inclusion, leaves[index], other, size, proof, tree_root)
                for position in range(len(proof)):
                    tampered = flip_bit(proof, position, (index + position) % 256)
                    rejected(verify_inclusion, leaves[index], index, size, tampered, tree_root)


class TestConsistencyTampering:
    """A changed size, root or proof makes consistency fail, saying why."""

    @pytest.mark.parametrize(("size1", "size2", "proof"), PROVABLE_CONSISTENCIES)
    def test_proof_for_wrong_sizes_fails(self, size1: int, size2: int, proof: list[str]) -> None:
        """The proof between two sizes does not verify between others of another shape."""
        hashes = unhex(proof)
        root1, root2 = bytes.fromhex(ROOTS[size1]), bytes.fromhex(ROOTS[size2])
        for wrong1, wrong2 in (
            (size1 - 1, size2),
            (size1 + 1, size2),
            (size1 ^ 2, size2),
            (size1, size2 * 2),
            (size1, size2 // 2),
        ):
            rejected(verify_consistency, wrong1, wrong2, hashes, root1, root2)

    @pytest.mark.parametrize(("size1", "size2", "proof"), PROVABLE_CONSISTENCIES)
    def test_proof_against_wrong_roots_fails(
        self, size1: int, size2: int, proof: list[str]
    ) -> None:
        """A wrong old root, wrong new root or swapped roots fail, naming the root."""
        hashes = unhex(proof)
        root1, root2 = bytes.fromhex(ROOTS[size1]), bytes.fromhex(ROOTS[size2])
        message = rejected(verify_consistency, size1, size2, hashes, SOME_HASH, root2)
        # A perfect old tree's root is not in the proof but starts the path, so a wrong
        # one shows up as the wrong new root.
        perfect = size1 & (size1 - 1) == 0
        assert ("new root" if perfect else "old root") in message
        assert "new root" in rejected(verify_consistency, size1, size2, hashes, root1, SOME_HASH)
        rejected(verify_consistency, size1, size2, hashes, root2, root1)
        assert "root1 is 9 bytes" in rejected(
            verify_consistency, size1, size2, hashes, b"WrongRoot", root2
        )
        assert "root2 is 9 bytes" in rejected(
            verify_consistency, size1, size2, hashes, root1, b"WrongRoot"
        )

    @pytest.mark.parametrize(("size1", "size2", "proof"), PROVABLE_CONSISTENCIES)
    def test_flipped_bit_in_any_element_fails(
        self, size1: int, size2: int, proof: list[str]
    ) -> None:
        """Flipping any one bit of any proof hash breaks the proof."""
        hashes = unhex(proof)
        root1, root2 = bytes.fromhex(ROOTS[size1]), bytes.fromhex(ROOTS[size2])
        for position in range(len(hashes)):
            for bit in range(HASH_SIZE * 8):
                tampered = flip_bit(hashes, position, bit)
                with pytest.raises(ProofError, match="not the expected"):
                    verify_consistency(size1, size2, tampered, root1, root2)

    @pytest.mark.parametrize(("size1", "size2", "proof"), PROVABLE_CONSISTENCIES)
    def test_extra_or_missing_element_fails(self, size1: int, size2: int, proof: list[str]) -> None:
        """Garbage before or after the proof, or a truncated or empty proof, is the wrong length."""
        hashes = unhex(proof)
        root1, root2 = bytes.fromhex(ROOTS[size1]), bytes.fromhex(ROOTS[size2])
        for wrong in (
            [*hashes, root1],
            [*hashes, root2],
            [root1, *hashes],
            [root2, *hashes],
            [hashes[0], *hashes],
            hashes[:-1],
            hashes[1:],
            [],
        ):
            message = rejected(verify_consistency, size1, size2, wrong, root1, root2)
            assert f"has {len(wrong)} hashes" in message
            assert f"needs {len(hashes)}" in message
        with pytest.raises(ProofError, match="proof hash 0 is 0 bytes"):
            verify_consistency(size1, size2, [b"", *hashes[1:]], root1, root2)

    def test_every_proof_of_small_trees_proves_only_its_own_sizes(self) -> None:
        """Up to 32 leaves, no proof verifies for another old size or with a flipped bit."""
        for size2 in range(2, 33):
            leaves = SMALL_LEAVES[:size2]
            root2 = mth(leaves)
            for size1 in range(1, size2):
                proof = consistency_proof(size1, leaves)
                for other in range(1, size2):
                    if other != size1:
                        rejected(
                            verify_consistency, other, size2, proof, mth(leaves[:other]), root2
                        )
                for position in range(len(proof)):
                    tampered = flip_bit(proof, position, (size1 + position) % 256)
                    rejected(verify_consistency, size1, size2, tampered, mth(leaves[:size1]), root2)


# --- Sizes 0 and 1, equal sizes, malformed arguments ------------------------------


class TestEdgeCases:
    """Empty trees, single leaves, equal sizes and malformed arguments are handled explicitly."""

    def test_proof_error_is_a_value_error(self) -> None:
        """Callers that catch ValueError also catch a failed proof."""
        assert issubclass(ProofError, ValueError)

    def test_no_inclusion_in_the_empty_tree(self) -> None:
        """The empty tree has no leaves to prove."""
        with pytest.raises(ValueError, match="not in a tree of size 0"):
            inclusion_nodes(0, 0)
        with pytest.raises(ValueError, match="not in a tree of size 0"):
            inclusion_proof(0, [])
        with pytest.raises(ProofError, match="not in a tree of size 0"):
            root_from_inclusion_proof(REFERENCE_LEAVES[0], 0, 0, [])

    def test_no_inclusion_for_index_outside_the_tree(self) -> None:
        """inclusion_nodes and inclusion_proof refuse an index at or past the size, or negative."""
        for index, size in ((5, 5), (6, 5), (-1, 5)):
            with pytest.raises(ValueError, match="not in a tree"):
                inclusion_nodes(index, size)
            with pytest.raises(ValueError, match="not in a tree"):
                inclusion_proof(index, SMALL_LEAVES[:size])

    def test_single_leaf_tree_has_the_leaf_as_root_and_an_empty_proof(self) -> None:
        """In a tree of one leaf, the root is the leaf hash and the proof is empty."""
        leaf = REFERENCE_LEAVES[3]
        assert root([leaf]) == leaf
        assert inclusion_nodes(0, 1) == ProofNodes((), 0, 0)
        assert inclusion_proof(0, [leaf]) == []
        verify_inclusion(leaf, 0, 1, [], leaf)
        with pytest.raises(ProofError, match="leads to root"):
            verify_inclusion(leaf, 0, 1, [], REFERENCE_LEAVES[2])

    def test_no_consistency_proof_from_the_empty_tree_or_to_a_smaller_one(self) -> None:
        """consistency_nodes and consistency_proof need 0 < size1 <= size2."""
        for size1, size2 in ((0, 5), (0, 0), (6, 5), (-1, 5)):
            with pytest.raises(ValueError, match="need 0 < size1 <= size2"):
                consistency_nodes(size1, size2)
        with pytest.raises(ValueError, match="need 0 < size1 <= size2"):
            consistency_proof(0, SMALL_LEAVES[:5])
        with pytest.raises(ValueError, match="need 0 < size1 <= size2"):
            consistency_proof(6, SMALL_LEAVES[:5])

    def test_every_tree_extends_the_empty_tree(self) -> None:
        """From size 0, an empty proof and the empty root verify against any tree."""
        verify_consistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)
        verify_consistency(0, 8, [], EMPTY_ROOT, bytes.fromhex(ROOTS[8]))

    def test_consistency_from_the_empty_tree_needs_its_root_and_no_proof(self) -> None:
        """From size 0, a non-empty proof or another old root is refused."""
        root8 = bytes.fromhex(ROOTS[8])
        assert "must be empty" in rejected(
            verify_consistency, 0, 8, [EMPTY_ROOT], EMPTY_ROOT, root8
        )
        assert "not the root of the empty tree" in rejected(
            verify_consistency, 0, 8, [], SOME_HASH, root8
        )

    def test_equal_sizes_need_equal_roots_and_no_proof(self) -> None:
        """Between equal sizes the proof is empty and the roots must match."""
        root5 = bytes.fromhex(ROOTS[5])
        assert consistency_nodes(5, 5) == ProofNodes((), 0, 0)
        assert consistency_proof(5, REFERENCE_LEAVES[:5]) == []
        verify_consistency(5, 5, [], root5, root5)
        assert "different roots" in rejected(verify_consistency, 5, 5, [], root5, SOME_HASH)
        assert "must be empty" in rejected(verify_consistency, 5, 5, [EMPTY_ROOT], root5, root5)

    def test_a_log_that_shrinks_fails(self) -> None:
        """A newer tree smaller than the older one is refused, as are negative sizes."""
        root4, root5 = bytes.fromhex(ROOTS[4]), bytes.fromhex(ROOTS[5])
        assert "never shrinks" in rejected(verify_consistency, 5, 4, [], root5, root4)
        assert "never negative" in rejected(verify_consistency, -1, 4, [], root5, root4)

    def test_root_refuses_leaf_hashes_of_the_wrong_length(self) -> None:
        """root() takes leaf hashes, not entries: anything but 32 bytes is refused."""
        with pytest.raises(ValueError, match="leaf hash 1 is 3 bytes"):
            root([REFERENCE_LEAVES[0], b"abc"])

    def test_rehash_needs_one_hash_per_node(self) -> None:
        """rehash refuses more or fewer hashes than ids."""
        nodes = inclusion_nodes(2, 7)
        with pytest.raises(ValueError, match="hashes"):
            nodes.rehash([EMPTY_ROOT] * (len(nodes.ids) - 1))

    def test_malformed_node_ids_and_runs_are_refused(self) -> None:
        """NodeIDs are never negative, and a run lies within the ids."""
        with pytest.raises(ValueError, match="never negative"):
            NodeID(-1, 0)
        with pytest.raises(ValueError, match="do not delimit"):
            ProofNodes((NodeID(0, 0),), 1, 2)

    def test_compact_range_refuses_hashes_that_do_not_fit_the_size(self) -> None:
        """A compact range needs popcount(size) hashes of 32 bytes each."""
        with pytest.raises(ValueError, match="2 perfect subtrees"):
            CompactRange(3, [EMPTY_ROOT])
        with pytest.raises(ValueError, match="0 perfect subtrees"):
            CompactRange(0, [EMPTY_ROOT])
        with pytest.raises(ValueError, match="compact range hash 0 is 4 bytes"):
            CompactRange(1, [b"leaf"])
        with pytest.raises(ValueError, match="never negative"):
            CompactRange(-1)
        with pytest.raises(ValueError, match="never negative"):
            CompactRange.ids_for(-1)
        with pytest.raises(ValueError, match="leaf hash is 5 bytes"):
            CompactRange().append(b"entry")

    def test_empty_compact_range_has_the_empty_root(self) -> None:
        """A compact range of no leaves has no hashes and the empty tree's root."""
        compact = CompactRange()
        assert (compact.size, compact.hashes, compact.ids(), compact.root()) == (
            0,
            (),
            [],
            EMPTY_ROOT,
        )


# --- Properties -------------------------------------------------------------------

leaf_lists = st.lists(st.binary(min_size=HASH_SIZE, max_size=HASH_SIZE), max_size=300)


def complete_at(size: int) -> set[NodeID]:
    """Every perfect subtree that exists in a tree of `size` leaves."""
    return {
        NodeID(level, index) for level in range(size.bit_length()) for index in range(size >> level)
    }


class TestCompactRange:
    """Appending to a compact range tracks the tree's root and reports every completed node."""

    @given(leaf_lists)
    def test_root_after_appending_is_the_root_of_all_leaves(self, leaves: list[bytes]) -> None:
        """After each append, the compact range's root is root() of all leaves so far."""
        compact = CompactRange()
        for count, hashed in enumerate(leaves, start=1):
            compact.append(hashed)
            assert compact.size == count
            assert len(compact.hashes) == count.bit_count()
            assert compact.root() == root(leaves[:count])

    @given(leaf_lists)
    def test_append_reports_exactly_the_nodes_that_became_complete(
        self, leaves: list[bytes]
    ) -> None:
        """Each append reports the nodes complete now but not before, lowest first, hashed."""
        compact = CompactRange()
        for size, hashed in enumerate(leaves, start=1):
            reported = compact.append(hashed)
            ids = [node for node, _ in reported]
            assert set(ids) == complete_at(size) - complete_at(size - 1)
            assert ids == sorted(ids) and ids[0] == NodeID(0, size - 1)
            for node, node_value in reported:
                first = node.index << node.level
                assert node_value == root(leaves[first : first + (1 << node.level)])

    @given(leaf_lists, st.data())
    def test_reloading_from_stored_hashes_continues_the_same_tree(
        self, leaves: list[bytes], data: st.DataObject
    ) -> None:
        """A range rebuilt from ids_for(size) and stored nodes gives the same roots from then on."""
        split = data.draw(st.integers(min_value=0, max_value=len(leaves)), label="split")
        original, stored = CompactRange(), dict[NodeID, bytes]()
        for hashed in leaves[:split]:
            stored.update(original.append(hashed))
        ids = CompactRange.ids_for(split)
        assert ids == original.ids()
        reloaded = CompactRange(split, [stored[node] for node in ids])
        assert reloaded.hashes == original.hashes
        assert reloaded.root() == original.root()
        for hashed in leaves[split:]:
            assert reloaded.append(hashed) == original.append(hashed)
            assert reloaded.root() == original.root()

    @given(st.integers(min_value=0, max_value=1 << 40))
    def test_ids_for_covers_the_tree_with_its_largest_perfect_subtrees(self, size: int) -> None:
        """ids_for(size) tiles [0, size) left to right, one node per set bit, largest first."""
        covered = 0
        ids = CompactRange.ids_for(size)
        for node in ids:
            assert node.index << node.level == covered
            covered += 1 << node.level
        assert covered == size
        assert [node.level for node in ids] == sorted((n.level for n in ids), reverse=True)
        assert len(ids) == size.bit_count()


class TestProofsOfLargerTrees:
    """Beyond 64 leaves, stored-node proofs still equal the reference ones and verify."""

    @settings(max_examples=40, deadline=None)
    @given(st.integers(min_value=1, max_value=3000), st.data())
    def test_inclusion_from_stored_nodes_is_the_reference_proof(
        self, size: int, data: st.DataObject
    ) -> None:
        """For a random leaf of a random tree, served and reference proofs agree and verify."""
        index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
        leaves = synthetic_leaves(size)
        proof = served(inclusion_nodes(index, size), size, store_of(leaves))
        assert proof == inclusion_proof(index, leaves)
        verify_inclusion(leaves[index], index, size, proof, root(leaves))

    @settings(max_examples=40, deadline=None)
    @given(st.integers(min_value=1, max_value=3000), st.data())
    def test_consistency_from_stored_nodes_is_the_reference_proof(
        self, size2: int, data: st.DataObject
    ) -> None:
        """For random sizes, served and reference consistency proofs agree and verify."""
        size1 = data.draw(st.integers(min_value=1, max_value=size2), label="size1")
        leaves = synthetic_leaves(size2)
        proof = served(consistency_nodes(size1, size2), size2, store_of(leaves))
        assert proof == consistency_proof(size1, leaves)
        verify_consistency(size1, size2, proof, root(leaves[:size1]), root(leaves))

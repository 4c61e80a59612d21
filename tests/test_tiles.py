"""C2SP tlog-tiles: paths, tile counts, where node hashes live, and tile and bundle bodies.

Quotations are from https://c2sp.org/tlog-tiles (C2SP/C2SP tlog-tiles.md).
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtime.tlog.tiles import (
    ENTRIES,
    MAX_ENTRY_SIZE,
    MAX_TILE_LEVEL,
    TILE_WIDTH,
    TileID,
    bundle_entries,
    concat_hashes,
    hash_position,
    index_path,
    max_level,
    node_tile_range,
    parse_tile_path,
    split_bundle,
    split_hashes,
    tile_count,
    tiles_for_size,
)

MAX_TREE_SIZE = 2**64 - 1


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def perfect_root(hashes: list[bytes]) -> bytes:
    """The Merkle root over a power-of-two run of hashes at one tree level."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


# A complete tree of 2**12 entries, every level kept: levels[h][i] is node (h, i).
# Big enough for two tile levels (tree levels 0 and 8), small enough to build in ~10 ms.
TREE_HEIGHT = 12
LEVELS: list[list[bytes]] = [[leaf_hash(i.to_bytes(4, "big")) for i in range(2**TREE_HEIGHT)]]
for _ in range(TREE_HEIGHT):
    below = LEVELS[-1]
    LEVELS.append([node_hash(below[i], below[i + 1]) for i in range(0, len(below), 2)])


def stored_hashes(tile_level: int, tile_index: int) -> list[bytes]:
    """The hashes a full tile of the test tree stores: tree level 8L, 256 at a time."""
    row = LEVELS[8 * tile_level]
    return row[tile_index * TILE_WIDTH : (tile_index + 1) * TILE_WIDTH]


def tile_ids() -> st.SearchStrategy[TileID]:
    """Any TileID whose path a tree of fewer than 2**64 entries can have."""

    def build(level: int) -> st.SearchStrategy[TileID]:
        highest = MAX_TREE_SIZE >> (8 * (max(level, 0) + 1))
        return st.builds(
            TileID,
            st.just(level),
            st.integers(0, highest),
            st.integers(1, TILE_WIDTH),
        )

    return st.integers(ENTRIES, MAX_TILE_LEVEL).flatmap(build)


class TestSpecPaths:
    """Every path example in the spec text is produced and parsed exactly."""

    def test_index_1234067(self) -> None:
        """The spec's index example, as a level 0 tile."""
        # "For example, index 1234067 will be encoded as `x001/x234/067`."
        assert index_path(1234067) == "x001/x234/067"
        tile = TileID(0, 1234067, TILE_WIDTH)
        assert tile.path == "tile/0/x001/x234/067"
        assert parse_tile_path("tile/0/x001/x234/067") == tile

    def test_small_indices_are_one_zero_padded_group(self) -> None:
        """An index below 1000 is one zero-padded group without an x."""
        # "`<N>` ... MUST be a non-negative integer encoded into zero-padded 3-digit
        # path elements. All but the last path element MUST begin with an `x`."
        assert index_path(0) == "000"
        assert index_path(7) == "007"
        assert index_path(999) == "999"
        assert index_path(1000) == "x001/000"
        assert index_path(1_000_000) == "x001/x000/000"

    def test_partial_tile_suffix(self) -> None:
        """A partial tile carries .p/<W>; a full one does not."""
        # "The `.p/<W>` suffix is only present for partial tiles ... `<W>` is the width
        # of the tile, a decimal ASCII integer between 1 and 255"
        assert TileID(0, 1234067, 8).path == "tile/0/x001/x234/067.p/8"
        assert parse_tile_path("tile/0/x001/x234/067.p/8") == TileID(0, 1234067, 8)
        assert TileID(0, 0, 1).path == "tile/0/000.p/1"
        assert TileID(0, 0, 255).path == "tile/0/000.p/255"
        assert TileID(0, 0, 256).path == "tile/0/000"

    def test_entry_bundle_paths(self) -> None:
        """Entry bundles live under tile/entries with the same <N> and .p/<W>."""
        # "The log entries are served as a “entry bundles” at
        # <prefix>/tile/entries/<N>[.p/<W>] ... `<N>` and `.p/<W>` have the same meaning
        # as in Merkle Tree tile paths above."
        assert TileID(ENTRIES, 0, TILE_WIDTH).path == "tile/entries/000"
        assert TileID(ENTRIES, 1234067, 8).path == "tile/entries/x001/x234/067.p/8"
        assert parse_tile_path("tile/entries/273.p/112") == TileID(ENTRIES, 273, 112)

    def test_levels_up_to_63(self) -> None:
        """Levels 0 to 63 are written in plain decimal."""
        # "`<L>` is the “level” of the tile, and MUST be a decimal ASCII integer between
        # 0 and 63, with no additional leading zeroes."
        assert TileID(1, 0, TILE_WIDTH).path == "tile/1/000"
        assert TileID(63, 0, 1).path == "tile/63/000.p/1"
        assert parse_tile_path("tile/63/000") == TileID(63, 0, TILE_WIDTH)

    def test_leading_slash_is_accepted(self) -> None:
        """A path taken from a URL, with its leading slash, parses the same."""
        assert parse_tile_path("/tile/0/x001/x234/067.p/8") == TileID(0, 1234067, 8)

    def test_is_full(self) -> None:
        """Only a tile of width 256 is full."""
        assert TileID(0, 3, TILE_WIDTH).is_full
        assert not TileID(0, 3, 255).is_full


class TestPathRoundTrips:
    """Every tile has exactly one path, and it parses back to the tile."""

    @given(tile_ids())
    def test_path_parses_back(self, tile: TileID) -> None:
        """parse_tile_path inverts TileID.path, with and without a leading slash."""
        assert parse_tile_path(tile.path) == tile
        assert parse_tile_path("/" + tile.path) == tile

    @given(st.integers(0, MAX_TREE_SIZE >> 8))
    def test_index_path_parses_back(self, n: int) -> None:
        """index_path's segments parse back to the index, as three-digit groups."""
        segments = index_path(n).split("/")
        assert all(len(s) == 4 and s[0] == "x" for s in segments[:-1])
        assert len(segments[-1]) == 3
        assert parse_tile_path(f"tile/0/{index_path(n)}").index == n

    def test_largest_uint64_index_round_trips(self) -> None:
        """The last level 0 tile of a 2**64-entry tree is addressable."""
        last = MAX_TREE_SIZE >> 8
        assert parse_tile_path(TileID(0, last, 1).path) == TileID(0, last, 1)


class TestMalformedPaths:
    """Every path the spec forbids is refused with a ValueError naming the problem."""

    @pytest.mark.parametrize(
        ("path", "problem"),
        [
            ("", "must start with 'tile/'"),
            ("tiles/0/000", "must start with 'tile/'"),
            ("//tile/0/000", "must start with 'tile/'"),
            ("tile", "must be tile/<L>/<N>"),
            ("tile/0", "must be tile/<L>/<N>"),
            # "<L> ... MUST be a decimal ASCII integer between 0 and 63, with no
            # additional leading zeroes."
            ("tile/00/000", "leading zeros"),
            ("tile/01/000", "leading zeros"),
            ("tile/64/000", "above 63"),
            ("tile/999999999999/000", "above 63"),
            ("tile/-1/000", "neither 'entries' nor a decimal"),
            ("tile/+1/000", "neither 'entries' nor a decimal"),
            ("tile/data/000", "neither 'entries' nor a decimal"),
            ("tile/Entries/000", "neither 'entries' nor a decimal"),
            ("tile/\u0661/000", "neither 'entries' nor a decimal"),  # Arabic-Indic one
            # "<N> ... MUST be a non-negative integer encoded into zero-padded 3-digit
            # path elements. All but the last path element MUST begin with an `x`."
            ("tile/0/", "empty segment"),
            ("tile/0/00", "exactly three digits"),
            ("tile/0/67", "exactly three digits"),
            ("tile/0/0067", "exactly three digits"),
            ("tile/0/x067", "exactly three digits"),
            ("tile/0/-01", "exactly three digits"),
            ("tile/0/\u0660\u0660\u0660", "exactly three digits"),
            ("tile/0/000 ", "exactly three digits"),
            ("tile/0/x001/x234/067/", "empty segment"),
            ("tile/0/001/234/067", "'x' and three digits"),
            ("tile/0/x001/234/067", "'x' and three digits"),
            ("tile/0//067", "empty segment"),
            ("tile/0/X001/067", "'x' and three digits"),
            ("tile/0/x01/067", "'x' and three digits"),
            ("tile/0/x001.p/234/067", "'x' and three digits"),
            ("tile/0/000/extra", "'x' and three digits"),
            ("tile/8/0/000", "'x' and three digits"),  # sumdb's tile/H/L/N form
            ("tile/0/x000/067", "leading 'x000' group"),
            ("tile/0/x000/x001/x234/067", "leading 'x000' group"),
            ("tile/0/x001/x001/x001/x001/x001/x001/x001/000", "8 groups"),
            ("tile/0/x072/x057/x594/x037/x927/936", "above 72057594037927935"),
            ("tile/1/x281/x474/x976/x710/656", "above 281474976710655"),
            ("tile/7/001", "above 0"),
            ("tile/entries/x072/x057/x594/x037/x927/936", "above 72057594037927935"),
            # "`<W>` is the width of the tile, a decimal ASCII integer between 1 and 255,
            # with no additional leading zeroes."
            ("tile/0/000.p", "'.p' must be followed by '/<W>'"),
            ("tile/0/000.p/8.p", "'.p' must be followed by '/<W>'"),
            ("tile/0/000.p/0", "partial width 0"),
            ("tile/0/000.p/256", "above 255; a full tile has no '.p/<W>' suffix"),
            ("tile/entries/000.p/256", "above 255"),
            ("tile/0/000.p/99999999999999", "above 255"),
            ("tile/0/000.p/08", "leading zeros"),
            ("tile/0/000.p/+8", "not a decimal number"),
            ("tile/0/000.p/", "empty segment"),
            ("tile/0/000.p/8/", "empty segment"),
            ("tile/0/000.p/x", "not a decimal number"),
            ("tile/0/000.p/8/1", "'x' and three digits"),
            ("tile/0/000.P/8", "'x' and three digits"),
        ],
    )
    def test_rejected(self, path: str, problem: str) -> None:
        """The error quotes the path and says what is wrong with it."""
        with pytest.raises(ValueError, match="tile path") as raised:
            parse_tile_path(path)
        assert problem in str(raised.value)
        assert repr(path) in str(raised.value)

    @pytest.mark.parametrize(
        ("level", "index", "width", "problem"),
        [
            (-2, 0, 256, "tile level must be 0 to 63 or ENTRIES"),
            (64, 0, 256, "tile level must be 0 to 63 or ENTRIES"),
            (0, -1, 256, "tile index must be 0 or more"),
            (0, 0, 0, "tile width must be 1 to 256"),
            (0, 0, 257, "tile width must be 1 to 256"),
        ],
    )
    def test_impossible_tile_ids_are_refused(
        self, level: int, index: int, width: int, problem: str
    ) -> None:
        """A TileID cannot name a tile the spec has no path for."""
        with pytest.raises(ValueError, match=problem):
            TileID(level, index, width)


class TestTilesForSize:
    """A tree has the full and partial tiles the spec's arithmetic gives."""

    def test_tree_of_70000(self) -> None:
        """The spec's 70,000-entry example, level by level."""
        # "For example, a tree of size 70,000 will be represented by 273 full level 0
        # tiles, one partial level 0 tile of width 112, one full level 1 tile, one
        # partial level 1 tile of width 17, and one partial level 2 tile of width 1."
        assert tile_count(70_000, 0) == (273, 112)
        assert tile_count(70_000, 1) == (1, 17)
        assert tile_count(70_000, 2) == (0, 1)
        assert tile_count(70_000, 3) == (0, 0)
        assert max_level(70_000) == 2
        level0 = tiles_for_size(70_000, 0)
        assert len(level0) == 274
        assert all(t.is_full for t in level0[:273])
        assert level0[0].path == "tile/0/000"
        assert level0[272].path == "tile/0/272"
        assert level0[273].path == "tile/0/273.p/112"
        assert [t.path for t in tiles_for_size(70_000, 1)] == ["tile/1/000", "tile/1/001.p/17"]
        assert [t.path for t in tiles_for_size(70_000, 2)] == ["tile/2/000.p/1"]
        assert tiles_for_size(70_000, 3) == []

    def test_entry_bundles_of_70000(self) -> None:
        """Entry bundles are counted like level 0 tiles."""
        # "As above, a full bundle has a *start index* and *end index*, defined the same
        # as above for “level 0”."
        assert tile_count(70_000, ENTRIES) == (273, 112)
        bundles = tiles_for_size(70_000, ENTRIES)
        assert len(bundles) == 274
        assert bundles[0].path == "tile/entries/000"
        assert bundles[-1].path == "tile/entries/273.p/112"

    def test_tree_of_256(self) -> None:
        """A single full level 0 tile brings a level 1 tile of width 1."""
        # "Note that a tree of size 256 will be represented by a full level 0 tile and a
        # partial level 1 tile of width 1."
        assert tiles_for_size(256, 0) == [TileID(0, 0, TILE_WIDTH)]
        assert tiles_for_size(256, 1) == [TileID(1, 0, 1)]
        assert tiles_for_size(256, 2) == []
        assert max_level(256) == 1

    def test_empty_tree_has_no_tiles(self) -> None:
        """A tree of size 0 has no tiles at any level."""
        # "Empty tiles MUST NOT be served."
        assert tiles_for_size(0, 0) == []
        assert tiles_for_size(0, ENTRIES) == []
        with pytest.raises(ValueError, match="an empty tree has no tiles"):
            max_level(0)

    @pytest.mark.parametrize(
        ("size", "level"),
        [(1, 0), (255, 0), (257, 1), (65_535, 1), (65_536, 2), (MAX_TREE_SIZE, 7)],
    )
    def test_max_level(self, size: int, level: int) -> None:
        """max_level is the highest level with at least one hash."""
        assert max_level(size) == level
        assert tile_count(size, level) != (0, 0)
        assert tile_count(size, level + 1) == (0, 0)

    @given(st.integers(0, MAX_TREE_SIZE), st.integers(0, 9))
    def test_partial_width_formula(self, size: int, level: int) -> None:
        """The partial width and the tile counts follow the spec's formula."""
        # "The partial tile at level *l* for a tree of size *s* has
        # `floor(s / 256**l) mod 256` entries."
        full, partial = tile_count(size, level)
        assert partial == (size // 256**level) % 256
        assert full * 256 + partial == size // 256**level

    @given(st.integers(0, 300_000), st.integers(ENTRIES, 3))
    def test_tiles_cover_the_level(self, size: int, level: int) -> None:
        """The tiles of a level are consecutive, full but the last, and sum to its hashes."""
        tiles = tiles_for_size(size, level)
        assert [t.index for t in tiles] == list(range(len(tiles)))
        assert all(t.is_full for t in tiles[:-1])
        assert sum(t.width for t in tiles) == size // 256 ** max(level, 0)

    @pytest.mark.parametrize(
        ("size", "level", "problem"),
        [
            (-1, 0, "tree size must be 0 or more"),
            (10, -2, "level must be 0 to 63 or ENTRIES"),
            (10, 64, "level must be 0 to 63 or ENTRIES"),
        ],
    )
    def test_bad_arguments(self, size: int, level: int, problem: str) -> None:
        """A negative size or an impossible level is refused."""
        with pytest.raises(ValueError, match=problem):
            tile_count(size, level)


class TestHashPosition:
    """A stored hash is found in the right tile at the right position."""

    @pytest.mark.parametrize(
        ("level", "index", "tile", "position"),
        [
            (0, 0, TileID(0, 0, TILE_WIDTH), 0),
            (0, 255, TileID(0, 0, TILE_WIDTH), 255),
            (0, 300, TileID(0, 1, TILE_WIDTH), 44),
            (0, 1234067 * 256 + 9, TileID(0, 1234067, TILE_WIDTH), 9),
            (8, 5, TileID(1, 0, TILE_WIDTH), 5),
            (8, 256, TileID(1, 1, TILE_WIDTH), 0),
            (16, 1, TileID(2, 0, TILE_WIDTH), 1),
        ],
    )
    def test_known_positions(self, level: int, index: int, tile: TileID, position: int) -> None:
        """Worked examples: tile = index // 256, position = index % 256, tile level = level / 8."""
        assert hash_position(level, index) == (tile, position)

    @pytest.mark.parametrize("level", [1, 7, 9, 15])
    def test_unstored_levels_are_refused(self, level: int) -> None:
        """Only tree levels that are multiples of 8 are stored."""
        with pytest.raises(ValueError, match=f"tree level {level} is not stored in tiles"):
            hash_position(level, 0)

    def test_negative_arguments_are_refused(self) -> None:
        """A negative level or index names no node."""
        with pytest.raises(ValueError, match="tree level must be 0 to 511"):
            hash_position(-8, 0)
        with pytest.raises(ValueError, match="node index must be 0 or more"):
            hash_position(0, -1)

    def test_stored_hashes_match_the_spec_definition(self) -> None:
        """Position i of tile n at level l is MTH(D[(n*256+i)*256**l : (n*256+i+1)*256**l])."""
        # "the *n*-th tile at level *l* ... is the sequence of the following Merkle Tree
        # Hashes, with *i* from 0 to 255: MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1)
        # * 256**l])"
        for n in range(2**TREE_HEIGHT // 256):
            for i in (0, 17, 255):
                tile, position = hash_position(0, n * 256 + i)
                assert stored_hashes(tile.level, tile.index)[position] == LEVELS[0][n * 256 + i]
        level1 = stored_hashes(1, 0)
        for i in range(len(level1)):
            tile, position = hash_position(8, i)
            assert (tile.level, tile.index, position) == (1, 0, i)
            assert level1[i] == perfect_root(LEVELS[0][i * 256 : (i + 1) * 256])


class TestNodeTileRange:
    """Any node's hash is the root of a run of stored hashes inside one tile."""

    @pytest.mark.parametrize(
        ("level", "index", "expected"),
        [
            (0, 300, (0, 1, 44, 1)),
            (3, 40, (0, 1, 64, 8)),
            (7, 0, (0, 0, 0, 128)),
            (7, 1, (0, 0, 128, 128)),
            (7, 3, (0, 1, 128, 128)),
            (8, 5, (1, 0, 5, 1)),
            (9, 3, (1, 0, 6, 2)),
            (12, 1, (1, 0, 16, 16)),
            (15, 1, (1, 0, 128, 128)),
            (16, 2, (2, 0, 2, 1)),
            (1, 1234067 * 128 + 5, (0, 1234067, 10, 2)),
        ],
    )
    def test_known_ranges(
        self, level: int, index: int, expected: tuple[int, int, int, int]
    ) -> None:
        """Worked examples: count = 2**(level % 8) hashes from index * count, tile level // 8."""
        assert node_tile_range(level, index) == expected

    def test_node_range_agrees_with_hash_position(self) -> None:
        """At a stored level the range is the single stored hash."""
        for level, index in [(0, 300), (8, 5), (16, 70_000)]:
            tile, position = hash_position(level, index)
            assert node_tile_range(level, index) == (tile.level, tile.index, position, 1)

    def test_every_node_of_a_tree_is_the_root_of_its_range(self) -> None:
        """For every node of a 4,096-entry tree, hashing the range gives the node's hash."""
        for level in range(TREE_HEIGHT + 1):
            for index, expected in enumerate(LEVELS[level]):
                tile_level, tile_index, first, count = node_tile_range(level, index)
                run = stored_hashes(tile_level, tile_index)[first : first + count]
                assert len(run) == count
                assert perfect_root(run) == expected

    @given(st.integers(0, 8 * MAX_TILE_LEVEL + 7), st.integers(0, 2**70))
    def test_range_covers_exactly_the_nodes_entries(self, level: int, index: int) -> None:
        """The range lies in one tile and its hashes span exactly the node's entries."""
        tile_level, tile_index, first, count = node_tile_range(level, index)
        assert tile_level == level // 8
        assert count == 2 ** (level % 8)
        assert first >= 0
        assert first + count <= TILE_WIDTH
        span = 256**tile_level  # entries under one hash stored at this tile level
        start = (tile_index * TILE_WIDTH + first) * span
        end = (tile_index * TILE_WIDTH + first + count) * span
        assert (start, end) == (index * 2**level, (index + 1) * 2**level)

    def test_bad_arguments(self) -> None:
        """Levels past the highest tile level and negative indices are refused."""
        with pytest.raises(ValueError, match="tree level must be 0 to 511, got 512"):
            node_tile_range(512, 0)
        with pytest.raises(ValueError, match="node index must be 0 or more, got -3"):
            node_tile_range(3, -3)


class TestEntryBundles:
    """Entry bundles are uint16-length-prefixed entries, 1 to 256 of them."""

    def test_known_bytes(self) -> None:
        """Each entry is its big-endian uint16 length, then its bytes."""
        # "Entry bundles are sequences of big-endian uint16 length-prefixed log entries."
        body = bundle_entries([b"abc", b"", b"\xff" * 258])
        assert body == b"\x00\x03abc" + b"\x00\x00" + b"\x01\x02" + b"\xff" * 258
        assert split_bundle(body) == [b"abc", b"", b"\xff" * 258]

    @given(st.lists(st.binary(max_size=300), min_size=1, max_size=TILE_WIDTH))
    def test_round_trip(self, entries: list[bytes]) -> None:
        """split_bundle inverts bundle_entries."""
        assert split_bundle(bundle_entries(entries)) == entries

    def test_largest_entry_fits(self) -> None:
        """An entry of exactly 65,535 bytes fits; one byte more does not."""
        entry = bytes(MAX_ENTRY_SIZE)
        assert split_bundle(bundle_entries([entry])) == [entry]
        with pytest.raises(ValueError, match="entry 1 is 65536 bytes"):
            bundle_entries([b"", bytes(MAX_ENTRY_SIZE + 1)])

    def test_too_many_or_no_entries(self) -> None:
        """A bundle holds 1 to 256 entries."""
        with pytest.raises(ValueError, match="an entry bundle holds 1 to 256 entries, got 257"):
            bundle_entries([b"x"] * 257)
        with pytest.raises(ValueError, match="got 0"):
            bundle_entries([])
        with pytest.raises(ValueError, match="got 0"):
            split_bundle(b"")
        with pytest.raises(ValueError, match="bytes after its 256th entry"):
            split_bundle(b"\x00\x00" * 257)

    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            (b"\x00", "entry 0 at byte 0 has 1 byte of its 2-byte length prefix"),
            (b"\x00\x01a\x00", "entry 1 at byte 3 has 1 byte"),
            (b"\x00\x05abc", "entry 0 declares 5 bytes but only 3 remain"),
            (b"\x00\x01a\x01\x00", "entry 1 declares 256 bytes but only 0 remain"),
        ],
    )
    def test_truncated(self, body: bytes, problem: str) -> None:
        """A cut-off length or entry, or stray trailing bytes, are refused."""
        with pytest.raises(ValueError, match="entry bundle is truncated") as raised:
            split_bundle(body)
        assert problem in str(raised.value)


class TestHashTiles:
    """A hash tile's body is its 32-byte hashes back to back."""

    def test_full_tile_is_8192_bytes(self) -> None:
        """A full tile of 256 hashes is 8,192 bytes and splits back."""
        # "Full tiles MUST be exactly 256 hashes wide, or 8,192 bytes."
        hashes = stored_hashes(0, 0)
        body = concat_hashes(hashes)
        assert len(body) == 8192
        assert split_hashes(body) == hashes

    @given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=TILE_WIDTH))
    def test_round_trip(self, hashes: list[bytes]) -> None:
        """split_hashes inverts concat_hashes."""
        assert split_hashes(concat_hashes(hashes)) == hashes

    @pytest.mark.parametrize(
        ("body", "problem"),
        [
            (bytes(33), "tile body is 33 bytes, not a multiple of the 32-byte hash size"),
            (bytes(31), "tile body is 31 bytes"),
            (bytes(32 * 257), "a tile holds 1 to 256 hashes, got 257"),
            (b"", "a tile holds 1 to 256 hashes, got 0"),
        ],
    )
    def test_malformed_bodies(self, body: bytes, problem: str) -> None:
        """A body of the wrong length is refused."""
        with pytest.raises(ValueError, match=problem):
            split_hashes(body)

    def test_wrong_hash_length(self) -> None:
        """Every hash must be 32 bytes."""
        with pytest.raises(ValueError, match="hash 1 is 31 bytes"):
            concat_hashes([bytes(32), bytes(31)])
        with pytest.raises(ValueError, match="got 257"):
            concat_hashes([bytes(32)] * 257)

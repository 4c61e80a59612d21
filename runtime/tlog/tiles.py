"""C2SP tlog-tiles: tile paths, which tiles a tree has, and the bodies of tiles and bundles.

A tile at level ``L`` holds up to 256 consecutive hashes of tree level ``8L``; an
entry bundle holds up to 256 consecutive entries. Their paths below the log's
prefix (https://c2sp.org/tlog-tiles)::

    tile/<L>/<N>[.p/<W>]        e.g. tile/0/x001/x234/067, tile/1/001.p/17
    tile/entries/<N>[.p/<W>]    e.g. tile/entries/273.p/112

``N`` is written in groups of three digits, every group but the last prefixed with
``x``; ``.p/<W>`` marks a partial tile of width ``W`` (1 to 255). A tree of size
``s`` has ``floor(s / 256**L)`` hashes at tile level ``L``: that many // 256 full
tiles and one partial tile of the remainder, if any.

Pure functions over ints and bytes; no I/O. Hashing is left to
``runtime.tlog.merkle``: this module only says where hashes live.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ENTRIES",
    "MAX_ENTRY_SIZE",
    "MAX_TILE_LEVEL",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileID",
    "bundle_entries",
    "concat_hashes",
    "hash_position",
    "index_path",
    "max_level",
    "node_tile_range",
    "parse_tile_path",
    "split_bundle",
    "split_hashes",
    "tile_count",
    "tiles_for_size",
]

TILE_HEIGHT = 8
"""A tile is a subtree of this height: tile level L holds tree level 8L."""
TILE_WIDTH = 256
"""2**TILE_HEIGHT hashes (or entries) per full tile."""
MAX_ENTRY_SIZE = 65535
"""An entry must fit its uint16 length prefix in an entry bundle."""
ENTRIES = -1
"""The ``level`` of an entry bundle, which the spec calls a tile of entries."""
MAX_TILE_LEVEL = 63
"""The highest ``<L>`` the spec allows in a path."""

_HASH_SIZE = 32
_PATH_BASE = 1000
# Tile indices are bounded by trees of fewer than 2**64 entries (RFC 6962's uint64
# tree_size), so a path can be checked before its digits become a large int.
_MAX_TREE_SIZE = 2**64 - 1
_MAX_GROUPS = 7  # 2**64 has 20 decimal digits: seven groups of three

_LEVEL = re.compile(r"0|[1-9][0-9]*")
_WIDTH = re.compile(r"[1-9][0-9]*")
_GROUP = re.compile(r"[0-9]{3}")
_X_GROUP = re.compile(r"x[0-9]{3}")


@dataclass(frozen=True, order=True)
class TileID:
    """One tile (or entry bundle) of a tlog-tiles log, as its path names it."""

    level: int
    """0 to 63 for a hash tile (level L holds tree level 8L); ``ENTRIES`` for an entry bundle."""
    index: int
    """N: the tile's position within its level, from 0."""
    width: int
    """How many hashes (or entries) it holds, 1 to 256; 256 is a full, immutable tile."""

    def __post_init__(self) -> None:
        _check_level(self.level, "tile level")
        if self.index < 0:
            raise ValueError(f"tile index must be 0 or more, got {self.index}")
        if not 1 <= self.width <= TILE_WIDTH:
            raise ValueError(f"tile width must be 1 to {TILE_WIDTH}, got {self.width}")

    @property
    def is_full(self) -> bool:
        """Whether the tile holds all 256 hashes (or entries) and so never changes."""
        return self.width == TILE_WIDTH

    @property
    def path(self) -> str:
        """The tile's path below the log's prefix, e.g. ``tile/0/x001/x234/067.p/8``."""
        level = "entries" if self.level == ENTRIES else str(self.level)
        partial = "" if self.is_full else f".p/{self.width}"
        return f"tile/{level}/{index_path(self.index)}{partial}"


def index_path(n: int) -> str:
    """Tile index ``n`` as path segments: 1234067 -> ``x001/x234/067``, 0 -> ``000``."""
    if n < 0:
        raise ValueError(f"tile index must be 0 or more, got {n}")
    groups = [f"{n % _PATH_BASE:03d}"]
    n //= _PATH_BASE
    while n > 0:
        groups.append(f"x{n % _PATH_BASE:03d}")
        n //= _PATH_BASE
    return "/".join(reversed(groups))


def parse_tile_path(path: str) -> TileID:
    """The tile a path names; the inverse of ``TileID.path``, with or without a leading ``/``.

    Only the one canonical spelling of each tile is accepted; anything else raises
    ``ValueError`` saying which part is wrong.
    """
    parts = (path[1:] if path.startswith("/") else path).split("/")
    if parts[0] != "tile":
        raise _path_error(path, "must start with 'tile/'")
    if len(parts) < 3:
        raise _path_error(path, "must be tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>]")
    if "" in parts[1:]:
        raise _path_error(path, "has an empty segment (a doubled or trailing '/')")
    level = _parse_level(path, parts[1])
    groups = parts[2:]
    width = TILE_WIDTH
    if groups[-1].endswith(".p"):
        raise _path_error(path, "'.p' must be followed by '/<W>', the partial tile's width")
    if len(groups) >= 2 and groups[-2].endswith(".p"):
        width = _parse_width(path, groups[-1])
        groups = [*groups[:-2], groups[-2].removesuffix(".p")]
    return TileID(level, _parse_index(path, level, groups), width)


def tile_count(size: int, level: int) -> tuple[int, int]:
    """(full tiles, width of the partial tile or 0) at ``level`` of a tree of ``size`` entries.

    ``ENTRIES`` counts entry bundles, which are as many as level 0 tiles.
    """
    _check_size(size)
    _check_level(level, "level")
    hashes = size >> (TILE_HEIGHT * max(level, 0))
    return hashes // TILE_WIDTH, hashes % TILE_WIDTH


def tiles_for_size(size: int, level: int) -> list[TileID]:
    """Every tile of ``level`` (or ``ENTRIES``) a tree of ``size`` entries has, in index order.

    The full tiles, then the partial tile if the level's hashes do not fill the last one.
    """
    full, partial = tile_count(size, level)
    tiles = [TileID(level, n, TILE_WIDTH) for n in range(full)]
    if partial:
        tiles.append(TileID(level, full, partial))
    return tiles


def max_level(size: int) -> int:
    """The highest tile level at which a tree of ``size`` entries has a hash (size 256 -> 1)."""
    _check_size(size)
    if size == 0:
        raise ValueError("an empty tree has no tiles, so no highest tile level")
    return (size.bit_length() - 1) // TILE_HEIGHT


def hash_position(level: int, index: int) -> tuple[TileID, int]:
    """Where the hash of tree node (level, index) is stored, for a level that is a multiple of 8.

    Returns the full-width TileID that holds it and its position in that tile; the
    caller picks the partial tile of the same index if the full one does not exist yet.
    ``ValueError`` for a level that no tile stores.
    """
    _check_node(level, index)
    tile_level, rest = divmod(level, TILE_HEIGHT)
    if rest:
        raise ValueError(
            f"tree level {level} is not stored in tiles: only multiples of {TILE_HEIGHT} are"
            " (use node_tile_range)"
        )
    tile_index, position = divmod(index, TILE_WIDTH)
    return TileID(tile_level, tile_index, TILE_WIDTH), position


def node_tile_range(level: int, index: int) -> tuple[int, int, int, int]:
    """Where to find the hashes whose Merkle root is tree node (level, index).

    Returns (tile_level, tile_index, first, count): positions ``[first, first + count)``
    of that tile, which stores tree level ``8 * tile_level``, with ``count = 2**(level % 8)``.
    The node is the root of a complete subtree of ``2**level`` entries; the range
    always lies inside one tile, because a tile is a complete subtree of height 8.
    """
    _check_node(level, index)
    tile_level, height = divmod(level, TILE_HEIGHT)
    first_hash = index << height
    tile_index, first = divmod(first_hash, TILE_WIDTH)
    return tile_level, tile_index, first, 1 << height


def bundle_entries(entries: Sequence[bytes]) -> bytes:
    """An entry bundle's body: each entry as a big-endian uint16 length, then its bytes."""
    _check_count(len(entries), "entries", "an entry bundle")
    body = bytearray()
    for i, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(
                f"entry {i} is {len(entry)} bytes; an entry bundle's uint16 length prefix"
                f" allows at most {MAX_ENTRY_SIZE}"
            )
        body += len(entry).to_bytes(2, "big")
        body += entry
    return bytes(body)


def split_bundle(data: bytes) -> list[bytes]:
    """The entries of an entry bundle's body; the inverse of ``bundle_entries``."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(data):
        if len(entries) == TILE_WIDTH:
            raise ValueError(
                f"entry bundle has {len(data) - offset} bytes after its {TILE_WIDTH}th entry;"
                f" a bundle holds at most {TILE_WIDTH} entries"
            )
        if offset + 2 > len(data):
            raise ValueError(
                f"entry bundle is truncated: entry {len(entries)} at byte {offset}"
                " has 1 byte of its 2-byte length prefix"
            )
        size = int.from_bytes(data[offset : offset + 2], "big")
        start, offset = offset + 2, offset + 2 + size
        if offset > len(data):
            raise ValueError(
                f"entry bundle is truncated: entry {len(entries)} declares {size} bytes"
                f" but only {len(data) - start} remain"
            )
        entries.append(bytes(data[start:offset]))
    _check_count(len(entries), "entries", "an entry bundle")
    return entries


def concat_hashes(hashes: Sequence[bytes]) -> bytes:
    """A hash tile's body: its 32-byte hashes back to back."""
    _check_count(len(hashes), "hashes", "a tile")
    for i, h in enumerate(hashes):
        if len(h) != _HASH_SIZE:
            raise ValueError(f"hash {i} is {len(h)} bytes; a tile holds {_HASH_SIZE}-byte hashes")
    return b"".join(hashes)


def split_hashes(data: bytes) -> list[bytes]:
    """The 32-byte hashes of a hash tile's body; the inverse of ``concat_hashes``."""
    if len(data) % _HASH_SIZE:
        raise ValueError(
            f"tile body is {len(data)} bytes, not a multiple of the {_HASH_SIZE}-byte hash size"
        )
    _check_count(len(data) // _HASH_SIZE, "hashes", "a tile")
    return [bytes(data[i : i + _HASH_SIZE]) for i in range(0, len(data), _HASH_SIZE)]


def _check_size(size: int) -> None:
    if size < 0:
        raise ValueError(f"tree size must be 0 or more, got {size}")


def _check_level(level: int, what: str) -> None:
    if level != ENTRIES and not 0 <= level <= MAX_TILE_LEVEL:
        raise ValueError(
            f"{what} must be 0 to {MAX_TILE_LEVEL} or ENTRIES ({ENTRIES}), got {level}"
        )


def _check_node(level: int, index: int) -> None:
    if not 0 <= level < TILE_HEIGHT * (MAX_TILE_LEVEL + 1):
        raise ValueError(
            f"tree level must be 0 to {TILE_HEIGHT * (MAX_TILE_LEVEL + 1) - 1}, got {level}"
        )
    if index < 0:
        raise ValueError(f"node index must be 0 or more, got {index}")


def _check_count(count: int, items: str, container: str) -> None:
    # Empty tiles MUST NOT be served, so an empty body is never a tile.
    if not 1 <= count <= TILE_WIDTH:
        raise ValueError(f"{container} holds 1 to {TILE_WIDTH} {items}, got {count}")


def _path_error(path: str, problem: str) -> ValueError:
    return ValueError(f"tile path {path!r}: {problem}")


def _parse_level(path: str, text: str) -> int:
    if text == "entries":
        return ENTRIES
    if not re.fullmatch(r"[0-9]+", text):
        raise _path_error(path, f"level {text!r} is neither 'entries' nor a decimal number")
    if not _LEVEL.fullmatch(text):
        raise _path_error(path, f"level {text!r} has leading zeros")
    if len(text) > 2 or int(text) > MAX_TILE_LEVEL:
        raise _path_error(path, f"level {text} is above {MAX_TILE_LEVEL}")
    return int(text)


def _parse_width(path: str, text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text):
        raise _path_error(path, f"partial width {text!r} is not a decimal number")
    if text == "0":
        raise _path_error(path, "partial width 0: empty tiles are never served")
    if not _WIDTH.fullmatch(text):
        raise _path_error(path, f"partial width {text!r} has leading zeros")
    if len(text) > 3 or int(text) >= TILE_WIDTH:
        raise _path_error(
            path,
            f"partial width {text} is above {TILE_WIDTH - 1}; a full tile has no '.p/<W>' suffix",
        )
    return int(text)


def _parse_index(path: str, level: int, groups: list[str]) -> int:
    if len(groups) > _MAX_GROUPS:
        raise _path_error(
            path, f"index has {len(groups)} groups; no tree of fewer than 2**64 entries has it"
        )
    for group in groups[:-1]:
        if not _X_GROUP.fullmatch(group):
            raise _path_error(
                path, f"index segment {group!r} must be 'x' and three digits (all but the last)"
            )
    if not _GROUP.fullmatch(groups[-1]):
        raise _path_error(
            path, f"index segment {groups[-1]!r} must be exactly three digits (the last one)"
        )
    if len(groups) > 1 and groups[0] == "x000":
        raise _path_error(path, "index has a leading 'x000' group; write it without")
    index = int("".join(group.removeprefix("x") for group in groups))
    highest = _MAX_TREE_SIZE >> (TILE_HEIGHT * (max(level, 0) + 1))
    if index > highest:
        raise _path_error(
            path,
            f"index {index} is above {highest}, the last tile at this level of a tree"
            " of fewer than 2**64 entries",
        )
    return index

"""Reading the log back from its tiles: entries, node hashes, proofs and tiles.

Every replica can read; only the sequencer writes. A proof costs one round trip to
the store for O(log n) short tile ranges, whatever the log's size.
"""

from __future__ import annotations

from collections.abc import Sequence

from runtime.tlog import merkle, tiles
from services.ledger.store import LedgerStore


class LogReader:
    """Reads one log's tiles and entry bundles."""

    def __init__(self, store: LedgerStore) -> None:
        self._store = store

    async def node_hashes(self, ids: Sequence[merkle.NodeID]) -> list[bytes]:
        """The hashes of perfect-subtree nodes, computed from the stored hash tiles."""
        wanted = []
        for node in ids:
            level, index, first, count = tiles.node_tile_range(node.level, node.index)
            tile = tiles.TileID(level, index, tiles.TILE_WIDTH)
            wanted.append((tile, first * merkle.HASH_SIZE, (first + count) * merkle.HASH_SIZE))
        found = await self._store.ranges(wanted) if wanted else []
        hashes = []
        for node, data in zip(ids, found, strict=True):
            level_hashes = tiles.split_hashes(data) if data else []
            if len(level_hashes) != 1 << (node.level % tiles.TILE_HEIGHT):
                raise LookupError(f"the store lacks the hashes under node {node}")
            hashes.append(merkle.root(level_hashes) if len(level_hashes) > 1 else level_hashes[0])
        return hashes

    async def entries(self, indexes: Sequence[int]) -> list[bytes]:
        """The encoded entries at `indexes` (each below the log's size)."""
        wanted = sorted({i // tiles.TILE_WIDTH for i in indexes})
        stored = await self._store.tiles(
            [tiles.TileID(tiles.ENTRIES, n, tiles.TILE_WIDTH) for n in wanted]
        )
        bundles = {
            n: tiles.split_bundle(data) if data else []
            for n, data in zip(wanted, stored, strict=True)
        }
        found = []
        for index in indexes:
            bundle = bundles[index // tiles.TILE_WIDTH]
            if index % tiles.TILE_WIDTH >= len(bundle):
                raise LookupError(f"the store lacks entry {index}")
            found.append(bundle[index % tiles.TILE_WIDTH])
        return found

    async def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 inclusion proof of entry `index` in the tree of `size` entries."""
        nodes = merkle.inclusion_nodes(index, size)
        return nodes.rehash(await self.node_hashes(nodes.ids))

    async def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """RFC 9162 consistency proof from the tree of `size1` to the tree of `size2`."""
        nodes = merkle.consistency_nodes(size1, size2)
        return nodes.rehash(await self.node_hashes(nodes.ids))

    async def tile(self, tile: tiles.TileID, size: int) -> bytes | None:
        """A tile or entry bundle of the tree of `size` entries, or None if it has no such tile.

        A partial tile of width W is the first W hashes (entries) of what is stored, which
        never change once written: partial and full tiles alike are immutable.
        """
        full, partial = tiles.tile_count(size, tile.level)
        exists = tile.index < full or (tile.index == full and tile.width <= partial)
        if not exists:
            return None
        (data,) = await self._store.tiles([tiles.TileID(tile.level, tile.index, tiles.TILE_WIDTH)])
        if tile.level == tiles.ENTRIES:
            entries = tiles.split_bundle(data) if data else []
            return (
                tiles.bundle_entries(entries[: tile.width]) if len(entries) >= tile.width else None
            )
        end = tile.width * merkle.HASH_SIZE
        return data[:end] if len(data) >= end else None

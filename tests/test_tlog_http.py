"""The C2SP tlog-tiles read API through the gateway, as any tiles client uses it."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest

from certfree.stack import Stack
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import Settings
from runtime.tlog import merkle, tiles
from runtime.tlog.checkpoint import open_checkpoint
from runtime.tlog.note import Signer
from tests.conftest import MARKET_REGULATION, caller

HEADERS = {"x-certfree-department": MARKET_REGULATION, "x-certfree-role": "auditor"}


@pytest.fixture
async def log_of_300(settings: Settings) -> AsyncIterator[tuple[Stack, list[bytes]]]:
    """A running stack whose ledger holds 300 entries; yields it and the entries' bytes."""
    stack = await Stack.start(settings, insecure_dev=True)
    try:
        async with grpc.aio.insecure_channel(stack.addresses()["ledger"]) as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            request = ledger_pb2.BatchAppendRequest(
                appends=[
                    ledger_pb2.AppendRequest(
                        attestation=ledger_pb2.Attestation(
                            artefact_sha256=hashlib.sha256(f"t{i}".encode()).digest(),
                            kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
                            issuer_department=MARKET_REGULATION,
                            artefact_id=f"license-{i}",
                        )
                    )
                    for i in range(300)
                ]
            )
            results = (await stub.BatchAppend(request, metadata=caller())).results
            entries = [
                await stub.GetEntry(ledger_pb2.GetEntryRequest(index=r.index), metadata=caller())
                for r in results
            ]
        yield stack, [e.encoded for e in entries]
    finally:
        await stack.stop()


async def _get(stack: Stack, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.addresses()["gateway"]) as http:
        return await http.get(path, headers=HEADERS)


class TestTilesApi:
    """Checkpoint, hash tiles and entry bundles at the spec's paths, with the right caching."""

    async def test_checkpoint_is_the_signed_note(
        self, settings: Settings, log_of_300: tuple[Stack, list[bytes]]
    ) -> None:
        """/tlog/checkpoint is text/plain, not cached, and verifies with the log's key."""
        stack, _ = log_of_300
        response = await _get(stack, "/tlog/checkpoint")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert response.headers["cache-control"] == "no-cache"
        verifier = Signer.from_key_string(settings.ledger_key_path.read_text().strip()).verifier()
        checkpoint, _ = open_checkpoint(response.text, verifier, origin=settings.ledger_origin)
        assert checkpoint.size == 300

    async def test_tiles_rebuild_the_checkpointed_root(
        self, log_of_300: tuple[Stack, list[bytes]]
    ) -> None:
        """Fetching every tile the checkpoint names reproduces its root and its entries."""
        stack, entries = log_of_300
        note = (await _get(stack, "/tlog/checkpoint")).text
        size = int(note.split("\n")[1])
        leaf_hashes: list[bytes] = []
        for tile in tiles.tiles_for_size(size, 0):
            response = await _get(stack, f"/tlog/{tile.path}")
            assert response.status_code == 200, tile.path
            assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
            leaf_hashes += tiles.split_hashes(response.content)
        bundled: list[bytes] = []
        for tile in tiles.tiles_for_size(size, tiles.ENTRIES):
            bundled += tiles.split_bundle((await _get(stack, f"/tlog/{tile.path}")).content)
        assert [t.path for t in tiles.tiles_for_size(size, 0)] == ["tile/0/000", "tile/0/001.p/44"]
        assert bundled == entries
        assert leaf_hashes == [merkle.leaf_hash(e) for e in entries]
        assert note.split("\n")[2] == base64.b64encode(merkle.root(leaf_hashes)).decode()

    async def test_narrower_partial_of_a_full_tile_is_served(
        self, log_of_300: tuple[Stack, list[bytes]]
    ) -> None:
        """A client on an older checkpoint asks for a partial tile; its hashes never changed."""
        stack, entries = log_of_300
        response = await _get(stack, "/tlog/tile/0/000.p/10")
        assert tiles.split_hashes(response.content) == [merkle.leaf_hash(e) for e in entries[:10]]

    @pytest.mark.parametrize(
        ("path", "status"),
        [
            ("/tlog/tile/0/002", 404),
            ("/tlog/tile/0/001", 404),
            ("/tlog/tile/0/001.p/45", 404),
            ("/tlog/tile/1/000.p/2", 404),
            ("/tlog/tile/0/1", 400),
            ("/tlog/tile/0/000.p/0", 400),
            ("/tlog/tile/entries/x000/001", 400),
        ],
    )
    async def test_tiles_the_tree_lacks_or_bad_paths(
        self, log_of_300: tuple[Stack, list[bytes]], path: str, status: int
    ) -> None:
        """A tile beyond the tree is 404; a path the spec forbids is 400."""
        stack, _ = log_of_300
        assert (await _get(stack, path)).status_code == status

    async def test_openapi_describes_tiles_as_raw_bodies(
        self, log_of_300: tuple[Stack, list[bytes]]
    ) -> None:
        """The tiles routes answer bytes, not JSON, and the OpenAPI document says so."""
        stack, _ = log_of_300
        document = (await _get(stack, "/openapi.json")).json()
        for path in ("/tlog/checkpoint", "/tlog/tile/{path}"):
            content = document["paths"][path]["get"]["responses"]["200"]["content"]
            assert content == {"*/*": {"schema": {"type": "string", "format": "binary"}}}, path

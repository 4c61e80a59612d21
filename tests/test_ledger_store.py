"""The ledger's index buckets: compact in the store, and correct when truncated fields collide."""

from __future__ import annotations

import hashlib
from typing import Any

import grpc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import Settings
from runtime.server import Registration
from runtime.store import Store
from services.ledger.keys import load_signer
from services.ledger.reader import LogReader
from services.ledger.sequencer import Reused, Sequencer, Submission, find_keys, hash_key
from services.ledger.servicer import LedgerServicer
from services.ledger.store import Layout, LedgerStore, parse_indexes, slot
from tests.conftest import MARKET_REGULATION, caller

COLLIDING = Layout(bucket_bytes=0, short_field=0)
"""One bucket per index and an empty field: every hash-and-kind key shares one field, and so
does every artefact identifier; explicit keys keep their long field."""


def submission(name: str, artefact_id: str = "", key: str = "") -> Submission:
    """An attestation of the artefact `name` (identifier `license-<name>` unless given)."""
    return Submission(
        "license_issued",
        MARKET_REGULATION,
        artefact_id or f"license-{name}",
        hashlib.sha256(name.encode()).digest(),
        key,
    )


def ledger(
    settings: Settings, store: Store, layout: Layout
) -> tuple[LedgerStore, LogReader, Sequencer]:
    """A log's store, reader and sequencer with `layout`."""
    ledger_store = LedgerStore(store, settings.ledger_origin, layout)
    reader = LogReader(ledger_store)
    sequencer = Sequencer(
        ledger_store, reader, load_signer(settings), settings.ledger_origin, max_delay=0.001
    )
    return ledger_store, reader, sequencer


class TestSlot:
    """A key's bucket and field are consecutive slices of its SHA-256."""

    @given(st.binary(max_size=80), st.integers(0, 4), st.integers(0, 20))
    def test_bucket_then_field(self, key: bytes, bucket_bytes: int, field_bytes: int) -> None:
        """The bucket is the digest's first bytes, the field the next ones."""
        bucket, field = slot(key, bucket_bytes, field_bytes)
        digest = hashlib.sha256(key).digest()
        assert bucket + field == digest[: bucket_bytes + field_bytes]
        assert len(bucket) == bucket_bytes

    def test_default_layout_keeps_explicit_keys_at_144_bits(self) -> None:
        """Explicit keys, which no entry can confirm, get 2 + 16 bytes of SHA-256."""
        layout = Layout()
        assert layout.bucket_bytes + layout.long_field == 18
        assert layout.short_field < layout.long_field


class TestParseIndexes:
    """A field's value is its indexes in decimal, comma-separated, oldest first."""

    @given(st.lists(st.integers(0, 10**12), max_size=20))
    def test_round_trip(self, indexes: list[int]) -> None:
        """Joining with commas and parsing gives the indexes back."""
        value = b",".join(str(i).encode() for i in indexes) if indexes else None
        assert parse_indexes(value) == indexes

    def test_absent_field_has_no_indexes(self) -> None:
        """A field not in its bucket (nil) holds nothing."""
        assert parse_indexes(None) == []


class TestCollidingFields:
    """Keys that share a bucket and a truncated field still find exactly their own entries."""

    async def test_distinct_artefacts_are_new_entries_and_retries_find_them(
        self, settings: Settings, store: Store
    ) -> None:
        """A shared field is neither a duplicate nor a reuse; each retry finds its own entry."""
        ledger_store, reader, sequencer = ledger(settings, store, COLLIDING)
        await sequencer.start()
        try:
            first = await sequencer.submit([submission("a"), submission("b")])
            second = await sequencer.submit([submission("c")])
            assert [p.index for p in first.placed + second.placed] == [0, 1, 2]
            assert not any(p.duplicate for p in first.placed + second.placed)
            again = await sequencer.submit([submission("c"), submission("a"), submission("d")])
        finally:
            await sequencer.stop()
        assert [(p.index, p.duplicate) for p in again.placed] == [(2, True), (0, True), (3, False)]
        assert again.placed[1].accepted_ms == first.placed[0].accepted_ms
        keys = [submission(n).idempotency_keys[0] for n in "abcd"]
        (candidates,) = {tuple(c) for c in await ledger_store.candidates(keys)}
        assert candidates == (0, 1, 2, 3), "all four share one field"
        found = await find_keys(
            ledger_store, reader, [*keys, hash_key("license_issued", b"e" * 32)]
        )
        assert {key: index for key, (index, _) in found.items()} == dict(
            zip(keys, range(4), strict=True)
        )

    async def test_same_hash_other_content_is_still_reused(
        self, settings: Settings, store: Store
    ) -> None:
        """Among the entries sharing a field, the one with the key's hash and kind decides."""
        _, _, sequencer = ledger(settings, store, COLLIDING)
        await sequencer.start()
        try:
            await sequencer.submit([submission("a"), submission("b")])
            with pytest.raises(Reused) as raised:
                await sequencer.submit([submission("c"), submission("b", "license-other")])
            assert (raised.value.position, raised.value.index) == (1, 1)
            placed = (await sequencer.submit([submission("c")])).placed
        finally:
            await sequencer.stop()
        assert (placed[0].index, placed[0].duplicate) == (2, False), "the refused call wrote none"

    async def test_explicit_keys_keep_their_own_fields(
        self, settings: Settings, store: Store
    ) -> None:
        """Under a layout whose short fields all collide, explicit keys still tell apart."""
        _, _, sequencer = ledger(settings, store, COLLIDING)
        await sequencer.start()
        try:
            await sequencer.submit([submission("a", key="k-1"), submission("b", key="k-2")])
            retried = await sequencer.submit([submission("b", key="k-2")])
            with pytest.raises(Reused) as raised:
                await sequencer.submit([submission("c", key="k-1")])
        finally:
            await sequencer.stop()
        assert (retried.placed[0].index, retried.placed[0].duplicate) == (1, True)
        assert raised.value.index == 0

    async def test_a_field_written_by_another_key_is_not_a_duplicate(
        self, settings: Settings, store: Store
    ) -> None:
        """With the real layout: an index planted under a key's field does not capture it."""
        ledger_store, reader, sequencer = ledger(settings, store, Layout())
        await sequencer.start()
        try:
            await sequencer.submit([submission("a")])
            key = submission("b").idempotency_keys[0]
            bucket, field = slot(key, Layout().bucket_bytes, Layout().short_field)
            name = f"{{ledger:{settings.ledger_origin}}}:idempotency:{bucket.hex()}"
            await store.redis.hset(name, field, "0")  # as if entry 0's key shared it
            placed = (await sequencer.submit([submission("b")])).placed
            again = (await sequencer.submit([submission("b")])).placed
        finally:
            await sequencer.stop()
        assert (placed[0].index, placed[0].duplicate) == (1, False)
        assert (again[0].index, again[0].duplicate) == (1, True)
        assert await store.redis.hget(name, field) == b"0,1", "the field holds both"
        assert (await find_keys(ledger_store, reader, [key]))[key][0] == 1


class TestCollidingOverGrpc:
    """LookupEntry and ListArtefactEntries answer as before when every field collides."""

    async def test_lookup_and_chains(
        self, settings: Settings, store: Store, start_ledger: Any
    ) -> None:
        """Each lookup finds its own entry; each chain holds only its identifier's entries."""
        ledger_store, reader, sequencer = ledger(settings, store, COLLIDING)
        servicer = LedgerServicer(
            ledger_store, reader, sequencer, log=load_signer(settings).verifier()
        )
        registration = Registration(
            name="certfree.ledger.v1.LedgerService",
            add=lambda server: ledger_pb2_grpc.add_LedgerServiceServicer_to_server(
                servicer, server
            ),
            on_start=sequencer.start,
            on_stop=sequencer.stop,
        )
        running = await start_ledger([registration])
        names = [("issued-a", "license-a"), ("issued-b", "license-b"), ("changed-a", "license-a")]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            for name, artefact_id in names:
                await stub.Append(
                    ledger_pb2.AppendRequest(
                        attestation=ledger_pb2.Attestation(
                            artefact_sha256=hashlib.sha256(name.encode()).digest(),
                            kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
                            issuer_department=MARKET_REGULATION,
                            artefact_id=artefact_id,
                        )
                    ),
                    metadata=caller(),
                )
            for index, (name, _) in enumerate(names):
                found = await stub.LookupEntry(
                    ledger_pb2.LookupEntryRequest(
                        artefact_sha256=hashlib.sha256(name.encode()).digest(),
                        kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
                    ),
                    metadata=caller(),
                )
                assert found.index == index
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await stub.LookupEntry(
                    ledger_pb2.LookupEntryRequest(
                        artefact_sha256=hashlib.sha256(b"never").digest(),
                        kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
                    ),
                    metadata=caller(),
                )
            assert raised.value.code() == grpc.StatusCode.NOT_FOUND
            chains = {
                artefact_id: await stub.ListArtefactEntries(
                    ledger_pb2.ListArtefactEntriesRequest(artefact_id=artefact_id),
                    metadata=caller(),
                )
                for artefact_id in ("license-a", "license-b", "license-c")
            }
        assert await ledger_store.artefact_indexes("license-c") == [0, 1, 2], "one shared field"
        assert [e.entry.index for e in chains["license-a"].entries] == [0, 2]
        assert [e.entry.index for e in chains["license-b"].entries] == [1]
        assert list(chains["license-c"].entries) == []


class TestCompactBuckets:
    """With the real layout the indexes are small listpack hashes under the log's hash tag."""

    async def test_buckets_are_listpacks_in_the_log_slot(
        self, settings: Settings, store: Store
    ) -> None:
        """Every bucket key carries the tag and holds a listpack; no big hash remains."""
        _, _, sequencer = ledger(settings, store, Layout())
        await sequencer.start()
        try:
            await sequencer.submit([submission(f"n{i}", key=f"k{i}") for i in range(200)])
        finally:
            await sequencer.stop()
        tag = f"{{ledger:{settings.ledger_origin}}}"
        buckets = [
            key
            async for key in store.redis.scan_iter(match=f"{tag}:*", count=1000)
            if key.decode().split(":")[-2] in ("idempotency", "artefacts")
        ]
        assert {key.decode().split(":")[-2] for key in buckets} == {"idempotency", "artefacts"}
        fields = 0
        for key in buckets:
            assert await store.redis.object("encoding", key) == b"listpack"
            fields += await store.redis.hlen(key)
        assert fields == 600, "a hash key, an explicit key and an identifier per entry"
        assert not await store.redis.exists(f"{tag}:idempotency", f"{tag}:artefacts")

"""One sequencer per log: a lease with a fencing token, held by one replica at a time."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

import services.ledger
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import Settings
from runtime.tlog import merkle, tiles
from runtime.tlog.checkpoint import open_checkpoint
from runtime.tlog.entry import Entry
from runtime.tlog.note import Signer
from services.ledger.reader import LogReader
from services.ledger.sequencer import Sequencer, Submission
from services.ledger.store import Conflict, Fenced, KeysInUse, LedgerStore, Write
from tests.conftest import MARKET_REGULATION, caller

LEASE_MS = 300


def append_request(name: str) -> ledger_pb2.AppendRequest:
    """An attestation of the artefact `name`."""
    return ledger_pb2.AppendRequest(
        attestation=ledger_pb2.Attestation(
            artefact_sha256=hashlib.sha256(name.encode()).digest(),
            kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
            issuer_department=MARKET_REGULATION,
            artefact_id=f"license-{name}",
        )
    )


def submission(name: str) -> Submission:
    """The sequencer's form of append_request(name)."""
    return Submission(
        "license_issued",
        MARKET_REGULATION,
        f"license-{name}",
        hashlib.sha256(name.encode()).digest(),
    )


def reason(error: grpc.aio.AioRpcError) -> str:
    """The ErrorInfo reason of a failed call."""
    status = rpc_status.from_call(error)
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    next(d for d in status.details if d.Is(info.DESCRIPTOR)).Unpack(info)
    return str(info.reason)


class TestReplicas:
    """Two ledger replicas on one store: one appends, the other refuses, then takes over."""

    async def test_follower_refuses_then_takes_over(
        self, settings: Settings, store: Any, start_ledger: Any
    ) -> None:
        """Appends on the follower are UNAVAILABLE NOT_SEQUENCER until the leader stops."""
        fast = dataclasses.replace(settings, ledger_lease_ms=LEASE_MS)
        leader = await start_ledger(services.ledger.registrations(fast, store))
        follower = await start_ledger(services.ledger.registrations(fast, store))
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{leader.port}") as to_leader,
            grpc.aio.insecure_channel(f"127.0.0.1:{follower.port}") as to_follower,
        ):
            first = await ledger_pb2_grpc.LedgerServiceStub(to_leader).Append(
                append_request("a"), metadata=caller()
            )
            follower_stub = ledger_pb2_grpc.LedgerServiceStub(to_follower)
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await follower_stub.Append(append_request("b"), metadata=caller())
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
            assert reason(raised.value) == "NOT_SEQUENCER"
            read = await follower_stub.GetEntry(
                ledger_pb2.GetEntryRequest(index=0), metadata=caller()
            )
            assert read == first.entry, "followers serve reads"

            await leader.stop(1)
            for _ in range(50):
                try:
                    second = await follower_stub.Append(append_request("b"), metadata=caller())
                    break
                except grpc.aio.AioRpcError as error:
                    assert reason(error) == "NOT_SEQUENCER"
                    await asyncio.sleep(0.05)
            else:
                pytest.fail("the follower never took over the lease")
            assert second.entry.index == 1
            proof = await follower_stub.GetConsistencyProof(
                ledger_pb2.GetConsistencyProofRequest(first_size=1), metadata=caller()
            )
        verifier = Signer.from_key_string(fast.ledger_key_path.read_text().strip()).verifier()
        old = open_checkpoint(first.checkpoint.signed_note, verifier)[0]
        new = open_checkpoint(second.checkpoint.signed_note, verifier)[0]
        merkle.verify_consistency(1, 2, list(proof.hashes), old.root_hash, new.root_hash)


class TestFencing:
    """A sequencer paused past its lease cannot write after another took over."""

    async def test_paused_sequencer_is_fenced(self, settings: Settings, store: Any) -> None:
        """A's renewals stop (a long pause); B takes the lease; A's next batch writes nothing."""
        ledger_store = LedgerStore(store, settings.ledger_origin)
        signer = Signer.generate(settings.ledger_origin)

        def sequencer() -> Sequencer:
            return Sequencer(
                ledger_store,
                LogReader(ledger_store),
                signer,
                settings.ledger_origin,
                lease_ms=LEASE_MS,
            )

        a, b = sequencer(), sequencer()
        await a.start()
        await b.start()
        try:
            assert a.leading and not b.leading
            await a.submit([submission("a")])
            # Simulate a stop-the-world pause of A: its renewals stop, its token stays.
            assert a._lease_task is not None
            a._lease_task.cancel()
            await asyncio.sleep(LEASE_MS / 1000 * 1.5)
            await b.keep_lease()
            assert b.leading and a.leading, "A does not know yet that it lost the lease"
            with pytest.raises(Fenced):
                await a.submit([submission("from-paused-a")])
            assert not a.leading
            assert await ledger_store.size() == 1, "the fenced batch wrote nothing"
            (placed,) = (await b.submit([submission("b")])).placed
            assert placed.index == 1
        finally:
            await a.stop()
            await b.stop()


class TestStaleView:
    """A sequencer whose memory of the tiles disagrees with the store writes nothing."""

    async def test_write_not_at_tile_end_is_refused(self, settings: Settings, store: Any) -> None:
        """The commit script refuses a write that would not extend its tile, and lands nothing."""
        ledger_store = LedgerStore(store, settings.ledger_origin)
        token = await ledger_store.hold_lease("test", 10_000)
        bundle = tiles.TileID(tiles.ENTRIES, 0, tiles.TILE_WIDTH)
        first = ledger_store.prepare(
            lease=token,
            old_size=0,
            new_size=1,
            checkpoint="one",
            idempotency={},
            writes=[Write(bundle, 0, b"first")],
        )
        await ledger_store.commit(first)
        stale = ledger_store.prepare(
            lease=token,
            old_size=1,
            new_size=2,
            checkpoint="two",
            idempotency={},
            writes=[Write(bundle, 3, b"x")],
        )
        with pytest.raises(Conflict, match="has 5 bytes; a write at 3"):
            await ledger_store.commit(stale)
        assert await ledger_store.size() == 1
        assert await ledger_store.checkpoint() == "one"
        assert await ledger_store.tiles([bundle]) == [b"first"]

    async def test_commit_after_the_store_forgot_its_scripts(
        self, settings: Settings, store: Any
    ) -> None:
        """A restarted server has no scripts loaded: the commit loads its own and lands once."""
        ledger_store = LedgerStore(store, settings.ledger_origin)
        token = await ledger_store.hold_lease("test", 10_000)
        bundle = tiles.TileID(tiles.ENTRIES, 0, tiles.TILE_WIDTH)
        batch = ledger_store.prepare(
            lease=token,
            old_size=0,
            new_size=1,
            checkpoint="one",
            idempotency={},
            writes=[Write(bundle, 0, b"first")],
        )
        await store.redis.script_flush()
        assert await ledger_store.commit(batch) is True
        assert await ledger_store.commit(batch) is False, "a replay lands nothing"
        assert await ledger_store.size() == 1
        assert await ledger_store.tiles([bundle]) == [b"first"]

    async def test_sequencer_reloads_after_refusal(self, settings: Settings, store: Any) -> None:
        """A stale bundle length (a reply lost after its batch landed) costs one batch, not data."""
        ledger_store = LedgerStore(store, settings.ledger_origin)
        reader = LogReader(ledger_store)
        sequencer = Sequencer(
            ledger_store, reader, Signer.generate(settings.ledger_origin), settings.ledger_origin
        )
        await sequencer.start()
        try:
            await sequencer.submit([submission("a"), submission("b")])
            sequencer._bundle_length -= 3  # what a lost reply and a half-done reload would leave
            with pytest.raises(Conflict):
                await sequencer.submit([submission("c")])
            (placed,) = (await sequencer.submit([submission("c")])).placed
            assert placed.index == 2
            encoded = await reader.entries([0, 1, 2])
            assert [Entry.decode(e).artefact_id for e in encoded] == [
                "license-a",
                "license-b",
                "license-c",
            ]
        finally:
            await sequencer.stop()


class TestPipeline:
    """Batches built while an earlier one lands never double an entry or leave a gap."""

    @staticmethod
    async def started(settings: Settings, store: Any) -> tuple[Sequencer, LedgerStore]:
        ledger_store = LedgerStore(store, settings.ledger_origin)
        sequencer = Sequencer(
            ledger_store,
            LogReader(ledger_store),
            Signer.generate(settings.ledger_origin),
            settings.ledger_origin,
            max_batch=1,  # every call its own batch: the pipeline always has one in flight
        )
        await sequencer.start()
        return sequencer, ledger_store

    async def test_commit_with_check_refuses_a_key_in_use(
        self, settings: Settings, store: Any
    ) -> None:
        """A batch built believing its keys new writes nothing when the store has one."""
        ledger_store = LedgerStore(store, settings.ledger_origin)
        token = await ledger_store.hold_lease("test", 10_000)
        bundle = tiles.TileID(tiles.ENTRIES, 0, tiles.TILE_WIDTH)
        key, fresh = submission("a").idempotency_keys[0], submission("b").idempotency_keys[0]
        for size, data in enumerate([b"a", b"b"]):
            commit = ledger_store.commit(
                ledger_store.prepare(
                    lease=token,
                    old_size=size,
                    new_size=size + 1,
                    checkpoint=f"checkpoint {size + 1}",
                    # The second batch sets a fresh key's field before it meets the
                    # used one: that field must be taken out again.
                    idempotency={fresh: size, key: size} if size else {key: size},
                    writes=[Write(bundle, size, data)],
                    check_keys=True,
                )
            )
            if size == 0:
                await commit
            else:
                with pytest.raises(KeysInUse):
                    await commit
        assert (await ledger_store.size(), await ledger_store.checkpoint()) == (1, "checkpoint 1")
        assert await ledger_store.candidates([key, fresh]) == [[0], []]
        assert await ledger_store.tiles([bundle]) == [b"a"]

    async def test_calls_in_flight_with_one_key_make_one_entry(
        self, settings: Settings, store: Any
    ) -> None:
        """Concurrent calls repeating artefacts get the first call's index, once each."""
        sequencer, ledger_store = await self.started(settings, store)
        try:
            names = [f"n{i % 5}" for i in range(20)]
            landed = await asyncio.gather(*(sequencer.submit([submission(n)]) for n in names))
            by_name: dict[str, set[int]] = {}
            for name, outcome in zip(names, landed, strict=True):
                by_name.setdefault(name, set()).add(outcome.placed[0].index)
            assert all(len(indexes) == 1 for indexes in by_name.values())
            assert sorted(i for (i,) in by_name.values()) == list(range(5))
            assert sum(not o.placed[0].duplicate for o in landed) == 5
            assert await ledger_store.size() == 5
        finally:
            await sequencer.stop()

    async def test_batch_built_on_a_tree_that_did_not_happen_is_rebuilt(
        self, settings: Settings, store: Any
    ) -> None:
        """A batch planned after a duplicate-only batch lands at the next free index."""
        sequencer, ledger_store = await self.started(settings, store)
        reader = LogReader(ledger_store)
        try:
            await sequencer.submit([submission("x")])
            again, fresh = await asyncio.gather(
                sequencer.submit([submission("x")]), sequencer.submit([submission("y")])
            )
            assert (again.placed[0].index, again.placed[0].duplicate) == (0, True)
            assert (fresh.placed[0].index, fresh.placed[0].duplicate) == (1, False)
            assert fresh.checkpoint.size == 2
            entries = [Entry.decode(e) for e in await reader.entries([0, 1])]
            assert [e.artefact_id for e in entries] == ["license-x", "license-y"]
            root = merkle.root([merkle.leaf_hash(e) for e in await reader.entries([0, 1])])
            assert fresh.checkpoint.root_hash == root
        finally:
            await sequencer.stop()

"""Benchmark the ledger at scale: sustained appends, inclusion proofs by log size, store bytes.

    python bench/ledger.py [--quick] [--cases 1x1,1x16,...,1000x16] [--duration 10]
                           [--sizes 1000,100000,1000000] [--with-1e7] [--bytes-at 1000000]
                           [--build sequencer|grpc] [--skip-appends]

Starts an embedded Valkey (or uses REDIS_URL) on a temporary data dir, the real ledger
gRPC server (certfree's interceptor, DevIdentity) and a bare unary echo server (the
baseline) in this process, then measures:

1. Sustained appends. A load generator in a child process (so that this process's CPU
   is the server's alone) runs N concurrent callers, each sending ``Append`` (B = 1)
   or ``BatchAppend`` of B fresh attestations (built before the clock starts) back to
   back for a fixed time. Every
   reply is durable (fsynced) and carries a signed checkpoint that covers its entries.
   Printed: entries/s, calls/s, p50/p99 call-to-receipt latency, CPU per entry of the
   ledger process, the store and the client, and calls/s against the echo baseline
   (the same client sending the same request bytes to the echo server, same N).
2. Inclusion proofs by log size. A fresh log is grown to each of ``--sizes`` (by the
   sequencer in this process with large batches, or ``--build grpc``); at each size,
   sequential ``GetInclusionProof`` over random indexes: p50/p99, proof length, store
   commands per proof, and p50 against a sequential echo.
3. Store bytes per entry at ``--bytes-at`` entries: Valkey ``used_memory`` and the
   append-only file before and after the build, per entry, and what is beyond the
   entry bundle (the entry's bytes plus its 2-byte length prefix).

Timings are this machine's; the ratios are what to compare across changes. What each
figure means, and the figures of the reference machine: docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import hashlib
import itertools
import multiprocessing
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from common import (
    ECHO,
    add_baseline_options,
    echo_server,
    fill_defaults,
    integers,
    percentile,
    warm_child,
)

import services.ledger
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import Settings, load
from runtime.identity import DEPARTMENT_HEADER, ROLE_HEADER, DevIdentity
from runtime.logs import configure
from runtime.server import RunningServer, start_server
from runtime.store import Store, connect
from runtime.tlog import merkle
from runtime.tlog.entry import KINDS
from runtime.valkey import EmbeddedValkey
from services.ledger.keys import load_signer
from services.ledger.reader import LogReader
from services.ledger.sequencer import Sequencer, Submission
from services.ledger.store import LedgerStore

DEPARTMENT = "11350100MB01234565"
METADATA = ((DEPARTMENT_HEADER, DEPARTMENT), (ROLE_HEADER, "issuer"))
APPEND = "/certfree.ledger.v1.LedgerService/Append"
BATCH_APPEND = "/certfree.ledger.v1.LedgerService/BatchAppend"
MAX_CALL_ENTRIES = 1000
"""BatchAppend's limit (ledger.proto)."""


def artefact_id(tag: str, i: int) -> str:
    """A GB/T 36904-shaped license identifier, unique per (tag, i) for i < 10^8: 71 characters."""
    return f"1.2.156.3005.2.11100000000013127D001.{DEPARTMENT}.{tag}{i:08d}.001.K"


def artefact_sha256(tag: str, i: int) -> bytes:
    """The hash of a made-up signed artefact, unique per (tag, i)."""
    return hashlib.sha256(f"bench artefact {tag} {i}".encode()).digest()


def attestation(tag: str, i: int) -> ledger_pb2.Attestation:
    """An attestation as an issuing system sends it (as in tests/test_ledger.py)."""
    return ledger_pb2.Attestation(
        artefact_sha256=artefact_sha256(tag, i),
        kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
        issuer_department=DEPARTMENT,
        artefact_id=artefact_id(tag, i),
    )


# --- the load generator (runs in a child process) --------------------------------------


@dataclass(frozen=True)
class LoadSpec:
    """What the child process sends: to which server, how many at once, for how long."""

    port: int
    echo: bool
    """Send the same request bytes to the echo server instead of the ledger."""
    batch: int
    """Attestations per call: 1 is ``Append``, more is ``BatchAppend``."""
    concurrency: int
    warmup: float
    duration: float
    tag: str
    """Makes this run's artefacts unique in the log (one letter)."""
    total: int = 0
    """If set, stop after exactly this many entries (building a log) instead of by time."""
    first: int = 0
    """The number of the first artefact (with `total`, to continue an earlier build)."""


@dataclass
class LoadResult:
    """What the child measured; latencies are of calls that completed in the window."""

    calls: int = 0
    entries: int = 0
    window: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    sent_entries: int = 0
    """Every entry acknowledged, warm-up and tail included (what the CPU figures cover)."""
    client_cpu: float = 0.0
    reply_bytes: int = 0
    """Serialized size of one reply (the last), to show what a caller receives per entry."""
    errors: int = 0
    first_error: str = ""
    built_live: int = 0
    """Requests built during the run because the stock built in advance ran out."""
    build_seconds: float = 0.0
    """Time spent building the stock before the run (the servers idle meanwhile)."""


STOCK_ENTRIES_PER_S = 40_000
"""Entries/s the requests built in advance cover, for warm-up and window (batched calls);
above what this machine sustains, so the stock runs out only on a faster one."""


def _stock(spec: LoadSpec) -> int:
    """How many requests to build before the clock starts."""
    rate = STOCK_ENTRIES_PER_S if spec.batch > 1 else STOCK_ENTRIES_PER_S // 8
    return spec.concurrency + int(rate * (spec.warmup + spec.duration)) // spec.batch


def run_load(spec: LoadSpec) -> LoadResult:
    """Entry point of the child process."""
    return asyncio.run(_load(spec))


async def _load(spec: LoadSpec) -> LoadResult:
    result = LoadResult()
    request_type: Any = (
        ledger_pb2.AppendRequest if spec.batch == 1 else ledger_pb2.BatchAppendRequest
    )
    reply_type: Any
    if spec.echo:
        path, reply_type = ECHO, request_type
    elif spec.batch == 1:
        path, reply_type = APPEND, ledger_pb2.AppendResponse
    else:
        path, reply_type = BATCH_APPEND, ledger_pb2.BatchAppendResponse
    options = [("grpc.max_receive_message_length", 64 << 20)]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{spec.port}", options=options) as channel:
        call = channel.unary_unary(
            path,
            request_serializer=bytes,  # built and serialized in advance (below)
            response_deserializer=reply_type.FromString,
        )
        loop = asyncio.get_running_loop()
        counter = iter(range(1 << 62))
        remaining = [spec.total]

        def build() -> tuple[bytes, int]:
            size = spec.batch
            if spec.total:
                size = min(size, remaining[0])
                remaining[0] -= size
            first = spec.first + next(counter) * spec.batch
            if spec.batch == 1:
                message = ledger_pb2.AppendRequest(attestation=attestation(spec.tag, first))
                return message.SerializeToString(), size
            appends = [
                ledger_pb2.AppendRequest(attestation=attestation(spec.tag, first + k))
                for k in range(size)
            ]
            return ledger_pb2.BatchAppendRequest(appends=appends).SerializeToString(), size

        # Requests are built before the clock starts, so the load generator's CPU while it
        # runs is the gRPC calls alone: on a 2-core machine the time it takes to make up
        # attestations would otherwise be taken from the servers it measures. If the
        # servers outrun the stock, the rest is built on the fly (and counted).
        building = time.perf_counter()
        stock = [build() for _ in range(0 if spec.total else _stock(spec))]
        stock.reverse()
        result.build_seconds = time.perf_counter() - building
        cpu = time.process_time()
        begin = loop.time()
        window_start = begin + spec.warmup
        window_end = window_start + spec.duration

        reused = itertools.cycle(stock[:])  # the echo may send the same bytes again

        def request() -> tuple[bytes, int]:
            if spec.echo:
                return next(reused)
            if stock:
                return stock.pop()
            result.built_live += 1
            return build()

        def check(reply: Any, size: int) -> None:
            if spec.echo:
                return
            if spec.batch > 1 and len(reply.results) != size:
                raise AssertionError(f"{len(reply.results)} results for {size} appends")
            last = reply.entry if spec.batch == 1 else reply.results[-1]
            duplicate = reply.duplicate if spec.batch == 1 else last.duplicate
            if duplicate or reply.checkpoint.size <= last.index:
                raise AssertionError("a reply whose checkpoint does not cover its new entry")

        async def worker() -> None:
            while (remaining[0] > 0) if spec.total else (loop.time() < window_end):
                message, size = request()
                started = loop.time()
                try:
                    reply = await call(message, metadata=METADATA)
                    check(reply, size)
                except (grpc.aio.AioRpcError, AssertionError) as error:
                    result.errors += 1
                    result.first_error = result.first_error or str(error)[:300]
                    if spec.total:
                        raise
                    continue
                ended = loop.time()
                if not result.reply_bytes:
                    result.reply_bytes = reply.ByteSize() // size
                result.sent_entries += size
                if window_start <= ended <= window_end:
                    result.calls += 1
                    result.entries += size
                    result.latencies_ms.append((ended - started) * 1000)

        await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
        result.window = spec.duration if not spec.total else loop.time() - begin
    result.latencies_ms.sort()
    result.client_cpu = time.process_time() - cpu
    return result


# --- servers, store ---------------------------------------------------------------------


@dataclass
class StoreHandle:
    """A running store (embedded or REDIS_URL) and a client of it."""

    url: str
    store: Store
    embedded: EmbeddedValkey | None

    async def info(self, section: str) -> dict[str, Any]:
        """INFO `section` as a dict."""
        found: dict[str, Any] = await self.store.redis.info(section)
        return found

    async def cpu(self) -> float:
        """CPU seconds the store's process has used (user + system)."""
        info = await self.info("cpu")
        return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])

    def aof_disk_bytes(self) -> int | None:
        """Bytes of the append-only directory on disk (embedded store only)."""
        if self.embedded is None:
            return None
        root = self.embedded.store_dir / "appendonlydir"
        return sum(p.stat().st_size for p in root.iterdir() if p.is_file())

    async def close(self) -> None:
        """Disconnect, and stop the embedded server."""
        await self.store.close()
        if self.embedded is not None:
            await self.embedded.stop()


async def open_store(data_dir: Path, name: str) -> StoreHandle:
    """The store of one phase: a fresh embedded Valkey under `data_dir`, or REDIS_URL."""
    url = os.environ.get("REDIS_URL", "")
    embedded = None
    if not url:
        embedded = EmbeddedValkey(data_dir)
        url = await embedded.start()
    return StoreHandle(url, await connect(url, client_name=f"bench-{name}"), embedded)


def phase_settings(data_dir: Path, url: str, name: str) -> Settings:
    """Settings of one phase: its own data dir (log key) and origin (store keys)."""
    return load(
        {},
        data_dir=data_dir,
        redis_url=url,
        ledger_port=0,
        ledger_origin=f"bench.certfree.localhost/{name}-{os.urandom(3).hex()}",
    )


async def start_ledger(settings: Settings, store: Store) -> RunningServer:
    """The real ledger server on loopback, as `certfree up` mounts it."""
    return await start_server(
        settings, "127.0.0.1:0", services.ledger.registrations(settings, store), DevIdentity()
    )


# --- 1. sustained appends ---------------------------------------------------------------


@dataclass
class AppendRow:
    """One line of the appends table."""

    case: str
    batch: int
    concurrency: int
    load: LoadResult
    server_cpu: float
    store_cpu: float
    wall: float
    echo_calls_per_s: float = 0.0

    @property
    def calls_per_s(self) -> float:
        """Completed calls per second in the window."""
        return self.load.calls / self.load.window

    @property
    def entries_per_s(self) -> float:
        """Entries acknowledged per second in the window."""
        return self.load.entries / self.load.window


async def run_case(
    pool: concurrent.futures.ProcessPoolExecutor,
    spec: LoadSpec,
    handle: StoreHandle,
    case: str,
) -> AppendRow:
    """Run one load in the child and measure this process's and the store's CPU around it."""
    loop = asyncio.get_running_loop()
    store_cpu, server_cpu, wall = await handle.cpu(), time.process_time(), time.perf_counter()
    load = await loop.run_in_executor(pool, run_load, spec)
    wall = time.perf_counter() - wall - load.build_seconds
    server_cpu = time.process_time() - server_cpu
    store_cpu = await handle.cpu() - store_cpu
    return AppendRow(case, spec.batch, spec.concurrency, load, server_cpu, store_cpu, wall)


def tags() -> Iterator[str]:
    """One letter per case, so that every case's artefacts are new to the log."""
    yield from "ABCDEFGHIJKLMNOPQRSTUVWXY"


async def appends_phase(
    args: argparse.Namespace,
    pool: concurrent.futures.ProcessPoolExecutor,
    root: Path,
) -> list[AppendRow]:
    """Sustained appends through gRPC for each (B, N), each against the echo at the same N."""
    handle = await open_store(root / "appends", "appends")
    settings = phase_settings(root / "appends", handle.url, "appends")
    ledger = await start_ledger(settings, handle.store)
    echo, echo_port = await echo_server()
    rows = []
    tag = tags()
    memory_before = (await store_snapshot(handle))[0]
    try:
        for batch, concurrency in args.cases:
            common = {"batch": batch, "concurrency": concurrency}
            timing = {"warmup": args.warmup, "duration": args.duration}
            echo_row = None
            if not args.no_echo:
                echo_row = await run_case(
                    pool,
                    LoadSpec(echo_port, True, tag=next(tag), **common, **timing),
                    handle,
                    "echo",
                )
                echo_row.echo_calls_per_s = echo_row.calls_per_s
                rows.append(echo_row)
                print_append_row(echo_row)
            row = await run_case(
                pool,
                LoadSpec(ledger.port, False, tag=next(tag), **common, **timing),
                handle,
                "Append" if batch == 1 else "BatchAppend",
            )
            if echo_row is not None:
                row.echo_calls_per_s = echo_row.calls_per_s
            rows.append(row)
            print_append_row(row)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{ledger.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            checkpoint = await stub.GetCheckpoint(
                ledger_pb2.GetCheckpointRequest(), metadata=METADATA
            )
        appended = sum(r.load.sent_entries for r in rows if r.case != "echo")
        print(
            f"log size after the appends: {checkpoint.size:,} "
            f"(acknowledged by the load generator: {appended:,})"
        )
        if checkpoint.size != appended:
            print("MISMATCH: the log does not hold exactly the acknowledged entries")
        if checkpoint.size:
            grown = (await store_snapshot(handle))[0] - memory_before
            bundles, usage = await structure_bytes(handle, settings)
            n = checkpoint.size
            print(
                f"store after the appends (batches as the gRPC load formed them): used_memory "
                f"growth {grown / n:,.1f} B/entry, {grown / n - bundles / n:+,.1f} beyond the "
                f"bundle ({bundles / n:.1f} B/entry); MEMORY USAGE: "
                + ", ".join(f"{group} {total / n:,.1f}" for group, total in usage.items())
            )
    finally:
        await ledger.stop(0)
        await echo.stop(0)
        await handle.close()
    return rows


APPEND_HEADER = (
    f"{'case':<12}{'B':>5}{'N':>4}{'entries/s':>11}{'calls/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
    f"{'srv CPU':>8}{'µs CPU/entry: srv':>19}{'store':>7}{'client':>8}{'reply B/e':>10}"
    f"{'calls/echo':>11}"
)


def print_append_row(row: AppendRow) -> None:
    """One line of the appends table (printed as soon as it is measured)."""
    load = row.load
    per_entry = 1e6 / max(load.sent_entries, 1)
    ratio = row.calls_per_s / row.echo_calls_per_s if row.echo_calls_per_s else 0.0
    errors = f"  errors={load.errors}: {load.first_error}" if load.errors else ""
    if load.built_live:
        errors += f"  ({load.built_live} requests built during the run: the stock ran out)"
    print(
        f"{row.case:<12}{row.batch:>5}{row.concurrency:>4}{row.entries_per_s:>11,.0f}"
        f"{row.calls_per_s:>9,.1f}{percentile(load.latencies_ms, 0.5):>9.1f}"
        f"{percentile(load.latencies_ms, 0.99):>9.1f}{row.server_cpu / row.wall:>8.0%}"
        f"{row.server_cpu * per_entry:>19,.0f}{row.store_cpu * per_entry:>7,.0f}"
        f"{load.client_cpu * per_entry:>8,.0f}{load.reply_bytes:>10,}{ratio:>11.3f}{errors}",
        flush=True,
    )


# --- 2. inclusion proofs by size, 3. bytes per entry ------------------------------------


@dataclass
class ProofRow:
    """One line of the proofs table."""

    size: int
    built_in: float
    build_rate: float
    p50_ms: float
    p99_ms: float
    proof_hashes: float
    store_commands: float
    echo_p50_ms: float


class Builder:
    """Grows a log to a given size, by the sequencer in this process or through gRPC."""

    def __init__(
        self,
        how: str,
        settings: Settings,
        handle: StoreHandle,
        pool: concurrent.futures.ProcessPoolExecutor,
        batch: int,
    ) -> None:
        self.how = how
        self.size = 0
        self._settings = settings
        self._handle = handle
        self._pool = pool
        self._batch = batch
        self._tag = "Z"
        self._sequencer: Sequencer | None = None
        self.port = 0

    def describe(self) -> str:
        """How the log is built, for the report."""
        if self.how == "sequencer":
            return (
                f"services.ledger.sequencer.Sequencer in this process, max_batch={self._batch},"
                " submissions of 4 x max_batch kept in flight; every batch is the production"
                " path minus gRPC: idempotency buckets read, entries, tree, signed checkpoint, one"
                " guarded Lua commit, fsync"
            )
        return f"BatchAppend through gRPC, {MAX_CALL_ENTRIES} per call, 4 callers"

    async def start(self) -> None:
        """Start the in-process sequencer (it takes the lease before the server starts)."""
        if self.how != "sequencer":
            return
        ledger_store = LedgerStore(self._handle.store, self._settings.ledger_origin)
        self._sequencer = Sequencer(
            ledger_store,
            LogReader(ledger_store),
            load_signer(self._settings),
            self._settings.ledger_origin,
            max_batch=self._batch,
            max_delay=self._settings.ledger_max_delay_ms / 1000,
            lease_ms=self._settings.ledger_lease_ms,
        )
        await self._sequencer.start()
        if not self._sequencer.leading:
            raise RuntimeError("the build sequencer did not get the lease")

    async def stop(self) -> None:
        """Stop the in-process sequencer (it gives the lease up)."""
        if self._sequencer is not None:
            await self._sequencer.stop()

    async def grow(self, target: int) -> float:
        """Append until the log has `target` entries; returns the seconds it took."""
        started = time.perf_counter()
        if target <= self.size:
            return 0.0
        if self._sequencer is None:
            spec = LoadSpec(
                self.port,
                False,
                MAX_CALL_ENTRIES,
                4,
                0,
                0,
                self._tag,
                total=target - self.size,
                first=self.size,
            )
            load = await asyncio.get_running_loop().run_in_executor(self._pool, run_load, spec)
            if load.errors:
                raise RuntimeError(f"building the log failed: {load.first_error}")
        else:
            await self._feed(self._sequencer, target, started)
        self.size = target
        return time.perf_counter() - started

    async def _feed(self, sequencer: Sequencer, target: int, started: float) -> None:
        kind = KINDS[0]
        chunk = self._batch
        window: set[asyncio.Future[Any]] = set()
        for first in range(self.size, target, chunk):
            last = min(first + chunk, target)
            submissions = [
                Submission(
                    kind, DEPARTMENT, artefact_id(self._tag, i), artefact_sha256(self._tag, i)
                )
                for i in range(first, last)
            ]
            window.add(asyncio.ensure_future(sequencer.submit(submissions)))
            if len(window) >= 4:
                done, window = await asyncio.wait(window, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    future.result()
            if target - self.size >= 5_000_000 and first // 1_000_000 != last // 1_000_000:
                elapsed = time.perf_counter() - started
                print(f"  ... {last:,} entries submitted after {elapsed:,.0f} s", flush=True)
        for outcome in await asyncio.gather(*window, return_exceptions=True):
            if isinstance(outcome, BaseException):
                raise outcome


async def measure_proofs(
    stub: ledger_pb2_grpc.LedgerServiceStub,
    echo: grpc.aio.UnaryUnaryMultiCallable,
    handle: StoreHandle,
    size: int,
    requests: int,
) -> tuple[float, float, float, float, float]:
    """Sequential GetInclusionProof at random indexes, each followed by one echo of the
    request's bytes (so that a slow moment of the machine hits both alike).

    Returns p50 and p99 ms, hashes and store commands per proof, and the echo's p50 ms.
    """
    rng = random.Random(size)  # noqa: S311 - benchmark sampling, not security
    for index in (0, size - 1, rng.randrange(size)):  # warm up, and check three proofs
        proof = await stub.GetInclusionProof(
            ledger_pb2.GetInclusionProofRequest(index=index), metadata=METADATA
        )
        entry = await stub.GetEntry(ledger_pb2.GetEntryRequest(index=index), metadata=METADATA)
        merkle.verify_inclusion(
            merkle.leaf_hash(entry.encoded),
            index,
            size,
            list(proof.hashes),
            proof.checkpoint.root_hash,
        )
    before = await handle.info("stats")
    latencies, echoes, hashes = [], [], 0
    for _ in range(requests):
        request = ledger_pb2.GetInclusionProofRequest(index=rng.randrange(size))
        started = time.perf_counter()
        proof = await stub.GetInclusionProof(request, metadata=METADATA)
        latencies.append((time.perf_counter() - started) * 1000)
        hashes += len(proof.hashes)
        started = time.perf_counter()
        await echo(request.SerializeToString(), metadata=METADATA)
        echoes.append((time.perf_counter() - started) * 1000)
    after = await handle.info("stats")
    commands = int(after["total_commands_processed"]) - int(before["total_commands_processed"])
    latencies.sort()
    # INFO itself is one command; the lease renewals of two sequencers add a few more.
    return (
        percentile(latencies, 0.5),
        percentile(latencies, 0.99),
        hashes / requests,
        (commands - 1) / requests,
        statistics.median(echoes),
    )


@dataclass
class BytesReport:
    """Store growth over the build to `entries` entries."""

    entries: int
    used_memory: int
    aof_raw: int
    aof_disk_raw: int | None
    aof_disk_rewritten: int | None
    bundle_bytes: int
    by_structure: dict[str, int]
    reloaded_memory: int | None = None
    """used_memory of a server that loaded a copy of the rewritten AOF, less an empty one's."""
    reloaded_by_structure: dict[str, int] = field(default_factory=dict)


async def store_snapshot(handle: StoreHandle) -> tuple[int, int, int | None]:
    """used_memory, aof_current_size, and the AOF's bytes on disk."""
    memory = await handle.info("memory")
    persistence = await handle.info("persistence")
    return (
        int(memory["used_memory"]),
        int(persistence.get("aof_current_size", 0)),
        handle.aof_disk_bytes(),
    )


async def structure_bytes(handle: StoreHandle, settings: Settings) -> tuple[int, dict[str, int]]:
    """Total bundle length, and MEMORY USAGE summed per kind of key of the log."""
    redis = handle.store.redis
    tag = f"{{ledger:{settings.ledger_origin}}}"
    groups: dict[str, list[bytes]] = {"bundles": [], "hash tiles": [], "other": []}
    async for key in redis.scan_iter(match=f"{tag}:*", count=1000):
        name = key.decode() if isinstance(key, bytes) else str(key)
        kind = name.removeprefix(tag + ":").split(":")[0]
        group = {"bundle": "bundles", "tile": "hash tiles"}.get(kind, "other")
        if kind in ("idempotency", "artefacts"):
            group = f"{kind} hash"
            groups.setdefault(group, [])
        groups[group].append(key)
    usage: dict[str, int] = {}
    for group, keys in groups.items():
        total = 0
        for start in range(0, len(keys), 1000):
            async with redis.pipeline(transaction=False) as pipe:
                for key in keys[start : start + 1000]:
                    pipe.memory_usage(key, samples=0)
                total += sum(int(v or 0) for v in await pipe.execute())
        usage[group] = total
    bundle_length = 0
    for start in range(0, len(groups["bundles"]), 1000):
        async with redis.pipeline(transaction=False) as pipe:
            for key in groups["bundles"][start : start + 1000]:
                pipe.strlen(key)
            bundle_length += sum(await pipe.execute())
    return bundle_length, usage


async def rewrite_aof(handle: StoreHandle) -> None:
    """BGREWRITEAOF and wait until it is done."""
    await handle.store.redis.bgrewriteaof()
    while True:
        await asyncio.sleep(0.2)
        info = await handle.info("persistence")
        if not int(info["aof_rewrite_in_progress"]) and not int(info["aof_rewrite_scheduled"]):
            return


async def proofs_phase(
    args: argparse.Namespace, pool: concurrent.futures.ProcessPoolExecutor, root: Path
) -> tuple[list[ProofRow], BytesReport | None, str]:
    """Grow a fresh log through `args.sizes`; measure proofs at each, bytes at `bytes_at`."""
    handle = await open_store(root / "proofs", "proofs")
    settings = phase_settings(root / "proofs", handle.url, "proofs")
    builder = Builder(args.build, settings, handle, pool, args.build_batch)
    await builder.start()
    ledger = await start_ledger(settings, handle.store)
    builder.port = ledger.port
    echo, echo_port = await echo_server()
    rows: list[ProofRow] = []
    report = None
    redis = handle.store.redis
    rewrite_setting: str | None = None
    try:
        if handle.embedded is not None:
            # No automatic rewrite during the build, so the raw AOF growth can be measured.
            rewrite_setting = str(
                (await redis.config_get("auto-aof-rewrite-percentage"))[
                    "auto-aof-rewrite-percentage"
                ]
            )
            await redis.config_set("auto-aof-rewrite-percentage", 0)
        before = await store_snapshot(handle)
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{ledger.port}") as channel,
            grpc.aio.insecure_channel(f"127.0.0.1:{echo_port}") as echo_channel,
        ):
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            echo_call = echo_channel.unary_unary(ECHO)
            targets = sorted({*args.sizes, *([args.bytes_at] if args.bytes_at else [])})
            for target in targets:
                previous = builder.size
                seconds = await builder.grow(target)
                rate = (target - previous) / seconds if seconds else 0.0
                print(
                    f"  built {previous:,} -> {target:,} entries in {seconds:,.1f} s "
                    f"({rate:,.0f} entries/s)",
                    flush=True,
                )
                if target == args.bytes_at:
                    report = await bytes_report(handle, settings, target, before, root)
                    if rewrite_setting is not None:
                        await redis.config_set("auto-aof-rewrite-percentage", rewrite_setting)
                        rewrite_setting = None
                    print_bytes(report)
                if target in args.sizes:
                    measured = await measure_proofs(
                        stub, echo_call, handle, target, args.proof_requests
                    )
                    row = ProofRow(target, seconds, rate, *measured)
                    rows.append(row)
                    print_proof_row(row)
    finally:
        if rewrite_setting is not None:
            await redis.config_set("auto-aof-rewrite-percentage", rewrite_setting)
        await ledger.stop(0)
        await builder.stop()
        await echo.stop(0)
        await handle.close()
    return rows, report, builder.describe()


async def bytes_report(
    handle: StoreHandle,
    settings: Settings,
    entries: int,
    before: tuple[int, int, int | None],
    scratch: Path,
) -> BytesReport:
    """Store growth from the empty log to `entries`: live, on disk, and reloaded."""
    after = await store_snapshot(handle)
    bundle_length, usage = await structure_bytes(handle, settings)
    disk_raw = None if after[2] is None or before[2] is None else after[2] - before[2]
    report = BytesReport(
        entries=entries,
        used_memory=after[0] - before[0],
        aof_raw=after[1] - before[1],
        aof_disk_raw=disk_raw,
        aof_disk_rewritten=None,
        bundle_bytes=bundle_length,
        by_structure=usage,
    )
    if handle.embedded is not None:
        await rewrite_aof(handle)
        report.aof_disk_rewritten = handle.aof_disk_bytes()
        report.reloaded_memory, report.reloaded_by_structure = await reloaded_bytes(
            handle.embedded, settings, scratch
        )
    return report


async def reloaded_bytes(
    live: EmbeddedValkey, settings: Settings, scratch: Path
) -> tuple[int, dict[str, int]]:
    """Load a copy of the AOF into a second server: memory without SETRANGE's spare room.

    A string grown by SETRANGE keeps the spare capacity Valkey reserves for further growth
    (up to as much again); a server loading the file allocates each value at its size.
    """
    copy = scratch / "reloaded"
    shutil.copytree(live.store_dir / "appendonlydir", copy / "store" / "appendonlydir")
    try:
        async with EmbeddedValkey(scratch / "empty") as empty:
            client = await connect(empty.url, client_name="bench-empty")
            baseline = int((await client.redis.info("memory"))["used_memory"])
            await client.close()
        async with EmbeddedValkey(copy, start_timeout=600) as server:
            client = await connect(server.url, client_name="bench-reloaded")
            try:
                memory = int((await client.redis.info("memory"))["used_memory"])
                _, usage = await structure_bytes(StoreHandle(server.url, client, None), settings)
            finally:
                await client.close()
    finally:
        shutil.rmtree(copy, ignore_errors=True)
        shutil.rmtree(scratch / "empty", ignore_errors=True)
    return memory - baseline, usage


PROOF_HEADER = (
    f"{'log size':>12}{'built in s':>12}{'build/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
    f"{'hashes':>8}{'store cmds':>12}{'p50/echo':>10}"
)


def print_proof_row(row: ProofRow) -> None:
    """One line of the proofs table."""
    print(
        f"{row.size:>12,}{row.built_in:>12,.1f}{row.build_rate:>10,.0f}{row.p50_ms:>9.2f}"
        f"{row.p99_ms:>9.2f}{row.proof_hashes:>8.1f}{row.store_commands:>12.1f}"
        f"{row.p50_ms / row.echo_p50_ms:>10.2f}",
        flush=True,
    )


def print_bytes(report: BytesReport) -> None:
    """The bytes-per-entry block."""
    n = report.entries
    bundle = report.bundle_bytes / n
    print(f"store bytes per entry at {n:,} entries (entry bundle: {bundle:.1f} B/entry)")

    def line(what: str, total: int | None) -> None:
        if total is not None:
            print(
                f"  {what:<48}{total:>15,} B{total / n:>9.1f} B/entry"
                f"{total / n - bundle:>+9.1f} beyond the bundle"
            )

    line("Valkey used_memory, growth", report.used_memory)
    line("used_memory after loading the rewritten AOF", report.reloaded_memory)
    line("AOF growth, no rewrite (INFO aof_current_size)", report.aof_raw)
    line("AOF growth, no rewrite (files on disk)", report.aof_disk_raw)
    line("AOF after BGREWRITEAOF (RDB preamble, LZF)", report.aof_disk_rewritten)
    reloaded = report.reloaded_by_structure
    print(f"  {'MEMORY USAGE, B/entry':<48}{'live':>10}{'reloaded' if reloaded else '':>10}")
    for group, total in report.by_structure.items():
        again = f"{reloaded[group] / n:>10.1f}" if group in reloaded else ""
        print(f"    {group:<46}{total / n:>10.1f}{again}")


# --- main -------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    """Run the phases and print their tables."""
    configure(load({"CERTFREE_LOG_FORMAT": "json", "CERTFREE_LOG_LEVEL": args.log_level}))
    context = multiprocessing.get_context("spawn")
    with (
        tempfile.TemporaryDirectory(prefix="certfree-bench-") as tmp,
        concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool,
    ):
        await asyncio.get_running_loop().run_in_executor(pool, warm_child)
        root = Path(tmp)
        store_name = "REDIS_URL" if os.environ.get("REDIS_URL") else "embedded Valkey"
        print(
            f"certfree bench/ledger.py  store={store_name}  cores={os.cpu_count()}  "
            f"python={sys.version.split()[0]}  grpcio={grpc.__version__}",
            flush=True,
        )
        if not args.skip_appends:
            print(
                f"\n1. sustained appends: {args.duration:g} s per case after {args.warmup:g} s"
                " warm-up; echo = the same client and request bytes to a bare echo server",
                flush=True,
            )
            print(APPEND_HEADER, flush=True)
            await appends_phase(args, pool, root)
        if args.sizes or args.bytes_at:
            print(
                f"\n2. inclusion proofs ({args.proof_requests} sequential GetInclusionProof at"
                " random indexes per size, each followed by one echo), 3. store bytes per entry",
                flush=True,
            )
            rows, _, how = await proofs_phase(args, pool, root)
            print(f"log built by: {how}")
            print(PROOF_HEADER)
            for row in rows:
                print_proof_row(row)


DEFAULT_CASES = "1x1,1x16,1x64,100x4,100x16,1000x1,1000x4,1000x16"
QUICK_CASES = "1x16,100x4,1000x4"


def cases(text: str) -> list[tuple[int, int]]:
    """``BxN,...`` as (B, N) pairs."""
    found = []
    for part in text.split(","):
        batch, _, concurrency = part.strip().partition("x")
        found.append((int(batch), int(concurrency)))
    return found


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line flags; --quick shortens everything."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, sizes up to 10^5")
    parser.add_argument(
        "--cases",
        type=cases,
        help="BxN,...: B attestations per call (1 is Append), N callers in flight "
        f"(default {DEFAULT_CASES})",
    )
    parser.add_argument("--batches", type=integers, help="with --concurrency: every B x N")
    parser.add_argument("--concurrency", type=integers, help="with --batches: every B x N")
    parser.add_argument("--duration", type=float, help="measured seconds per case (default 10)")
    parser.add_argument("--warmup", type=float, help="seconds before measuring (default 2)")
    parser.add_argument("--sizes", type=integers, help="log sizes (default 1000,100000,1000000)")
    parser.add_argument("--with-1e7", action="store_true", help="also 10^7 (minutes, GBs)")
    parser.add_argument("--bytes-at", type=int, help="entries for bytes/entry (default 10^6)")
    parser.add_argument("--proof-requests", type=int, help="proofs per size (default 2000)")
    parser.add_argument("--build", choices=["sequencer", "grpc"], default="sequencer")
    parser.add_argument("--build-batch", type=int, default=16384, help="sequencer max_batch")
    parser.add_argument("--skip-appends", action="store_true", help="only proofs and bytes")
    add_baseline_options(parser)
    args = parser.parse_args(argv)
    quick = args.quick
    defaults: dict[str, Any] = {
        "cases": cases(QUICK_CASES if quick else DEFAULT_CASES),
        "duration": 3.0 if quick else 10.0,
        "warmup": 1.0 if quick else 2.0,
        "sizes": [1000, 10_000, 100_000] if quick else [1000, 100_000, 1_000_000],
        "bytes_at": 100_000 if quick else 1_000_000,
        "proof_requests": 300 if quick else 2000,
    }
    fill_defaults(args, defaults)
    if args.batches or args.concurrency:
        args.cases = [(b, n) for b in args.batches or [1] for n in args.concurrency or [16]]
    if args.with_1e7:
        args.sizes = sorted({*args.sizes, 10_000_000})
    for batch, concurrency in args.cases:
        if not 1 <= batch <= MAX_CALL_ENTRIES or concurrency < 1:
            parser.error(f"{batch}x{concurrency}: B must be 1..{MAX_CALL_ENTRIES}, N at least 1")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))

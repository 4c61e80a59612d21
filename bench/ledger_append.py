"""Benchmark the ledger's spine path against a bare gRPC echo in the same process.

    python bench/ledger_append.py [--requests 2000] [--concurrency 16]

Starts an embedded Valkey (or uses REDIS_URL) on a temporary data dir, a bare
unary echo server (the baseline), and the ledger behind certfree's interceptor;
then, for each of echo, GetEntry and Append: sequential latency (p50, p99) and
throughput with `--concurrency` calls in flight. Prints each figure and its ratio
to the echo baseline. Timings are this machine's; the ratios are what to compare
across changes.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc

import services.ledger
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.config import load
from runtime.identity import DEPARTMENT_HEADER, ROLE_HEADER, DevIdentity
from runtime.logs import configure
from runtime.server import server_options, start_server
from runtime.store import connect
from runtime.valkey import EmbeddedValkey

DEPARTMENT = "11350100MB01234565"
METADATA = ((DEPARTMENT_HEADER, DEPARTMENT), (ROLE_HEADER, "issuer"))
Call = Callable[[int], Awaitable[object]]


async def _echo_server() -> tuple[grpc.aio.Server, int]:
    async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return request

    server = grpc.aio.server(options=server_options(load({})))
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "bench.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    return server, port


async def _measure(call: Call, requests: int, concurrency: int) -> dict[str, float]:
    latencies = []
    for i in range(min(requests, 500)):
        started = time.perf_counter()
        await call(i)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    counter = iter(range(10**9))

    async def worker() -> None:
        for _ in range(requests // concurrency):
            await call(next(counter) + 1_000_000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
        "qps": (requests // concurrency) * concurrency / elapsed,
    }


def _attestation(i: int) -> ledger_pb2.Attestation:
    return ledger_pb2.Attestation(
        artefact_sha256=hashlib.sha256(f"artefact {i} {time.time_ns()}".encode()).digest(),
        kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED,
        issuer_department=DEPARTMENT,
        artefact_id=f"bench-{i}",
    )


async def main(requests: int, concurrency: int, log_level: str) -> None:
    """Run the three measurements and print the table."""
    configure(load({"CERTFREE_LOG_FORMAT": "json", "CERTFREE_LOG_LEVEL": log_level}))
    with tempfile.TemporaryDirectory() as tmp:
        embedded = None
        url = os.environ.get("REDIS_URL", "")
        if not url:
            embedded = EmbeddedValkey(Path(tmp))
            url = await embedded.start()
        settings = load({}, redis_url=url)
        store = await connect(url, client_name="bench")
        ledger = await start_server(
            settings,
            "127.0.0.1:0",
            services.ledger.registrations(settings, store),
            DevIdentity(),
        )
        echo, echo_port = await _echo_server()
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{echo_port}") as echo_channel,
            grpc.aio.insecure_channel(f"127.0.0.1:{ledger.port}") as ledger_channel,
        ):
            echo_call = echo_channel.unary_unary("/bench.Echo/Echo")
            stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
            await stub.Append(
                ledger_pb2.AppendRequest(attestation=_attestation(-1)), metadata=METADATA
            )
            payload = ledger_pb2.AppendRequest(attestation=_attestation(0)).SerializeToString()
            cases: dict[str, Call] = {
                "echo (baseline)": lambda i: echo_call(payload),
                "GetEntry": lambda i: stub.GetEntry(
                    ledger_pb2.GetEntryRequest(index=0), metadata=METADATA
                ),
                "Append": lambda i: stub.Append(
                    ledger_pb2.AppendRequest(attestation=_attestation(i)), metadata=METADATA
                ),
            }
            results = {
                name: await _measure(call, requests, concurrency) for name, call in cases.items()
            }
        await ledger.stop(0)
        await echo.stop(0)
        await store.close()
        if embedded is not None:
            await embedded.stop()
    base = results["echo (baseline)"]
    store_name = "embedded" if embedded else url
    print(f"requests={requests} concurrency={concurrency} store={store_name} logs={log_level}")
    print(f"{'case':<16}{'p50 ms':>9}{'p99 ms':>9}{'qps':>9}{'qps/echo':>10}{'p50/echo':>10}")
    for name, r in results.items():
        print(
            f"{name:<16}{r['p50_ms']:>9.2f}{r['p99_ms']:>9.2f}{r['qps']:>9.0f}"
            f"{r['qps'] / base['qps']:>10.2f}{r['p50_ms'] / base['p50_ms']:>10.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--log-level", default="warning", help="'info' includes the per-RPC log line's cost"
    )
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.log_level))

"""What every benchmark script shares: the echo baseline, percentiles, argument parsing."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

import grpc

from runtime.config import load
from runtime.server import server_options

ECHO = "/bench.Echo/Echo"
"""The method path of the echo baseline."""


def percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list (0.0 when empty)."""
    if not ordered:
        return 0.0
    return ordered[max(0, min(len(ordered) - 1, int(len(ordered) * fraction + 0.5) - 1))]


def warm_child() -> int:
    """Run once in a fresh worker process so that its start-up is not measured."""
    return os.getpid()


async def echo_server() -> tuple[grpc.aio.Server, int]:
    """A bare unary echo on loopback, with certfree's server options: the baseline."""

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


def integers(text: str) -> list[int]:
    """A comma-separated list of integers (1e7 and 10_000_000 allowed)."""
    return [int(float(part.replace("_", ""))) for part in text.split(",") if part.strip()]


def names(choices: tuple[str, ...]) -> Callable[[str], list[str]]:
    """A parser of a comma-separated subset of `choices`, in the order given."""

    def parse(text: str) -> list[str]:
        found = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [name for name in found if name not in choices]
        if unknown:
            raise argparse.ArgumentTypeError(f"unknown {unknown}; choose from {choices}")
        return found

    return parse


def add_baseline_options(parser: argparse.ArgumentParser) -> None:
    """``--no-echo`` and ``--log-level``, which every service benchmark takes."""
    parser.add_argument("--no-echo", action="store_true", help="no baseline (profiling runs)")
    parser.add_argument(
        "--log-level", default="warning", help="'info' includes the per-RPC log line's cost"
    )


def fill_defaults(args: argparse.Namespace, defaults: dict[str, object]) -> None:
    """Set each option the command line left unset (None) to its default (which may
    depend on ``--quick``)."""
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)

"""Run one service alone: ``python -m services.ledger`` and friends.

Alone, a service needs ``REDIS_URL`` (only ``certfree up`` starts the embedded
store, so that two processes never open the same data directory).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

from runtime import identity, metrics, tracing
from runtime.config import ConfigError, Settings, load
from runtime.logs import configure, get_logger
from runtime.server import Registration, start_server, wait_for_shutdown_signal
from runtime.store import Store, StoreUnavailable, connect

Build = Callable[[Settings, Store], list[Registration]]


def parse_common_args(prog: str, argv: list[str] | None) -> argparse.Namespace:
    """The flags every certfree process takes."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument(
        "--insecure-dev",
        action="store_true",
        help="trust the caller's x-certfree-* metadata as its identity (development only)",
    )
    return parser.parse_args(argv)


async def serve(
    name: str, build: Build, port: Callable[[Settings], int], insecure_dev: bool
) -> None:
    """Serve one service until SIGTERM, then drain in-flight RPCs and exit."""
    settings = load()
    configure(settings)
    log = get_logger(name)
    if not settings.redis_url:
        raise ConfigError(f"REDIS_URL must be set to run {name} alone (certfree up embeds a store)")
    source = identity.select(settings, insecure_dev=insecure_dev)
    tracing.configure(settings, service_name=f"certfree-{name}")
    store = await connect(settings.redis_url, client_name=f"certfree-{name}")
    address = f"{settings.listen_host}:{port(settings)}"
    running = await start_server(settings, address, build(settings, store), source, store=store)
    running.watch_store(store)
    listener = metrics.start_listener(settings)
    log.info("serving", address=f"{settings.listen_host}:{running.port}")
    received = await wait_for_shutdown_signal()
    log.info("shutting down", signal=received.name, grace_seconds=settings.grace_seconds)
    await running.stop(settings.grace_seconds)
    await store.close()
    if listener is not None:
        listener.stop()
    tracing.shutdown()


def run(
    name: str, build: Build, port: Callable[[Settings], int], argv: list[str] | None = None
) -> None:
    """Entry point of ``python -m services.<name>``; bad config exits naming the setting."""
    args = parse_common_args(f"python -m services.{name}", argv)
    try:
        asyncio.run(serve(name, build, port, args.insecure_dev))
    except ConfigError as error:
        sys.exit(f"certfree {name}: configuration error: {error}")
    except StoreUnavailable as error:
        sys.exit(f"certfree {name}: the store at REDIS_URL did not answer: {error}")

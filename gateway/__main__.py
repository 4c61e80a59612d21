"""Run the gateway alone: ``python -m gateway [--insecure-dev]`` (needs REDIS_URL).

It calls the services at the targets in settings (``CERTFREE_LEDGER_TARGET`` ...,
default ``listen_host`` and each service's port) and pings the store at
``REDIS_URL`` for ``/readyz``; only ``certfree up`` starts an embedded store.
``--insecure-dev`` forwards the ``x-certfree-*`` identity headers to the services
(development only; refused when ``CERTFREE_MODE=production``).
"""

from __future__ import annotations

import asyncio
import sys

from gateway.app import build_app
from gateway.server import GatewayStartError, start_gateway
from runtime import identity, metrics
from runtime.config import ConfigError, load
from runtime.logs import configure, get_logger
from runtime.main import parse_common_args
from runtime.server import wait_for_shutdown_signal
from runtime.store import StoreUnavailable, connect


async def serve(insecure_dev: bool) -> None:
    """Serve HTTP until SIGTERM or SIGINT, then finish in-flight requests and exit."""
    settings = load()
    configure(settings)
    log = get_logger("gateway")
    if not settings.redis_url:
        raise ConfigError(
            "REDIS_URL must be set to run the gateway alone (certfree up embeds a store)"
        )
    identity.select(settings, insecure_dev=insecure_dev)  # refuses dev mode in production
    store = await connect(settings.redis_url, client_name="certfree-gateway")
    try:
        app = build_app(settings, store=store, forward_dev_identity=insecure_dev)
        try:
            running = await start_gateway(settings, app)
        except (OSError, GatewayStartError) as error:
            address = f"{settings.listen_host}:{settings.gateway_port}"
            raise SystemExit(f"certfree gateway: cannot serve on {address}: {error}") from None
        listener = metrics.start_listener(settings)
        received = await wait_for_shutdown_signal()
        log.info("shutting down", signal=received.name, grace_seconds=settings.grace_seconds)
        await running.stop()
        if listener is not None:
            listener.stop()
    finally:
        await store.close()


def main(argv: list[str] | None = None) -> None:
    """Entry point: exits with the setting named on bad configuration."""
    args = parse_common_args("python -m gateway", argv)
    try:
        asyncio.run(serve(args.insecure_dev))
    except ConfigError as error:
        sys.exit(f"certfree gateway: configuration error: {error}")
    except StoreUnavailable as error:
        sys.exit(f"certfree gateway: the store at REDIS_URL did not answer: {error}")


if __name__ == "__main__":
    main()

"""The whole of certfree in one process tree: store, three services, gateway.

``certfree up`` uses :class:`Stack`; tests use it too, with every port 0, to run
the real thing on loopback.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import services.ledger
import services.licenses
import services.proofs
from gateway.app import build_app
from gateway.server import RunningGateway, start_gateway
from runtime import identity, tracing
from runtime.config import Settings
from runtime.logs import get_logger
from runtime.main import Build
from runtime.metrics import MetricsListener, start_listener
from runtime.server import RunningServer, start_server
from runtime.store import Store, connect
from runtime.valkey import EmbeddedValkey

ServiceName = Literal["ledger", "licenses", "proofs"]
SERVICES: dict[ServiceName, Build] = {
    "ledger": services.ledger.registrations,
    "licenses": services.licenses.registrations,
    "proofs": services.proofs.registrations,
}
_log = get_logger("stack")


@dataclass
class Stack:
    """A running certfree: what was started, in the order it must stop."""

    settings: Settings
    store: Store
    embedded: EmbeddedValkey | None = None
    servers: dict[ServiceName, RunningServer] = field(default_factory=dict)
    gateway: RunningGateway | None = None
    metrics_listener: MetricsListener | None = None
    """The process's one ``/metrics`` listener (CERTFREE_METRICS_PORT; None when off)."""

    @classmethod
    async def start(cls, settings: Settings, *, insecure_dev: bool) -> Stack:
        """Start everything; on any failure stop what had started and re-raise."""
        source = identity.select(settings, insecure_dev=insecure_dev)
        tracing.configure(settings)
        embedded = None
        url = settings.redis_url
        if not url:
            embedded = EmbeddedValkey(settings.data_dir)
            url = await embedded.start()
        try:
            store = await connect(url, client_name="certfree")
        except BaseException:
            if embedded is not None:
                await embedded.stop()
            raise
        stack = cls(settings=settings, store=store, embedded=embedded)
        try:
            await stack._start_services(source, insecure_dev)
        except BaseException:
            await stack.stop()
            raise
        # One listener for the whole process: every service records into its one registry.
        stack.metrics_listener = start_listener(settings)
        return stack

    async def _start_services(self, source: identity.IdentitySource, insecure_dev: bool) -> None:
        targets: dict[str, str] = {}
        for name, build in SERVICES.items():
            port = getattr(self.settings, f"{name}_port")
            address = f"{self.settings.listen_host}:{port}"
            # Later services call earlier ones at the ports actually bound (port 0 in tests).
            settings = dataclasses.replace(self.settings, **targets)  # type: ignore[arg-type]
            running = await start_server(
                settings, address, build(settings, self.store), source, store=self.store
            )
            running.watch_store(self.store)
            self.servers[name] = running
            targets[f"{name}_target"] = f"{self._connect_host}:{running.port}"
        # The gateway calls the ports actually bound (they differ from the settings with port 0).
        gateway_settings = dataclasses.replace(self.settings, **targets)  # type: ignore[arg-type]
        app = build_app(gateway_settings, store=self.store, forward_dev_identity=insecure_dev)
        self.gateway = await start_gateway(gateway_settings, app)

    @property
    def _connect_host(self) -> str:
        host = self.settings.listen_host
        return "127.0.0.1" if host in ("0.0.0.0", "::", "[::]") else host

    def addresses(self) -> dict[str, str]:
        """What a person or a test connects to: gRPC targets and the gateway URL."""
        found: dict[str, str] = {
            name: f"{self._connect_host}:{s.port}" for name, s in self.servers.items()
        }
        if self.gateway is not None:
            found["gateway"] = f"http://{self._connect_host}:{self.gateway.port}"
        if self.embedded is not None:
            found["store"] = self.embedded.url
        if self.metrics_listener is not None:
            found["metrics"] = f"http://{self._connect_host}:{self.metrics_listener.port}/metrics"
        return found

    async def stop(self) -> None:
        """Stop taking requests, drain in-flight ones within the grace period, stop the store."""
        grace = self.settings.grace_seconds
        if self.metrics_listener is not None:
            self.metrics_listener.stop()
            self.metrics_listener = None
        if self.gateway is not None:
            await self.gateway.stop()
        for name, running in self.servers.items():
            await running.stop(grace)
            _log.info("stopped", service=name)
        await self.store.close()
        if self.embedded is not None:
            await self.embedded.stop()

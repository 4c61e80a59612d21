"""The gRPC side: one channel per upstream service, generic calls by method path.

No generated stubs: a route knows its method path and message descriptors, so a
call is ``channel.unary_unary(path, serializer, deserializer)``, the same for every
RPC in the contract. Channels are opened in the app's lifespan and closed at
shutdown; each upstream's target comes from settings (``CERTFREE_LEDGER_TARGET`` ...).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import message

from gateway.descriptors import message_class
from gateway.routes import RpcRoute
from runtime.channels import secure_channel
from runtime.config import ConfigError, Settings
from runtime.server import (
    HTTP_HEADER_METADATA,
    REQUEST_ID_HEADER,
    channel_options,
    valid_request_id,
)

Metadata = Sequence[tuple[str, str]]


def target_for(settings: Settings, upstream: str) -> str:
    """The gRPC target of an upstream; raises ConfigError for a service with no setting."""
    if not hasattr(settings, f"{upstream}_target"):
        raise ConfigError(
            f"the contract has a certfree.{upstream} service but no CERTFREE_"
            f"{upstream.upper()}_TARGET setting to reach it"
        )
    return settings.target(upstream)  # type: ignore[arg-type]


def http_headers_of(metadata: Iterable[tuple[str, Any]] | None) -> dict[str, str]:
    """HTTP response headers an upstream asked for in its trailing metadata."""
    return {
        HTTP_HEADER_METADATA[key]: value
        for key, value in metadata or ()
        if key in HTTP_HEADER_METADATA and isinstance(value, str)
    }


def request_id_of(metadata: Iterable[tuple[str, Any]] | None) -> str | None:
    """The request id an upstream echoed in `metadata`, if any."""
    for key, value in metadata or ():
        if key == REQUEST_ID_HEADER and isinstance(value, str) and valid_request_id(value):
            return value
    return None


@dataclass
class Upstreams:
    """Open channels to the upstream services, by name (``ledger``, ``licenses`` ...)."""

    channels: dict[str, grpc.aio.Channel]
    """One channel per upstream."""
    timeout: float
    """Deadline of each unary call, in seconds."""
    _stubs: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, settings: Settings, names: Iterable[str]) -> Upstreams:
        """Open a channel to each named upstream: mutual TLS with the gateway's certificate
        (role gateway) when the TLS settings are set, plain in development otherwise."""
        options = channel_options(settings)
        channels = {
            name: secure_channel(target_for(settings, name), settings, options)
            for name in sorted(set(names))
        }
        return cls(channels=channels, timeout=settings.upstream_timeout_seconds)

    async def close(self) -> None:
        """Close every channel, cancelling calls still in flight."""
        for channel in self.channels.values():
            await channel.close()

    def _stub(self, route: RpcRoute) -> Any:
        stub = self._stubs.get(route.grpc_path)
        if stub is None:
            channel = self.channels[route.upstream]
            factory = channel.unary_stream if route.server_streaming else channel.unary_unary
            stub = factory(
                route.grpc_path,
                request_serializer=lambda m: m.SerializeToString(),
                response_deserializer=message_class(route.method.output_type).FromString,
            )
            self._stubs[route.grpc_path] = stub
        return stub

    async def unary(
        self, route: RpcRoute, request: message.Message, metadata: Metadata
    ) -> tuple[message.Message, str | None, dict[str, str]]:
        """Call a unary RPC; returns the response, the request id the upstream echoed, and
        the HTTP headers it asked for.

        Raises grpc.aio.AioRpcError when the call fails.
        """
        call = self._stub(route)(request, metadata=tuple(metadata), timeout=self.timeout)
        response: message.Message = await call
        # A unary call's id comes in its trailing metadata (runtime/server.py).
        trailing = await call.trailing_metadata()
        return response, request_id_of(trailing), http_headers_of(trailing)

    def stream(
        self, route: RpcRoute, request: message.Message, metadata: Metadata
    ) -> grpc.aio.UnaryStreamCall:
        """Start a server-streaming RPC (no deadline: it lives as long as the client listens)."""
        call: grpc.aio.UnaryStreamCall = self._stub(route)(request, metadata=tuple(metadata))
        return call

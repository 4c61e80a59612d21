"""``/healthz`` (the process answers) and ``/readyz`` (everything behind it answers).

Ready means: the store answers a ping, and every service the route table calls
answers the standard ``grpc.health.v1.Health/Check`` for its own name with
SERVING. The checks run concurrently with a short deadline; the JSON says which
part failed, so an operator (or a Kubernetes readiness probe's log) need not guess.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.upstream import Upstreams

CHECK_TIMEOUT_SECONDS = 2.0
"""Longest wait for one readiness check (capped by the upstream timeout)."""


class Pingable(Protocol):
    """What readiness needs of the store: runtime.store.Store fits."""

    async def ping(self) -> bool:
        """True when the store answers; never raises."""
        ...


async def healthz(request: Request) -> JSONResponse:
    """200 while the process serves HTTP at all."""
    return JSONResponse({"status": "ok"})


async def _check_service(channel: grpc.aio.Channel, service: str, within_s: float) -> str:
    """``ok``, or what the service said instead (``NOT_SERVING``, ``UNAVAILABLE`` ...)."""
    try:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=within_s
        )
    except grpc.aio.AioRpcError as error:
        return str(error.code().name)
    if reply.status == health_pb2.HealthCheckResponse.SERVING:
        return "ok"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


async def _check_upstream(
    channel: grpc.aio.Channel, services: Sequence[str], within_s: float
) -> str:
    results = await asyncio.gather(*(_check_service(channel, s, within_s) for s in services))
    if len(set(results)) == 1:
        return results[0]  # the usual case: the whole server answers, or does not
    failed = [
        f"{service}: {result}"
        for service, result in zip(services, results, strict=True)
        if result != "ok"
    ]
    return "; ".join(failed) if failed else "ok"


async def _check_store(store: Pingable | None, within_s: float) -> str:
    if store is None:
        return "not checked"
    try:
        answered = await asyncio.wait_for(store.ping(), within_s)
    except TimeoutError:
        answered = False
    return "ok" if answered else "unavailable"


async def readiness(
    store: Pingable | None,
    upstreams: Upstreams,
    services: Mapping[str, Sequence[str]],
    within_s: float = CHECK_TIMEOUT_SECONDS,
) -> tuple[bool, dict[str, str]]:
    """Whether everything answers, and each part's result (``ok`` or why not).

    `services` names, per upstream, the full service names the gateway calls there.
    A store of None is not checked (readiness then rests on the upstreams, whose
    own health turns NOT_SERVING when their store fails).
    """
    within_s = min(within_s, upstreams.timeout)
    names = sorted(services)
    results = await asyncio.gather(
        _check_store(store, within_s),
        *(_check_upstream(upstreams.channels[n], services[n], within_s) for n in names),
    )
    checks = dict(zip(["store", *names], results, strict=True))
    ready = all(result in ("ok", "not checked") for result in checks.values())
    return ready, checks


async def readyz(request: Request) -> JSONResponse:
    """200 with every check ``ok``; else 503 naming the part that failed."""
    state: Any = request.state
    ready, checks = await readiness(state.store, state.upstreams, state.upstream_services)
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": checks,
        "failed": [part for part, result in checks.items() if result not in ("ok", "not checked")],
    }
    return JSONResponse(body, status_code=200 if ready else 503)

"""Prometheus metrics: real servers on loopback, scraped over HTTP and parsed as Prometheus does."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from certfree.stack import Stack
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from genproto.certfree.licenses.v1 import licenses_pb2
from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime import metrics
from runtime.config import Settings
from runtime.metrics import MetricsListener
from services.licenses.verification import Verification
from services.proofs.sweeper import count_open
from tests.conftest import caller
from tests.test_ledger import append_many, attestation
from tests.test_proofs import CLERK, create_request

LEDGER = "certfree.ledger.v1.LedgerService"
# GB 11643: six-digit area, birth date, sequence, check character.
RESIDENT_ID = re.compile(
    r"[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, by name and labels; fails if Prometheus could not parse it."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet."""
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(url: str) -> Samples:
    """GET a /metrics endpoint and parse it."""
    async with httpx.AsyncClient() as http:
        response = await http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def listener() -> Any:
    """A /metrics listener on a free loopback port, stopped after the test."""
    running = MetricsListener.start("127.0.0.1", 0)
    yield running
    running.stop()


@pytest.fixture
async def stack(settings: Settings, redis_url: str) -> AsyncIterator[Stack]:
    """certfree on loopback with its metrics listener on a free port and a quick sweeper."""
    started = await Stack.start(
        dataclasses.replace(
            settings, redis_url=redis_url, metrics_port=free_port(), proofs_sweep_seconds=0.2
        ),
        insecure_dev=True,
    )
    try:
        yield started
    finally:
        await started.stop()


class TestRpcMetrics:
    """Every RPC is counted by its status code and timed, once, by the server interceptor."""

    async def test_ok_and_invalid_argument_calls_are_counted_by_code(
        self, start_ledger: Callable[..., Any], listener: MetricsListener
    ) -> None:
        """An OK call and an INVALID_ARGUMENT call each add one to their own series."""
        url = f"http://127.0.0.1:{listener.port}/metrics"
        running = await start_ledger()
        before = await scrape(url)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            await stub.Append(
                ledger_pb2.AppendRequest(attestation=attestation()), metadata=caller()
            )
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Append(ledger_pb2.AppendRequest(), metadata=caller())
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        after = await scrape(url)
        for code in ("OK", "INVALID_ARGUMENT"):
            labels = {"service": LEDGER, "method": "Append", "code": code}
            counted = value(after, "certfree_rpc_requests_total", **labels)
            assert counted - value(before, "certfree_rpc_requests_total", **labels) == 1
        timed = {"service": LEDGER, "method": "Append"}
        assert (
            value(after, "certfree_rpc_duration_seconds_count", **timed)
            - value(before, "certfree_rpc_duration_seconds_count", **timed)
            == 2
        )
        assert value(after, "certfree_rpc_in_flight", **timed) == 0

    async def test_metrics_port_zero_serves_nothing(self, settings: Settings) -> None:
        """CERTFREE_METRICS_PORT=0 turns the listener off."""
        assert metrics.start_listener(dataclasses.replace(settings, metrics_port=0)) is None


class TestLedgerMetrics:
    """The ledger's size gauge follows the log; each batch is timed and sized."""

    async def test_size_gauge_equals_the_log_size_after_appends(
        self, settings: Settings, start_ledger: Callable[..., Any], listener: MetricsListener
    ) -> None:
        """After appends the gauge shows the checkpoint's tree size."""
        url = f"http://127.0.0.1:{listener.port}/metrics"
        running = await start_ledger()
        origin = {"origin": settings.ledger_origin}
        before = await scrape(url)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            await append_many(stub, 7, prefix="m")
            await stub.Append(
                ledger_pb2.AppendRequest(attestation=attestation()), metadata=caller()
            )
            checkpoint = await stub.GetCheckpoint(
                ledger_pb2.GetCheckpointRequest(), metadata=caller()
            )
        after = await scrape(url)
        assert value(after, "certfree_ledger_entries", **origin) == checkpoint.size == 8
        batches = value(after, "certfree_ledger_batch_entries_count", **origin) - value(
            before, "certfree_ledger_batch_entries_count", **origin
        )
        entries = value(after, "certfree_ledger_batch_entries_sum", **origin) - value(
            before, "certfree_ledger_batch_entries_sum", **origin
        )
        assert batches >= 2  # the BatchAppend, then the Append
        assert entries == 8
        assert (
            value(after, "certfree_ledger_integration_seconds_count", **origin)
            - value(before, "certfree_ledger_integration_seconds_count", **origin)
            == batches
        )


class TestStackAndGateway:
    """certfree up serves /metrics on its port, and the gateway on its own HTTP port."""

    async def test_gateway_counts_http_by_route_template_and_serves_the_registry(
        self, stack: Stack
    ) -> None:
        """/healthz and a transcoded route count by template; /metrics shows the gRPC counters."""
        addresses = stack.addresses()
        async with httpx.AsyncClient(base_url=addresses["gateway"]) as http:
            assert (await http.get("/healthz")).status_code == 200
            missing = await http.get("/v1/ledger/entries/999999")
            assert missing.status_code >= 400
            assert (await http.get("/no/such/route")).status_code == 404
            response = await http.get("/metrics")
        assert response.status_code == 200
        samples = parse(response.text)
        assert (
            value(
                samples,
                "certfree_http_requests_total",
                route="/healthz",
                method="GET",
                status="200",
            )
            >= 1
        )
        templated = [
            dict(labels)
            for name, labels in samples
            if name == "certfree_http_requests_total" and dict(labels)["route"].startswith("/v1/")
        ]
        assert templated, "the transcoded request was not counted"
        assert all("999999" not in labels["route"] for labels in templated)
        assert (
            value(
                samples,
                "certfree_http_requests_total",
                route="unmatched",
                method="GET",
                status="404",
            )
            >= 1
        )
        # The upstream call the gateway made is a gRPC call like any other.
        assert any(
            name == "certfree_rpc_requests_total" and dict(labels)["service"] == LEDGER
            for name, labels in samples
        )
        # The process's own listener serves the same registry.
        scraped = await scrape(addresses["metrics"])
        assert any(name == "certfree_rpc_requests_total" for name, _ in scraped)

    async def test_proof_request_gauges_match_the_requests_created(self, stack: Stack) -> None:
        """After three requests, the sweep publishes three open SUBMITTED requests."""
        async with grpc.aio.insecure_channel(stack.addresses()["proofs"]) as channel:
            proofs = proofs_pb2_grpc.ProofServiceStub(channel)
            for n in range(3):
                await proofs.CreateProofRequest(
                    create_request(client_request_id=f"metrics-{n}"), metadata=CLERK
                )
        url = stack.addresses()["metrics"]
        for _ in range(100):
            samples = await scrape(url)
            submitted = sum(
                value(samples, "certfree_proof_requests_open", state="submitted", sla=mark)
                for mark in ("none", "on_time", "warning", "overdue")
            )
            if submitted == 3:
                break
            await asyncio.sleep(0.1)
        assert submitted == 3
        assert value(samples, "certfree_proof_requests_overdue") == 0
        assert value(samples, "certfree_proof_requests_open", state="accepted", sla="on_time") == 0

    async def test_no_label_looks_like_a_resident_id(self, stack: Stack) -> None:
        """After calls that carry a resident ID (the consent's agent), no label value holds one."""
        async with grpc.aio.insecure_channel(stack.addresses()["proofs"]) as channel:
            proofs = proofs_pb2_grpc.ProofServiceStub(channel)
            await proofs.CreateProofRequest(
                create_request(client_request_id="scan"), metadata=CLERK
            )
        async with httpx.AsyncClient(base_url=stack.addresses()["gateway"]) as http:
            await http.get("/v1/proof-requests/11010519491231002X")
            text = (await http.get("/metrics")).text
        labels = [v for _, pairs in parse(text) for _, v in pairs]
        assert labels
        assert not [v for v in labels if RESIDENT_ID.search(v)]
        assert "11010519491231002X" not in text


class TestOpenCounts:
    """The proofs gauges count open requests by state and SLA mark, every pair present."""

    def test_counts_open_requests_and_ignores_finished_ones(self) -> None:
        """Finished requests still in the index are not counted; zeros are reported."""
        requests = [
            proofs_pb2.ProofRequest(state=proofs_pb2.PROOF_REQUEST_STATE_SUBMITTED),
            proofs_pb2.ProofRequest(
                state=proofs_pb2.PROOF_REQUEST_STATE_ACCEPTED,
                sla_mark=proofs_pb2.SLA_MARK_OVERDUE,
                escalated=True,
            ),
            proofs_pb2.ProofRequest(state=proofs_pb2.PROOF_REQUEST_STATE_ANSWERED),
        ]
        counts = count_open(requests)
        assert counts.by_state_and_mark[("submitted", "none")] == 1
        assert counts.by_state_and_mark[("accepted", "overdue")] == 1
        assert counts.by_state_and_mark[("needs_more_info", "warning")] == 0
        assert sum(counts.by_state_and_mark.values()) == 2
        assert (counts.overdue, counts.escalated) == (1, 1)


class TestLicenseCounters:
    """VerifyLicense results are counted by their first failing check, or as valid."""

    def test_first_failed_check_names_the_outcome(self) -> None:
        """A failed signature counts as `signature`; checks skipped after it do not count."""
        before = parse(metrics.render().decode())
        run = Verification()
        run.passed(licenses_pb2.VERIFICATION_CHECK_FORMAT)
        run.passed(licenses_pb2.VERIFICATION_CHECK_ISSUER_KEY)
        run.failed(licenses_pb2.VERIFICATION_CHECK_SIGNATURE, "the signature does not verify")
        run.finish()
        assert run.outcome() == "signature"
        after = parse(metrics.render().decode())
        name = "certfree_licenses_verified_total"
        assert (
            value(after, name, outcome="signature") - value(before, name, outcome="signature") == 1
        )

    def test_all_checks_passing_is_valid(self) -> None:
        """Passed or not-applicable checks throughout: outcome `valid`."""
        run = Verification()
        for check in Verification.ORDER:
            run.passed(check)
        assert run.finish().valid
        assert run.outcome() == "valid"

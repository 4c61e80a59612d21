"""The gateway over real HTTP against real gRPC services on loopback and a real store.

Each test starts the ledger (real servicer), licenses and proofs (contract only:
UNIMPLEMENTED) with the development identity, then the gateway on port 0 pointed
at them, and talks to it with httpx.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import httpx
import pytest
from openapi_spec_validator import validate
from redis.asyncio import Redis
from structlog.testing import capture_logs

import services.ledger
import services.licenses
import services.proofs
from gateway.app import build_app
from gateway.server import RunningGateway, start_gateway
from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime.config import Settings
from runtime.errors import InvalidState
from runtime.identity import DevIdentity
from runtime.server import Registration, RunningServer, contract_only, start_server
from runtime.store import Store

DEPARTMENT = "91350100M000100Y43"  # a valid-format USCC
IDENTITY = {"x-certfree-department": DEPARTMENT, "x-certfree-role": "issuer"}
BODY_LIMIT = 4096
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"

OpenGateway = Callable[..., Awaitable[httpx.AsyncClient]]


def append_body(artefact: bytes = b"signed license bytes", **attestation: Any) -> dict[str, Any]:
    """An Append request in proto JSON: bytes as base64, names in lowerCamel."""
    fields = {
        "artefactSha256": base64.b64encode(hashlib.sha256(artefact).digest()).decode(),
        "kind": "ATTESTATION_KIND_LICENSE_ISSUED",
        "issuerDepartment": DEPARTMENT,
        "artefactId": "license-0001",
    }
    fields.update(attestation)
    return {"attestation": fields}


def detail(body: dict[str, Any], type_url: str) -> dict[str, Any]:
    """The one detail of `type_url` in a google.rpc.Status body."""
    (found,) = [d for d in body["details"] if d["@type"] == type_url]
    return found


def reason(response: httpx.Response) -> str:
    """The ErrorInfo reason of an error response (and check its domain)."""
    info = detail(response.json(), ERROR_INFO)
    assert info["domain"] == "certfree.gov.cn"
    return str(info["reason"])


class StreamingProofs(proofs_pb2_grpc.ProofServiceServicer):
    """A ProofService whose StreamInbox sends two messages, then fails if the cursor says so."""

    async def StreamInbox(
        self, request: proofs_pb2.StreamInboxRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[proofs_pb2.StreamInboxResponse]:
        """Two heartbeats with cursors; with cursor "fail", an error after the first; a
        cursor "cN" resumes after it."""
        if request.cursor.startswith("c"):
            yield proofs_pb2.StreamInboxResponse(cursor=f"c{int(request.cursor[1:]) + 1}")
            return
        yield proofs_pb2.StreamInboxResponse(cursor="c1")
        if request.cursor == "fail":
            raise InvalidState("the inbox moved")
        yield proofs_pb2.StreamInboxResponse(cursor="c2")


@pytest.fixture
async def servers(settings: Settings, store: Store) -> AsyncIterator[dict[str, RunningServer]]:
    """ledger, licenses and proofs on loopback ports, each with the development identity."""

    async def start(registrations: list[Registration]) -> RunningServer:
        return await start_server(settings, "127.0.0.1:0", registrations, DevIdentity())

    running = {
        "ledger": await start(services.ledger.registrations(settings, store)),
        "licenses": await start(services.licenses.registrations(settings, store)),
        "proofs": await start(services.proofs.registrations(settings, store)),
    }
    yield running
    for server in running.values():
        await server.stop(0)


@pytest.fixture
async def open_gateway(
    settings: Settings, store: Store, servers: dict[str, RunningServer]
) -> AsyncIterator[OpenGateway]:
    """Start a gateway (port 0) at the servers; returns an HTTP client for it."""
    started: list[tuple[RunningGateway, httpx.AsyncClient]] = []

    async def open_one(
        *,
        forward_dev_identity: bool = True,
        gateway_store: Store | None = store,
        **targets: str,
    ) -> httpx.AsyncClient:
        targets = {name: f"127.0.0.1:{s.port}" for name, s in servers.items()} | targets
        gateway_settings = dataclasses.replace(
            settings,
            max_body_bytes=BODY_LIMIT,
            **{f"{name}_target": target for name, target in targets.items()},
        )
        app = build_app(
            gateway_settings, store=gateway_store, forward_dev_identity=forward_dev_identity
        )
        running = await start_gateway(gateway_settings, app, port=0)
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.port}", timeout=10)
        started.append((running, client))
        return client

    yield open_one
    for running, client in started:
        await client.aclose()
        await running.stop()


@pytest.fixture
async def http(open_gateway: OpenGateway) -> httpx.AsyncClient:
    """A client of a gateway that forwards the development identity."""
    return await open_gateway()


class TestAppendAndRead:
    """The spine's path through HTTP: append an attestation, read it back."""

    async def test_appended_entry_reads_back_by_index(self, http: httpx.AsyncClient) -> None:
        """POST returns the entry with its index; GET of that index returns the same entry."""
        appended = await http.post("/v1/ledger/entries", json=append_body(), headers=IDENTITY)
        assert appended.status_code == 200, appended.text
        entry = appended.json()["entry"]
        assert entry["index"] == "0"  # uint64 is a string in proto JSON
        assert entry["attestation"] == append_body()["attestation"]
        assert appended.json()["duplicate"] is False  # zero values are printed
        assert appended.headers["x-request-id"]
        read = await http.get("/v1/ledger/entries/0", headers=IDENTITY)
        assert read.status_code == 200, read.text
        assert read.json() == entry

    async def test_retry_returns_the_same_index_marked_duplicate(
        self, http: httpx.AsyncClient
    ) -> None:
        """The identical POST twice is one entry; the second answer says duplicate."""
        first = await http.post("/v1/ledger/entries", json=append_body(), headers=IDENTITY)
        again = await http.post("/v1/ledger/entries", json=append_body(), headers=IDENTITY)
        assert again.status_code == 200, again.text
        assert again.json()["duplicate"] is True
        assert again.json()["entry"] == first.json()["entry"]

    async def test_lookup_binds_query_parameters(self, http: httpx.AsyncClient) -> None:
        """GET …:lookup takes the artefact hash and kind from the query string."""
        body = append_body()
        await http.post("/v1/ledger/entries", json=body, headers=IDENTITY)
        found = await http.get(
            "/v1/ledger/entries:lookup",
            params={
                "artefactSha256": body["attestation"]["artefactSha256"],
                "kind": "ATTESTATION_KIND_LICENSE_ISSUED",
            },
            headers=IDENTITY,
        )
        assert found.status_code == 200, found.text
        assert found.json()["index"] == "0"

    async def test_request_id_travels_both_ways(self, http: httpx.AsyncClient) -> None:
        """A well-formed x-request-id comes back unchanged; a malformed one is replaced."""
        given = await http.get(
            "/v1/ledger/entries/0", headers={**IDENTITY, "x-request-id": "intake-req-000123"}
        )
        assert given.headers["x-request-id"] == "intake-req-000123"
        replaced = await http.get("/v1/ledger/entries/0", headers={"x-request-id": "bad id!"})
        assert replaced.headers["x-request-id"] != "bad id!"
        assert len(replaced.headers["x-request-id"]) == 32

    async def test_access_log_names_the_route_template(self, http: httpx.AsyncClient) -> None:
        """One log line per request with the template, never the path with its identifier."""
        with capture_logs() as logs:
            await http.get("/v1/ledger/entries/7", headers=IDENTITY)
        (line,) = [entry for entry in logs if entry["event"] == "http"]
        assert line["route"] == "/v1/ledger/entries/{index}"
        assert line["status"] == 404
        assert line["method"] == "GET"
        assert "/v1/ledger/entries/7" not in json.dumps(logs, default=str)


class TestBadInput:
    """Bad requests get 4xx with a google.rpc.Status body that says why; never a traceback."""

    async def test_invalid_field_names_the_field(self, http: httpx.AsyncClient) -> None:
        """A 31-byte hash fails the contract's rule: 400 with a BadRequest field violation."""
        short = base64.b64encode(b"x" * 31).decode()
        response = await http.post(
            "/v1/ledger/entries", json=append_body(artefactSha256=short), headers=IDENTITY
        )
        assert response.status_code == 400
        assert response.json()["code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        assert reason(response) == "INVALID_FIELD"
        violations = detail(response.json(), BAD_REQUEST)["fieldViolations"]
        assert [v["field"] for v in violations] == ["attestation.artefact_sha256"]

    async def test_malformed_json_is_refused_without_calling_upstream(
        self, http: httpx.AsyncClient, servers: dict[str, RunningServer]
    ) -> None:
        """With the ledger stopped, bad JSON is still a 400 (not a 503): no call was made."""
        await servers["ledger"].stop(0)
        response = await http.post(
            "/v1/ledger/entries",
            content=b'{"attestation": ',
            headers={**IDENTITY, "content-type": "application/json"},
        )
        assert response.status_code == 400
        assert reason(response) == "MALFORMED_REQUEST"
        assert "not valid JSON" in response.json()["message"]
        assert "Traceback" not in response.text

    async def test_unknown_field_is_refused(self, http: httpx.AsyncClient) -> None:
        """A misspelt field is a 400 naming it, not silently dropped."""
        response = await http.post(
            "/v1/ledger/entries", json=append_body(artefactIdd="x"), headers=IDENTITY
        )
        assert response.status_code == 400
        assert reason(response) == "MALFORMED_REQUEST"
        assert "artefactIdd" in response.json()["message"]

    async def test_wrong_type_in_path_is_refused(self, http: httpx.AsyncClient) -> None:
        """An index that is not a number is a 400."""
        response = await http.get("/v1/ledger/entries/first", headers=IDENTITY)
        assert response.status_code == 400
        assert reason(response) == "MALFORMED_REQUEST"

    async def test_unknown_query_parameter_is_refused(self, http: httpx.AsyncClient) -> None:
        """A query parameter the request has no field for is a 400 naming it."""
        response = await http.get("/v1/ledger/entries/0?verbose=1", headers=IDENTITY)
        assert response.status_code == 400
        assert detail(response.json(), BAD_REQUEST)["fieldViolations"][0]["field"] == "verbose"

    async def test_body_over_the_limit_is_413(self, http: httpx.AsyncClient) -> None:
        """Too large by Content-Length, or by counting a chunked body: 413 either way."""
        big = json.dumps(append_body(artefactId="x" * BODY_LIMIT)).encode()
        response = await http.post("/v1/ledger/entries", content=big, headers=IDENTITY)
        assert response.status_code == 413
        assert str(BODY_LIMIT) in response.json()["message"]

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 1000):
                yield big[start : start + 1000]

        chunked = await http.post("/v1/ledger/entries", content=chunks(), headers=IDENTITY)
        assert chunked.status_code == 413
        assert reason(chunked) == "BODY_TOO_LARGE"

    async def test_unknown_path_is_404(self, http: httpx.AsyncClient) -> None:
        """No route: 404 with a Status body."""
        response = await http.get("/v1/nowhere")
        assert response.status_code == 404
        assert reason(response) == "ROUTE_NOT_FOUND"

    async def test_wrong_method_is_405_with_allow(self, http: httpx.AsyncClient) -> None:
        """A known path with another method: 405 listing the methods it takes."""
        response = await http.delete("/v1/ledger/entries")
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert "POST" in response.json()["message"]
        assert reason(response) == "METHOD_NOT_ALLOWED"

    async def test_missing_entry_is_404_not_found(self, http: httpx.AsyncClient) -> None:
        """The service's NOT_FOUND arrives as 404 with its ErrorInfo."""
        response = await http.get("/v1/ledger/entries/99", headers=IDENTITY)
        assert response.status_code == 404
        assert reason(response) == "NOT_FOUND"
        assert detail(response.json(), ERROR_INFO)["metadata"] == {"index": "99"}


class TestIdentity:
    """The development identity travels only when the gateway is told to forward it."""

    async def test_missing_identity_is_401(self, http: httpx.AsyncClient) -> None:
        """No x-certfree-* headers: the service cannot authenticate the caller."""
        response = await http.post("/v1/ledger/entries", json=append_body())
        assert response.status_code == 401
        assert reason(response) == "UNAUTHENTICATED_CALLER"

    async def test_identity_is_not_forwarded_unless_enabled(
        self, open_gateway: OpenGateway
    ) -> None:
        """With forwarding off, the same headers do not reach the service."""
        http = await open_gateway(forward_dev_identity=False)
        response = await http.post("/v1/ledger/entries", json=append_body(), headers=IDENTITY)
        assert response.status_code == 401

    async def test_role_is_checked_by_the_service(self, http: httpx.AsyncClient) -> None:
        """An auditor may not append: the service's PERMISSION_DENIED is a 403."""
        response = await http.post(
            "/v1/ledger/entries",
            json=append_body(),
            headers={**IDENTITY, "x-certfree-role": "auditor"},
        )
        assert response.status_code == 403
        assert reason(response) == "ROLE_NOT_ALLOWED"


class TestUpstreams:
    """Routes reach the service that owns them; its absence is a 503."""

    async def test_contract_only_service_answers_501(
        self, settings: Settings, store: Store, open_gateway: OpenGateway
    ) -> None:
        """A service mounted as its contract only: UNIMPLEMENTED is 501 NOT_IMPLEMENTED."""
        proofs = await start_server(
            settings, "127.0.0.1:0", contract_only(proofs_pb2, proofs_pb2_grpc), DevIdentity()
        )
        try:
            http = await open_gateway(proofs=f"127.0.0.1:{proofs.port}")
            response = await http.get("/v1/proof-items", headers=IDENTITY)
        finally:
            await proofs.stop(0)
        assert response.status_code == 501, response.text
        assert reason(response) == "NOT_IMPLEMENTED"

    async def test_stopped_upstream_is_503(
        self, http: httpx.AsyncClient, servers: dict[str, RunningServer]
    ) -> None:
        """With the ledger down, its routes answer 503 BACKEND_UNAVAILABLE, naming no address."""
        await servers["ledger"].stop(0)
        response = await http.get("/v1/ledger/entries/0", headers=IDENTITY)
        assert response.status_code == 503
        assert reason(response) == "BACKEND_UNAVAILABLE"
        assert "127.0.0.1" not in response.text


class TestHealth:
    """/healthz says the process lives; /readyz that everything behind it answers."""

    async def test_healthz(self, http: httpx.AsyncClient) -> None:
        """200 with status ok."""
        response = await http.get("/healthz")
        assert (response.status_code, response.json()) == (200, {"status": "ok"})

    async def test_ready_when_all_answer(self, http: httpx.AsyncClient) -> None:
        """Store and the three services answer: 200, every check ok."""
        response = await http.get("/readyz")
        assert response.status_code == 200, response.text
        assert response.json()["checks"] == {
            "store": "ok",
            "ledger": "ok",
            "licenses": "ok",
            "proofs": "ok",
        }

    async def test_not_ready_names_the_stopped_service(
        self, http: httpx.AsyncClient, servers: dict[str, RunningServer]
    ) -> None:
        """A stopped upstream: 503 naming it; the others still ok."""
        await servers["proofs"].stop(0)
        response = await http.get("/readyz")
        assert response.status_code == 503
        body = response.json()
        assert body["failed"] == ["proofs"]
        assert body["checks"]["ledger"] == "ok"

    async def test_not_ready_without_the_store(self, open_gateway: OpenGateway) -> None:
        """A store that does not answer: 503 naming the store."""
        unreachable = Store(Redis.from_url("redis://127.0.0.1:9", socket_connect_timeout=0.2))
        http = await open_gateway(gateway_store=unreachable)
        response = await http.get("/readyz")
        await unreachable.close()
        assert response.status_code == 503
        assert response.json()["failed"] == ["store"]


class TestOpenApi:
    """/openapi.json is a valid OpenAPI 3.1 document of the contract."""

    async def test_document_is_valid_and_has_the_ledger(self, http: httpx.AsyncClient) -> None:
        """It validates, and the ledger's routes are operations with their comments."""
        response = await http.get("/openapi.json")
        assert response.status_code == 200
        document = response.json()
        validate(document)
        append = document["paths"]["/v1/ledger/entries"]["post"]
        assert append["operationId"] == "LedgerService_Append"
        assert append["summary"].startswith("Appends one attestation")
        assert "/v1/ledger/entries/{index}" in document["paths"]
        assert "/v1/ledger/entries:batchAppend" in document["paths"]
        schemas = document["components"]["schemas"]
        attestation = schemas["certfree.ledger.v1.Attestation"]["properties"]
        assert attestation["artefactSha256"]["format"] == "byte"
        assert attestation["artefactId"]["maxLength"] == 256


class TestServerSentEvents:
    """A server-streaming RPC is relayed as Server-Sent Events."""

    @pytest.fixture
    async def streaming(
        self, settings: Settings, store: Store, open_gateway: OpenGateway
    ) -> AsyncIterator[httpx.AsyncClient]:
        """A gateway whose proofs upstream streams the inbox (StreamingProofs)."""
        catalogue = [
            r
            for r in contract_only(proofs_pb2, proofs_pb2_grpc)
            if r.name.endswith("ProofCatalogService")
        ]
        servicer = StreamingProofs()
        proofs = await start_server(
            settings,
            "127.0.0.1:0",
            [
                Registration(
                    name="certfree.proofs.v1.ProofService",
                    add=lambda s: proofs_pb2_grpc.add_ProofServiceServicer_to_server(servicer, s),
                ),
                *catalogue,
            ],
            DevIdentity(),
        )
        try:
            yield await open_gateway(proofs=f"127.0.0.1:{proofs.port}")
        finally:
            await proofs.stop(0)

    @staticmethod
    async def events(
        http: httpx.AsyncClient, cursor: str, last_event_id: str = ""
    ) -> tuple[int, str, list[str]]:
        params = {"cursor": cursor} if cursor else {}
        # An officer: StreamInbox is for the departments' readers (docs/authorisation.md).
        reader = {**IDENTITY, "x-certfree-role": "officer"}
        headers = {**reader, **({"Last-Event-ID": last_event_id} if last_event_id else {})}
        async with http.stream(
            "GET", "/v1/proof-requests:streamInbox", params=params, headers=headers
        ) as response:
            text = (await response.aread()).decode()
        return response.status_code, response.headers["content-type"], text.split("\n\n")[:-1]

    async def test_each_message_is_one_data_event(self, streaming: httpx.AsyncClient) -> None:
        """Two messages: two ``data:`` events with the messages as JSON."""
        status, kind, events = await self.events(streaming, "")
        assert status == 200
        assert kind.startswith("text/event-stream")
        assert [json.loads(e.split("data: ")[1]) for e in events] == [
            {"events": [], "cursor": "c1"},
            {"events": [], "cursor": "c2"},
        ]

    async def test_cursor_is_the_event_id_and_last_event_id_resumes(
        self, streaming: httpx.AsyncClient
    ) -> None:
        """Each event's SSE id is its cursor; a reconnect sending Last-Event-ID resumes after it."""
        _, _, events = await self.events(streaming, "")
        assert [e.split("\n")[0] for e in events] == ["id: c1", "id: c2"]
        _, _, resumed = await self.events(streaming, "", last_event_id="c2")
        assert [json.loads(e.split("data: ")[1])["cursor"] for e in resumed] == ["c3"]
        _, _, explicit = await self.events(streaming, "c5", last_event_id="c2")
        assert [json.loads(e.split("data: ")[1])["cursor"] for e in explicit] == ["c6"]

    async def test_failure_mid_stream_is_an_error_event(self, streaming: httpx.AsyncClient) -> None:
        """After the first message, a failure arrives as ``event: error`` with the Status."""
        status, _, events = await self.events(streaming, "fail")
        assert status == 200
        assert json.loads(events[0].split("data: ")[1]) == {"events": [], "cursor": "c1"}
        head, data = events[1].split("\n")
        assert head == "event: error"
        error = json.loads(data.removeprefix("data: "))
        assert error["code"] == grpc.StatusCode.FAILED_PRECONDITION.value[0]
        assert detail(error, ERROR_INFO)["reason"] == "INVALID_STATE"

    async def test_immediate_failure_keeps_its_http_status(self, http: httpx.AsyncClient) -> None:
        """An issuer may not stream an inbox: refused at once, a plain 403, not a stream."""
        response = await http.get("/v1/proof-requests:streamInbox", headers=IDENTITY)
        assert response.status_code == 403
        assert reason(response) == "ROLE_NOT_ALLOWED"


class TestLifecycle:
    """The gateway starts on a free port and stops cleanly."""

    async def test_stop_closes_the_port(self, settings: Settings, store: Store) -> None:
        """After stop, connecting fails."""
        app = build_app(settings, store=store, forward_dev_identity=False)
        running = await start_gateway(settings, app, port=0)
        assert running.port > 0
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.port}") as http:
            assert (await http.get("/healthz")).status_code == 200
            await running.stop()
            with pytest.raises(httpx.ConnectError):
                await http.get("/healthz")

    async def test_busy_port_is_an_os_error(self, settings: Settings, store: Store) -> None:
        """A second gateway on a bound port fails with OSError, not by exiting the process."""
        app = build_app(settings, store=store, forward_dev_identity=False)
        running = await start_gateway(settings, app, port=0)
        try:
            with pytest.raises(OSError):
                await start_gateway(settings, app, port=running.port)
        finally:
            await running.stop()

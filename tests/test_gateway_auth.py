"""The gateway in production: bearer tokens in front of the real ledger over mutual TLS.

The ledger runs with a ``service`` certificate and the mTLS identity; the gateway calls
it with a ``gateway`` certificate (runtime/pki.py, as tests/test_mtls.py builds them)
and forwards the token's caller. Clients talk HTTP to a real uvicorn on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from starlette.requests import Request

import services.ledger
from certfree import tokens_cli
from gateway.app import build_app
from gateway.auth import Gatekeeper, public_department
from gateway.descriptors import load_contract
from gateway.routes import route_table
from gateway.scopes import PUBLIC, SCOPE_DESCRIPTIONS, SCOPES
from gateway.scopes import render_table as render_scope_table
from gateway.server import RunningGateway, start_gateway
from gateway.store import RateLimit
from runtime import identity
from runtime.config import ConfigError, Settings
from runtime.server import RunningServer, start_server
from runtime.store import Store
from runtime.tokens import TokenClaims, TokenKey, TokenPolicy, load_token_key
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION
from tests.test_mtls import Pki

BODY_LIMIT = 4096
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"

OpenGateway = Callable[..., Awaitable[httpx.AsyncClient]]


def append_body(department: str = MARKET_REGULATION, artefact: bytes = b"e-license") -> Any:
    """An Append request in proto JSON."""
    return {
        "attestation": {
            "artefactSha256": base64.b64encode(hashlib.sha256(artefact).digest()).decode(),
            "kind": "ATTESTATION_KIND_LICENSE_ISSUED",
            "issuerDepartment": department,
            "artefactId": "license-0001",
        }
    }


def reason(response: httpx.Response) -> str:
    """The ErrorInfo reason of an error body."""
    (info,) = [d for d in response.json()["details"] if d["@type"] == ERROR_INFO]
    return str(info["reason"])


@dataclasses.dataclass
class Deployment:
    """The settings, token key and policy of one test deployment."""

    settings: Settings
    key: TokenKey
    policy: TokenPolicy

    def token(self, *, lifetime: timedelta = timedelta(hours=1), **fields: Any) -> str:
        """A token for an issuer of MARKET_REGULATION (or `fields`), valid now."""
        values: dict[str, Any] = {
            "department": MARKET_REGULATION,
            "role": "issuer",
            "subject": "issuer-desk-1",
            "scopes": ["ledger:append", "ledger:read"],
        } | fields
        return self.key.mint(self.policy.claims(lifetime=lifetime, now=datetime.now(UTC), **values))

    def raw_token(self, key: TokenKey | None = None, **changes: Any) -> str:
        """A token whose claims are changed after the rules were applied (to forge bad ones)."""
        now = datetime.now(UTC)
        claims = self.policy.claims(
            department=MARKET_REGULATION,
            role="issuer",
            subject="issuer-desk-1",
            scopes=["ledger:append", "ledger:read"],
            lifetime=timedelta(hours=1),
            now=now,
        )
        changed: TokenClaims = dataclasses.replace(claims, **changes)
        return (key or self.key).mint(changed)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A fresh deployment CA for the test."""
    (tmp_path / "pki").mkdir()
    return Pki(tmp_path / "pki")


@pytest.fixture
def deployment(pki: Pki, settings: Settings, tmp_path: Path) -> Deployment:
    """Production settings with a gateway certificate and a token key file."""
    key_file = tmp_path / "token.key"
    key_file.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        )
    )
    tls = pki.settings("gateway", "gateway")
    production = dataclasses.replace(
        settings,
        mode="production",
        tls_cert_file=tls.tls_cert_file,
        tls_key_file=tls.tls_key_file,
        tls_ca_file=tls.tls_ca_file,
        token_key_file=key_file,
        max_body_bytes=BODY_LIMIT,
    )
    return Deployment(production, load_token_key(production), TokenPolicy.of(production))


@pytest.fixture
async def ledger(pki: Pki, settings: Settings, store: Store) -> AsyncIterator[RunningServer]:
    """The real ledger on loopback, mutual TLS only, with a service certificate."""
    tls = pki.settings("ledger", "service")
    ledger_settings = dataclasses.replace(
        settings,
        tls_cert_file=tls.tls_cert_file,
        tls_key_file=tls.tls_key_file,
        tls_ca_file=tls.tls_ca_file,
    )
    running = await start_server(
        ledger_settings,
        "127.0.0.1:0",
        services.ledger.registrations(ledger_settings, store),
        identity.select(ledger_settings, insecure_dev=False),
    )
    yield running
    await running.stop(0)


@pytest.fixture
async def open_gateway(
    deployment: Deployment, ledger: RunningServer, store: Store
) -> AsyncIterator[OpenGateway]:
    """Start production gateways at the ledger; each returns an HTTP client."""
    started: list[tuple[RunningGateway, httpx.AsyncClient]] = []

    async def open_one(rate_limit: RateLimit | None = None) -> httpx.AsyncClient:
        settings = dataclasses.replace(
            deployment.settings,
            ledger_target=f"localhost:{ledger.port}",
            licenses_target="localhost:1",  # not called by these tests
            proofs_target="localhost:1",
        )
        app = build_app(settings, store=store, forward_dev_identity=False, rate_limit=rate_limit)
        running = await start_gateway(settings, app, port=0)
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{running.port}", timeout=10)
        started.append((running, client))
        return client

    yield open_one
    for running, client in started:
        await client.aclose()
        await running.stop()


@pytest.fixture
async def http(open_gateway: OpenGateway) -> httpx.AsyncClient:
    """A client of a production gateway with the default (generous) rate limit."""
    return await open_gateway()


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of `token`."""
    return {"Authorization": f"Bearer {token}"}


class TestValidToken:
    """A good token reaches the service as the token's caller, and only as that."""

    async def test_token_caller_appends_its_own_department(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        token = deployment.token()
        appended = await http.post("/v1/ledger/entries", json=append_body(), headers=bearer(token))
        assert appended.status_code == 200, appended.text
        read = await http.get("/v1/ledger/entries/0", headers=bearer(token))
        assert read.json() == appended.json()["entry"]

    async def test_the_service_sees_the_token_department(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        """Attesting another department's artefact is the service's refusal: the token's
        department, not the gateway's, reached it."""
        token = deployment.token()
        response = await http.post(
            "/v1/ledger/entries", json=append_body(HOUSING_BUREAU), headers=bearer(token)
        )
        assert response.status_code == 403, response.text
        assert reason(response) == "OUTSIDE_AUTHORITY"

    async def test_the_service_sees_the_token_role(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        """An auditor token with the append scope still is an auditor to the ledger, and a
        client-sent x-certfree-role header changes nothing."""
        token = deployment.token(role="auditor")
        response = await http.post(
            "/v1/ledger/entries",
            json=append_body(),
            headers={
                **bearer(token),
                "x-certfree-role": "issuer",
                "x-certfree-department": MARKET_REGULATION,
            },
        )
        assert response.status_code == 403, response.text
        assert reason(response) == "ROLE_NOT_ALLOWED"
        assert "auditor" in response.json()["message"]

    async def test_identity_headers_without_a_token_are_refused(
        self, http: httpx.AsyncClient
    ) -> None:
        response = await http.post(
            "/v1/ledger/entries",
            json=append_body(),
            headers={"x-certfree-role": "issuer", "x-certfree-department": MARKET_REGULATION},
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="certfree"'
        assert reason(response) == "UNAUTHENTICATED_CALLER"

    async def test_public_read_api_needs_no_token(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        await http.post(
            "/v1/ledger/entries", json=append_body(), headers=bearer(deployment.token())
        )
        for _ in range(50):  # the sequencer publishes the checkpoint just after the append
            checkpoint = await http.get("/tlog/checkpoint")
            if checkpoint.status_code == 200 and "\n1\n" in checkpoint.text:
                break
            await asyncio.sleep(0.1)
        assert checkpoint.status_code == 200, checkpoint.text
        assert (await http.get("/tlog/tile/0/000.p/1")).status_code == 200


class TestPublicRoutesWithAToken:
    """A token sent to a public route is checked, and its caller is the one forwarded."""

    async def test_the_token_caller_is_forwarded(self, deployment: Deployment) -> None:
        """With a token, the token's caller; without, the public caller (the gateway's
        certificate's department, role auditor)."""
        gatekeeper = Gatekeeper(
            key=deployment.key,
            policy=deployment.policy,
            store=None,
            limit=None,
            forward_dev_identity=False,
            public_department=public_department(deployment.settings),
        )
        (route,) = [r for r in route_table(load_contract().services) if r.method.name == "GetTile"]

        def request(headers: dict[str, str]) -> Request:
            encoded = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            return Request(
                {
                    "type": "http",
                    "method": "GET",
                    "path": "/tlog/tile/0/000",
                    "headers": encoded,
                    "query_string": b"",
                    "client": ("127.0.0.1", 1),
                }
            )

        signed_in = await gatekeeper.admit(request(bearer(deployment.token())), route)
        anonymous = await gatekeeper.admit(request({}), route)
        assert dict(signed_in) == {  # type: ignore[arg-type]
            "x-certfree-department": MARKET_REGULATION,
            "x-certfree-role": "issuer",
            "x-certfree-subject": "issuer-desk-1",
        }
        assert dict(anonymous)["x-certfree-role"] == "auditor"  # type: ignore[arg-type]

    async def test_a_bad_token_on_a_public_route_is_refused_not_ignored(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        forged = deployment.raw_token(key=TokenKey(Ed25519PrivateKey.generate()))
        response = await http.get("/tlog/checkpoint", headers=bearer(forged))
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


class TestRefusedTokens:
    """Bad tokens are 401 invalid_token (RFC 6750), saying which check failed."""

    @pytest.mark.parametrize(
        ("make", "why"),
        [
            (lambda d: d.raw_token(key=TokenKey(Ed25519PrivateKey.generate())), "signature"),
            (
                lambda d: d.raw_token(
                    issued_at=d.raw_now - 7200,
                    not_before=d.raw_now - 7200,
                    expires_at=d.raw_now - 3600,
                ),
                "expired",
            ),
            (lambda d: d.raw_token(not_before=d.raw_now + 3600), "nbf"),
            (lambda d: d.raw_token(audience="another-gateway"), "aud"),
            (lambda d: d.raw_token(issuer="https://elsewhere.example"), "iss"),
            (lambda d: d.raw_token(role="service"), "role"),
            (lambda d: _unsigned(d), "signature"),
            (lambda d: "not-a-jwt", "signature"),
        ],
        ids=["forged", "expired", "not-yet-valid", "audience", "issuer", "service", "none", "junk"],
    )
    async def test_bad_token_is_401(
        self,
        http: httpx.AsyncClient,
        deployment: Deployment,
        make: Callable[[Any], str],
        why: str,
    ) -> None:
        now = int(datetime.now(UTC).timestamp())
        token = make(_WithNow(deployment, now))
        response = await http.get("/v1/ledger/entries/0", headers=bearer(token))
        assert response.status_code == 401, response.text
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="certfree", error="invalid_token"')
        assert why in response.json()["message"]
        assert reason(response) == "UNAUTHENTICATED_CALLER"

    async def test_revoked_token_is_401_from_the_next_request(
        self, http: httpx.AsyncClient, deployment: Deployment, store: Store
    ) -> None:
        from gateway.store import GatewayStore

        token = deployment.token()
        assert (await http.get("/v1/ledger/entries/0", headers=bearer(token))).status_code == 404
        claims = deployment.key.verify(
            token, deployment.policy, now=int(datetime.now(UTC).timestamp())
        )
        await GatewayStore(store).revoke(
            claims.token_id, now=claims.issued_at, leeway_seconds=60, unknown_ttl_seconds=60
        )
        response = await http.get("/v1/ledger/entries/0", headers=bearer(token))
        assert response.status_code == 401
        assert "revoked" in response.json()["message"]

    async def test_other_scheme_is_401(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/v1/ledger/entries/0", headers={"Authorization": "Basic eDp5"})
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]

    async def test_missing_scope_is_403_insufficient_scope(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        token = deployment.token(scopes=["ledger:read"])
        response = await http.post("/v1/ledger/entries", json=append_body(), headers=bearer(token))
        assert response.status_code == 403
        assert response.headers["www-authenticate"] == (
            'Bearer realm="certfree", error="insufficient_scope", scope="ledger:append"'
        )
        assert reason(response) == "ROLE_NOT_ALLOWED"


class _WithNow:
    """A Deployment with the test's `now`, for the parametrised token makers."""

    def __init__(self, deployment: Deployment, now: int) -> None:
        self.deployment = deployment
        self.raw_now = now

    def raw_token(self, **changes: Any) -> str:
        return self.deployment.raw_token(**changes)

    @property
    def claims(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(
            base64.urlsafe_b64decode(self.raw_token().split(".")[1] + "==")
        )
        return payload


def _unsigned(d: _WithNow) -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': 'at+jwt'})}.{b64(d.claims)}."


class TestLimits:
    """Rate, body size and malformed JSON are refused at the gateway in its error format."""

    async def test_rate_limit_gives_429_then_recovers(
        self, open_gateway: OpenGateway, deployment: Deployment
    ) -> None:
        http = await open_gateway(RateLimit(3, period_seconds=1.0))
        headers = bearer(deployment.token())
        statuses = [
            (await http.get("/v1/ledger/entries/0", headers=headers)).status_code for _ in range(3)
        ]
        assert statuses == [404, 404, 404]
        limited = await http.get("/v1/ledger/entries/0", headers=headers)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "1"
        assert reason(limited) == "RATE_LIMITED"
        other = bearer(deployment.token(subject="issuer-desk-2"))
        assert (await http.get("/v1/ledger/entries/0", headers=other)).status_code == 404
        await asyncio.sleep(1.0)
        assert (await http.get("/v1/ledger/entries/0", headers=headers)).status_code == 404

    async def test_oversize_body_is_413_on_every_route(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        big = json.dumps(append_body() | {"padding": "x" * BODY_LIMIT}).encode()
        token = bearer(deployment.token())
        for method, path in (("POST", "/v1/ledger/entries"), ("GET", "/healthz")):
            response = await http.request(method, path, content=big, headers=token)
            assert response.status_code == 413, (path, response.text)
            assert reason(response) == "BODY_TOO_LARGE"

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 1000):
                yield big[start : start + 1000]

        chunked = await http.post("/v1/ledger/entries", content=chunks(), headers=token)
        assert chunked.status_code == 413
        assert reason(chunked) == "BODY_TOO_LARGE"

    async def test_malformed_json_is_400_with_field_details(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        token = bearer(deployment.token())
        broken = await http.post(
            "/v1/ledger/entries",
            content=b'{"attestation": ',
            headers={**token, "content-type": "application/json"},
        )
        assert broken.status_code == 400
        assert reason(broken) == "MALFORMED_REQUEST"
        wrong = append_body()
        wrong["attestation"]["artefactId"] = {"not": "a string"}
        typed = await http.post("/v1/ledger/entries", json=wrong, headers=token)
        assert typed.status_code == 400, typed.text
        (violations,) = [d for d in typed.json()["details"] if d["@type"] == BAD_REQUEST]
        assert violations["fieldViolations"][0]["field"]


class TestConfiguration:
    """Production refuses to run without what tokens need; every route has a scope."""

    def test_every_contract_route_has_a_scope(self) -> None:
        table = route_table(load_contract().services)
        names = {route.method.full_name for route in table}
        assert names == set(SCOPES)
        assert set(SCOPES.values()) == {*SCOPE_DESCRIPTIONS, PUBLIC}

    def test_security_doc_shows_the_scope_table(self) -> None:
        table = render_scope_table(route_table(load_contract().services))
        assert table in (Path(__file__).parent.parent / "docs" / "security.md").read_text()

    def test_production_refuses_dev_identity_and_no_store(self, deployment: Deployment) -> None:
        with pytest.raises(ConfigError, match="--insecure-dev"):
            build_app(deployment.settings, store=None, forward_dev_identity=True)
        with pytest.raises(ConfigError, match="store"):
            build_app(deployment.settings, store=None, forward_dev_identity=False)

    async def test_openapi_declares_bearer_and_dpop_tokens(self, http: httpx.AsyncClient) -> None:
        document = (await http.get("/openapi.json")).json()
        schemes = document["components"]["securitySchemes"]
        assert schemes["bearerAuth"]["scheme"] == "bearer"
        assert schemes["dpopAuth"]["scheme"] == "DPoP"
        assert document["paths"]["/v1/ledger/entries"]["post"]["security"] == [
            {"bearerAuth": ["ledger:append"]},
            {"dpopAuth": ["ledger:append"]},
        ]
        assert document["paths"]["/tlog/checkpoint"]["get"]["security"] == []


class TestCli:
    """certfree tokens: issue, use, list, revoke, refused."""

    async def test_round_trip(
        self,
        http: httpx.AsyncClient,
        deployment: Deployment,
        redis_url: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        settings = dataclasses.replace(deployment.settings, redis_url=redis_url)

        async def cli(*argv: str) -> tuple[int, str, str]:
            parser = argparse.ArgumentParser()
            tokens_cli.add_tokens_commands(parser.add_subparsers(dest="command"))
            status = await tokens_cli.run_with(parser.parse_args(["tokens", *argv]), settings)
            out, err = capsys.readouterr()
            return status, out, err

        status, out, err = await cli(
            "issue",
            *("--department", MARKET_REGULATION, "--role", "intake", "--subject", "desk-3"),
            *("--scope", "ledger:read", "--days", "7"),
        )
        assert status == 0, err
        # The in-process services log to stdout too: the token is the line that is one.
        (token,) = [line for line in out.splitlines() if line.startswith("eyJ")]
        assert (await http.get("/v1/ledger/entries/0", headers=bearer(token))).status_code == 404
        status, out, _ = await cli("list", "--json")
        (listed,) = [json.loads(line) for line in out.splitlines() if line.startswith('{"')]
        assert listed["subject"] == "desk-3" and listed["revoked_at"] == 0
        assert token not in out
        status, out, _ = await cli("revoke", listed["token_id"])
        assert status == 0
        refused = await http.get("/v1/ledger/entries/0", headers=bearer(token))
        assert refused.status_code == 401
        status, _, err = await cli(
            "issue",
            *("--department", MARKET_REGULATION, "--role", "clerk", "--subject", "c-1"),
            *("--scope", "proofs", "--hours", "9"),
        )
        assert status == 1 and "at most 8 hours" in err

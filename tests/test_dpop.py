"""Sender-constrained gateway tokens: DPoP proofs (runtime/dpop.py) and the gateway's checks.

Vectors: RFC 9449 section 4.1 figure 2 (a token-request proof) and section 7.1 figure 13
(a resource-request proof with ``ath``), their key's thumbprint (section 6.1, figure 9)
and the access-token hash; RFC 7638 section 3.1 (the RSA thumbprint example, through
joserfc, which computes every thumbprint here); RFC 8037 appendix A.3 (an OKP thumbprint).
The gateway tests reuse tests/test_gateway_auth.py's production gateway, real ledger and
real store.
"""

# The fixtures imported from tests/test_gateway_auth.py are requested by parameter name,
# which ruff reads as redefining the import.
# ruff: noqa: F811

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import thumbprint

from certfree import tokens_cli
from gateway.store import PROOF_PREFIX, GatewayStore, ProofUse
from runtime.dpop import (
    MAX_JTI_CHARS,
    MAX_PROOF_CHARS,
    PROOF_WINDOW_SECONDS,
    DpopError,
    access_token_hash,
    check_proof,
    jwk_thumbprint,
    normalise_url,
)
from runtime.signing import JoseSigner, generate_signer
from runtime.store import Store
from runtime.tokens import TokenError
from tests.conftest import MARKET_REGULATION
from tests.test_gateway_auth import (  # noqa: F401 (fixtures, used by name)
    Deployment,
    append_body,
    bearer,
    deployment,
    http,
    ledger,
    open_gateway,
    pki,
    reason,
)

# RFC 9449 figures 2 and 13 share this header: typ dpop+jwt, alg ES256, the example key.
RFC9449_HEADER = (
    "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgt"
    "MzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VO"
    "SmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19"
)
RFC9449_TOKEN_PROOF = (  # figure 2: POST https://server.example.com/token at 1562262616
    RFC9449_HEADER + ".eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBz"
    "Oi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0"
    "zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"
)
RFC9449_RESOURCE_PROOF = (  # figure 13: GET https://resource.example.org/protectedresource
    RFC9449_HEADER + ".eyJqdGkiOiJlMWozVl9iS2ljOC1MQUVCIiwiaHRtIjoiR0VUIiwiaHR1IjoiaHR0cHM6"
    "Ly9yZXNvdXJjZS5leGFtcGxlLm9yZy9wcm90ZWN0ZWRyZXNvdXJjZSIsImlhdCI6MTU2MjI2MjYxOCwiYXRoIjoi"
    "ZlVIeU8ycjJaM0RaNTNFc05yV0JiMHhXWG9hTnk1OUlpS0NBcWtzbVFFbyJ9.2oW9RP35yRqzhrtNP86L-Ey71E"
    "OptxRimPPToA1plemAgR6pxHF8y6-yqyVnmcw6Fy1dqd-jfxSYoMxhAJpLjA"
)
RFC9449_JWK = {
    "kty": "EC",
    "x": "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
    "y": "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA",
    "crv": "P-256",
}
RFC9449_JKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"  # section 6.1, figure 9
RFC9449_ACCESS_TOKEN = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"  # section 7.1
RFC9449_ATH = "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
RFC9449_RESOURCE = "https://resource.example.org/protectedresource"
RFC9449_RESOURCE_IAT = 1562262618

RFC7638_JWK = {  # section 3.1
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
    "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
    "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4v"
    "MQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
}
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
RFC8037_OKP_JWK = {
    "kty": "OKP",
    "crv": "Ed25519",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"  # A.3

NOW = 1_772_443_800
URL = "https://certfree.example/v1/ledger/entries/0"
TOKEN = "eyJ.a-token.sig"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64json(value: Any) -> str:
    return _b64(json.dumps(value).encode())


@dataclasses.dataclass
class Client:
    """A DPoP client: its key, and proofs made with it (what a real client does)."""

    signer: JoseSigner

    @classmethod
    def generate(cls, alg: str = "ES256") -> Client:
        """A client with a fresh key."""
        signer = generate_signer(alg, "client")
        assert isinstance(signer, JoseSigner)
        return cls(signer)

    @property
    def jwk(self) -> dict[str, Any]:
        """The public JWK a proof carries (only the key's own members)."""
        public = self.signer.public_key().jwk()
        return {k: v for k, v in public.items() if k in ("kty", "crv", "x", "y")}

    @property
    def jkt(self) -> str:
        """The key's RFC 7638 thumbprint, what a token's cnf.jkt names."""
        return thumbprint(self.jwk)

    def proof(
        self,
        method: str = "GET",
        url: str = URL,
        token: str | None = TOKEN,
        *,
        iat: Any = NOW,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A proof for `method` `url` with `token`; `header` and `claims` add or replace
        members (None removes one)."""
        body: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": iat,
        }
        if token is not None:
            body["ath"] = access_token_hash(token)
        body = {k: v for k, v in (body | claims).items() if v is not None}
        protected = {"typ": "dpop+jwt", "jwk": self.jwk} | (header or {})
        protected = {k: v for k, v in protected.items() if v is not None}
        return self.signer.sign_compact(protected, json.dumps(body).encode(), kid_in_header=False)


CLIENT = Client.generate()


def check(proof: str, **changes: Any) -> Any:
    """check_proof for the default request (GET URL with TOKEN, bound to CLIENT, at NOW)."""
    arguments: dict[str, Any] = {
        "method": "GET",
        "url": URL,
        "access_token": TOKEN,
        "jkt": CLIENT.jkt,
        "now": NOW,
    } | changes
    return check_proof(proof, **arguments)


class TestPublishedVectors:
    """RFC 9449's example proofs verify, and the thumbprints and hashes match the RFCs."""

    def test_resource_request_proof_of_figure_13(self) -> None:
        proof = check_proof(
            RFC9449_RESOURCE_PROOF,
            method="GET",
            url=RFC9449_RESOURCE,
            access_token=RFC9449_ACCESS_TOKEN,
            jkt=RFC9449_JKT,
            now=RFC9449_RESOURCE_IAT,
        )
        assert (proof.jti, proof.alg, proof.jkt) == ("e1j3V_bKic8-LAEB", "ES256", RFC9449_JKT)
        assert (proof.htm, proof.htu, proof.issued_at) == (
            "GET",
            RFC9449_RESOURCE,
            RFC9449_RESOURCE_IAT,
        )

    def test_token_request_proof_of_figure_2(self) -> None:
        """A proof without ath, for a request without an access token."""
        proof = check_proof(
            RFC9449_TOKEN_PROOF,
            method="POST",
            url="https://server.example.com/token",
            access_token=None,
            jkt=None,
            now=1562262616,
        )
        assert (proof.jti, proof.jkt) == ("-BwC3ESc6acc2lTc", RFC9449_JKT)

    def test_figure_2_proof_is_refused_with_an_access_token(self) -> None:
        with pytest.raises(DpopError, match="ath"):
            check_proof(
                RFC9449_TOKEN_PROOF,
                method="POST",
                url="https://server.example.com/token",
                access_token=RFC9449_ACCESS_TOKEN,
                jkt=RFC9449_JKT,
                now=1562262616,
            )

    def test_thumbprints_and_access_token_hash(self) -> None:
        assert jwk_thumbprint(RFC9449_JWK) == RFC9449_JKT
        assert access_token_hash(RFC9449_ACCESS_TOKEN) == RFC9449_ATH
        assert thumbprint(RFC7638_JWK) == RFC7638_THUMBPRINT
        assert jwk_thumbprint(RFC8037_OKP_JWK) == RFC8037_THUMBPRINT

    def test_thumbprint_ignores_optional_members(self) -> None:
        decorated = RFC9449_JWK | {"kid": "k-1", "use": "sig", "alg": "ES256"}
        assert jwk_thumbprint(decorated) == RFC9449_JKT

    @pytest.mark.parametrize(
        ("changes", "why"),
        [
            ({"now": RFC9449_RESOURCE_IAT + PROOF_WINDOW_SECONDS + 1}, "iat"),
            ({"now": RFC9449_RESOURCE_IAT - PROOF_WINDOW_SECONDS - 1}, "iat"),
            ({"access_token": RFC9449_ACCESS_TOKEN + "x"}, "ath"),
            ({"jkt": RFC8037_THUMBPRINT}, "key other than"),
            ({"method": "POST"}, "htm"),
            ({"url": "https://resource.example.org/otherresource"}, "htu"),
        ],
        ids=["late", "early", "other-token", "other-key", "method", "url"],
    )
    def test_figure_13_proof_in_another_context_is_refused(
        self, changes: dict[str, Any], why: str
    ) -> None:
        arguments: dict[str, Any] = {
            "method": "GET",
            "url": RFC9449_RESOURCE,
            "access_token": RFC9449_ACCESS_TOKEN,
            "jkt": RFC9449_JKT,
            "now": RFC9449_RESOURCE_IAT,
        } | changes
        with pytest.raises(DpopError, match=why):
            check_proof(RFC9449_RESOURCE_PROOF, **arguments)


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64json(header)}.{_b64json(claims)}."


def _swap_payload(proof: str, payload: bytes) -> str:
    head, _, signature = proof.split(".")
    return f"{head}.{_b64(payload)}.{signature}"


OTHER = Client.generate()
SMALL_RSA_JWK = {"kty": "RSA", "n": RFC7638_JWK["n"][:40], "e": "AQAB"}  # small header
EDDSA = Client.generate("EdDSA")


class TestChecks:
    """Every check of RFC 9449 section 4.3 refuses a proof that breaks it, and says which."""

    def test_a_good_proof_passes_with_either_algorithm(self) -> None:
        proof = check(CLIENT.proof())
        assert (proof.alg, proof.jkt, proof.htm) == ("ES256", CLIENT.jkt, "GET")
        assert check(EDDSA.proof(), jkt=EDDSA.jkt).alg == "EdDSA"

    @pytest.mark.parametrize(
        ("make", "why"),
        [
            (lambda: "x" * (MAX_PROOF_CHARS + 1), "too long"),
            (lambda: "not a jwt", "not a compact JWS"),
            (lambda: CLIENT.proof(header={"typ": "JWT"}), "typ"),
            (lambda: CLIENT.proof(header={"typ": None}), "typ"),
            (
                lambda: _unsigned({"typ": "dpop+jwt", "alg": "none", "jwk": CLIENT.jwk}, {}),
                "alg",
            ),
            (
                lambda: _unsigned({"typ": "dpop+jwt", "alg": "HS256", "jwk": CLIENT.jwk}, {}),
                "alg",
            ),
            (
                lambda: _unsigned({"typ": "dpop+jwt", "alg": "RS256", "jwk": SMALL_RSA_JWK}, {}),
                "alg",
            ),
            (lambda: CLIENT.proof(header={"jwk": None}), "no jwk"),
            (
                lambda: CLIENT.proof(header={"jwk": CLIENT.jwk | {"d": "c2VjcmV0"}}),
                "private key",
            ),
            (lambda: CLIENT.proof(header={"jwk": SMALL_RSA_JWK}), "not an EC or OKP key"),
            (
                lambda: CLIENT.proof(header={"jwk": {k: CLIENT.jwk[k] for k in ("kty", "crv")}}),
                "lacks one of",
            ),
            (lambda: CLIENT.proof(header={"jwk": OTHER.jwk}), "signature"),
            (lambda: CLIENT.proof(header={"jwk": EDDSA.jwk}), "signature"),
            (lambda: _swap_payload(CLIENT.proof(), b'{"htm":"GET"}'), "signature"),
            (lambda: CLIENT.proof(jti=None), "lacks the claim jti"),
            (lambda: CLIENT.proof(htm=None), "lacks the claim htm"),
            (lambda: CLIENT.proof(htu=None), "lacks the claim htu"),
            (lambda: CLIENT.proof(iat=None), "lacks the claim iat"),
            (lambda: CLIENT.proof(jti="j" * (MAX_JTI_CHARS + 1)), "jti"),
            (lambda: CLIENT.proof(jti=""), "jti"),
            (lambda: CLIENT.proof(jti=17), "jti"),
            (lambda: CLIENT.proof("POST"), "htm"),
            (lambda: CLIENT.proof(htm="get"), "htm"),
            (lambda: CLIENT.proof(url=URL.replace("/0", "/1")), "htu"),
            (lambda: CLIENT.proof(url=URL.replace("https:", "http:")), "htu"),
            (lambda: CLIENT.proof(url=URL.replace(".example", ".example:8443")), "htu"),
            (lambda: CLIENT.proof(url="/v1/ledger/entries/0"), "htu"),
            (lambda: CLIENT.proof(htu=["x"]), "htu"),
            (lambda: CLIENT.proof(iat=NOW - PROOF_WINDOW_SECONDS - 1), "iat"),
            (lambda: CLIENT.proof(iat=NOW + PROOF_WINDOW_SECONDS + 1), "iat"),
            (lambda: CLIENT.proof(iat="now"), "iat"),
            (lambda: CLIENT.proof(iat=True), "iat"),
            (lambda: CLIENT.proof(token=None), "ath"),
            (lambda: CLIENT.proof(token=TOKEN + "x"), "ath"),
            (lambda: OTHER.proof(), "key other than"),
        ],
        ids=[
            "too-long",
            "junk",
            "typ-jwt",
            "typ-missing",
            "alg-none",
            "alg-hs256",
            "alg-rs256",
            "jwk-missing",
            "jwk-private",
            "jwk-rsa",
            "jwk-incomplete",
            "signed-by-another-key",
            "alg-key-mismatch",
            "tampered-payload",
            "jti-missing",
            "htm-missing",
            "htu-missing",
            "iat-missing",
            "jti-too-long",
            "jti-empty",
            "jti-number",
            "htm-other",
            "htm-lower-case",
            "htu-other-path",
            "htu-other-scheme",
            "htu-other-port",
            "htu-relative",
            "htu-not-string",
            "iat-old",
            "iat-future",
            "iat-string",
            "iat-bool",
            "ath-missing",
            "ath-other-token",
            "other-client",
        ],
    )
    def test_broken_proof_is_refused(self, make: Callable[[], str], why: str) -> None:
        with pytest.raises(DpopError, match=why):
            check(make())

    def test_payload_must_be_a_json_object(self) -> None:
        signed = CLIENT.signer.sign_compact(
            {"typ": "dpop+jwt", "jwk": CLIENT.jwk}, b"[1, 2]", kid_in_header=False
        )
        with pytest.raises(DpopError, match="not a JSON object"):
            check(signed)

    def test_iat_at_the_edges_of_the_window_passes(self) -> None:
        for iat in (NOW - PROOF_WINDOW_SECONDS, NOW + PROOF_WINDOW_SECONDS):
            assert check(CLIENT.proof(iat=iat)).issued_at == iat

    def test_any_of_several_urls_may_match(self) -> None:
        proof = CLIENT.proof(url="https://public.example/v1/ledger/entries/0")
        urls = (
            "http://127.0.0.1:8080/v1/ledger/entries/0",
            "https://public.example/v1/ledger/entries/0",
        )
        assert check(proof, url=urls).htu == "https://public.example/v1/ledger/entries/0"
        with pytest.raises(DpopError, match="htu"):
            check(proof, url=urls[:1])


class TestUrls:
    """htu and the request URL compare after RFC 3986 normalisation, without query or fragment."""

    @pytest.mark.parametrize(
        ("claimed", "seen"),
        [
            ("HTTPS://Resource.Example.ORG/protectedresource", RFC9449_RESOURCE),
            ("https://resource.example.org:443/protectedresource", RFC9449_RESOURCE),
            ("http://resource.example.org:80/p", "http://resource.example.org/p"),
            ("https://resource.example.org/protectedresource?x=1#f", RFC9449_RESOURCE),
            (RFC9449_RESOURCE, RFC9449_RESOURCE + "?page=2"),
            ("https://h.example", "https://h.example/"),
            ("https://h.example/a%7eb", "https://h.example/a~b"),
            ("https://h.example/a%2fb", "https://h.example/a%2Fb"),
            ("https://[::1]:8080/p", "https://[::1]:8080/p"),
        ],
    )
    def test_equivalent_urls_match(self, claimed: str, seen: str) -> None:
        assert normalise_url(claimed) == normalise_url(seen)

    @pytest.mark.parametrize(
        ("claimed", "seen"),
        [
            ("http://h.example/p", "https://h.example/p"),
            ("https://h.example:8443/p", "https://h.example/p"),
            ("https://h.example/p", "https://h.example/p/"),
            ("https://h.example/P", "https://h.example/p"),
            ("https://g.example/p", "https://h.example/p"),
        ],
    )
    def test_different_urls_differ(self, claimed: str, seen: str) -> None:
        assert normalise_url(claimed) != normalise_url(seen)

    @pytest.mark.parametrize(
        "url", ["/p", "ftp://h.example/p", "https://user@h.example/p", "https://h.example:99999/"]
    )
    def test_what_is_no_http_url_is_refused(self, url: str) -> None:
        with pytest.raises(ValueError):
            normalise_url(url)

    @given(
        host=st.from_regex(r"[a-zA-Z][a-zA-Z0-9-]{0,20}(\.[a-zA-Z]{2,6}){1,2}", fullmatch=True),
        path=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
        query=st.text(max_size=10),
    )
    def test_normalising_is_idempotent_and_drops_the_query(
        self, host: str, path: str, query: str
    ) -> None:
        url = f"https://{host}/{path.replace('?', '').replace('#', '')}"
        once = normalise_url(url)
        assert normalise_url(once) == once
        assert normalise_url(f"{url}?{query}") == once


class TestReplayStore:
    """The store remembers a proof for its window, in the same round trip as revocation."""

    async def test_second_use_is_replayed_then_forgotten(self, store: Store) -> None:
        gateway = GatewayStore(store)
        use = ProofUse(CLIENT.jkt, "jti-0001", remember_ms=300)
        first = await gateway.admit(token_id="t" * 22, caller="c", limit=None, proof=use)
        second = await gateway.admit(token_id="t" * 22, caller="c", limit=None, proof=use)
        assert (first.replayed, second.replayed) == (False, True)
        assert not first.revoked and not second.revoked
        # The same jti from another client's key is that client's first use.
        other_key = dataclasses.replace(use, jkt=OTHER.jkt)
        again = await gateway.admit(token_id=None, caller="c", limit=None, proof=other_key)
        assert not again.replayed
        await asyncio.sleep(0.4)
        assert not (await gateway.admit(token_id=None, caller="c", limit=None, proof=use)).replayed

    async def test_only_a_hash_of_the_jti_is_stored(self, store: Store) -> None:
        jti = "a-very-recognisable-jti"
        await GatewayStore(store).admit(
            token_id=None, caller="c", limit=None, proof=ProofUse(CLIENT.jkt, jti, 60_000)
        )
        keys = [key async for key in store.redis.scan_iter(match=PROOF_PREFIX + "*")]
        assert len(keys) == 1 and jti.encode() not in keys[0]
        assert 0 < await store.redis.pttl(keys[0]) <= 60_000


# --- through a real gateway ------------------------------------------------------------


def bound_token(deployment: Deployment, client: Client = CLIENT, **fields: Any) -> str:
    """A token bound to `client`'s key."""
    return deployment.token(dpop_jkt=client.jkt, **fields)


def dpop(
    http: httpx.AsyncClient,
    token: str,
    path: str,
    method: str = "GET",
    client: Client = CLIENT,
    **claims: Any,
) -> dict[str, str]:
    """The headers of a DPoP request for `method` `path` at `http`'s gateway."""
    url = str(http.base_url).rstrip("/") + path
    now = int(datetime.now(UTC).timestamp())
    return {
        "Authorization": f"DPoP {token}",
        "DPoP": client.proof(method, url, token, iat=now, **claims),
    }


ENTRY = "/v1/ledger/entries/0"


def refused_proof(response: httpx.Response, why: str) -> None:
    """`response` is 401 invalid_dpop_proof with `why` in its message."""
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('DPoP realm="certfree", error="invalid_dpop_proof"'), challenge
    assert challenge.endswith('algs="EdDSA ES256"')
    assert why in response.json()["message"]
    assert reason(response) == "UNAUTHENTICATED_CALLER"


class TestGateway:
    """A bound token passes only with a fresh proof of its key; unbound ones as before."""

    async def test_bound_token_with_a_proof_is_admitted(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        token = bound_token(deployment)
        path = "/v1/ledger/entries"
        appended = await http.post(
            path, json=append_body(), headers=dpop(http, token, path, "POST")
        )
        assert appended.status_code == 200, appended.text
        read = await http.get(ENTRY, headers=dpop(http, token, ENTRY))
        assert read.status_code == 200, read.text
        assert read.json() == appended.json()["entry"]

    async def test_proof_made_for_the_public_url_is_admitted(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        """Behind a TLS-terminating proxy the client signs CERTFREE_PUBLIC_URL's form."""
        token = bound_token(deployment)
        url = deployment.settings.public_url + ENTRY
        headers = {
            "Authorization": f"DPoP {token}",
            "DPoP": CLIENT.proof("GET", url, token, iat=int(datetime.now(UTC).timestamp())),
        }
        assert (await http.get(ENTRY, headers=headers)).status_code == 404

    async def test_replayed_proof_is_401(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        token = bound_token(deployment)
        headers = dpop(http, token, ENTRY)
        assert (await http.get(ENTRY, headers=headers)).status_code == 404
        refused_proof(await http.get(ENTRY, headers=headers), "the DPoP proof was already used")
        assert (await http.get(ENTRY, headers=dpop(http, token, ENTRY))).status_code == 404

    async def test_proof_for_another_request_is_401(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        token = bound_token(deployment)
        other_method = dpop(http, token, ENTRY, "POST")
        refused_proof(await http.get(ENTRY, headers=other_method), "htm")
        other_url = dpop(http, token, "/v1/ledger/entries/1")
        refused_proof(await http.get(ENTRY, headers=other_url), "htu")

    async def test_proof_signed_by_another_key_is_401(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        """The thief has the token and a key of its own, not the client's."""
        token = bound_token(deployment)
        refused_proof(
            await http.get(ENTRY, headers=dpop(http, token, ENTRY, client=OTHER)),
            "signed by a key other than the one the token is bound to",
        )

    async def test_bound_token_as_bearer_is_401_invalid_token(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        response = await http.get(ENTRY, headers=bearer(bound_token(deployment)))
        assert response.status_code == 401
        challenge = response.headers["www-authenticate"]
        assert challenge.startswith('DPoP realm="certfree", error="invalid_token"')
        assert "bound to a DPoP key" in response.json()["message"]

    async def test_stolen_token_without_a_proof_is_401(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        token = bound_token(deployment)
        response = await http.get(ENTRY, headers={"Authorization": f"DPoP {token}"})
        refused_proof(response, "exactly one DPoP header; 0 came")

    async def test_two_proofs_are_401(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        token = bound_token(deployment)
        first, second = dpop(http, token, ENTRY), dpop(http, token, ENTRY)
        headers = [
            ("Authorization", first["Authorization"]),
            ("DPoP", first["DPoP"]),
            ("DPoP", second["DPoP"]),
        ]
        refused_proof(await http.get(ENTRY, headers=headers), "2 came")

    async def test_revoked_bound_token_is_401_even_with_a_proof(
        self, http: httpx.AsyncClient, deployment: Deployment, store: Store
    ) -> None:
        token = bound_token(deployment)
        claims = deployment.key.verify(
            token, deployment.policy, now=int(datetime.now(UTC).timestamp())
        )
        await GatewayStore(store).revoke(
            claims.token_id, now=claims.issued_at, leeway_seconds=60, unknown_ttl_seconds=60
        )
        response = await http.get(ENTRY, headers=dpop(http, token, ENTRY))
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith(
            'DPoP realm="certfree", error="invalid_token"'
        )

    async def test_missing_scope_is_still_403(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        token = bound_token(deployment, scopes=["ledger:read"])
        path = "/v1/ledger/entries"
        response = await http.post(
            path, json=append_body(), headers=dpop(http, token, path, "POST")
        )
        assert response.status_code == 403
        assert response.headers["www-authenticate"].startswith(
            'DPoP realm="certfree", error="insufficient_scope"'
        )

    async def test_unbound_token_works_as_bearer_and_not_as_dpop(
        self, http: httpx.AsyncClient, deployment: Deployment
    ) -> None:
        token = deployment.token()
        assert (await http.get(ENTRY, headers=bearer(token))).status_code == 404
        response = await http.get(ENTRY, headers=dpop(http, token, ENTRY))
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        assert "not bound" in response.json()["message"]


class TestTokensAndCli:
    """A token carries cnf.jkt through minting and verifying; the CLI binds one."""

    def test_bound_claims_round_trip(self, deployment: Deployment) -> None:
        token = bound_token(deployment)
        payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
        assert payload["cnf"] == {"jkt": CLIENT.jkt}
        now = int(datetime.now(UTC).timestamp())
        assert deployment.key.verify(token, deployment.policy, now=now).dpop_jkt == CLIENT.jkt
        unbound = deployment.key.verify(deployment.token(), deployment.policy, now=now)
        assert unbound.dpop_jkt is None
        assert "cnf" not in json.loads(
            base64.urlsafe_b64decode(deployment.token().split(".")[1] + "==")
        )

    @pytest.mark.parametrize("cnf", [{"x5t#S256": "abc"}, "jkt", {"jkt": 5}])
    def test_other_confirmations_are_refused(self, deployment: Deployment, cnf: Any) -> None:
        """A token bound some other way (RFC 7800) must not pass as a bearer token."""
        claims = deployment.policy.claims(
            department=MARKET_REGULATION,
            role="issuer",
            subject="desk-1",
            scopes=["ledger:read"],
            lifetime=timedelta(hours=1),
            now=datetime.now(UTC),
        )
        payload = json.dumps(claims.as_jwt() | {"cnf": cnf}).encode()
        # Signed with the gateway's own key, so only the cnf check can refuse it.
        token = deployment.key._signer.sign_compact({"typ": "at+jwt"}, payload)
        with pytest.raises(TokenError, match="cnf"):
            deployment.key.verify(token, deployment.policy, now=int(datetime.now(UTC).timestamp()))

    def test_malformed_thumbprint_is_refused_at_minting(self, deployment: Deployment) -> None:
        with pytest.raises(TokenError, match=r"cnf\.jkt"):
            deployment.token(dpop_jkt="not-a-thumbprint")

    async def test_issue_with_dpop_jkt_binds_the_token(
        self,
        http: httpx.AsyncClient,
        deployment: Deployment,
        redis_url: str,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        settings = dataclasses.replace(deployment.settings, redis_url=redis_url)

        async def issue(*extra: str) -> tuple[int, str, str]:
            parser = argparse.ArgumentParser()
            tokens_cli.add_tokens_commands(parser.add_subparsers(dest="command"))
            argv = [
                *("tokens", "issue", "--department", MARKET_REGULATION, "--role", "intake"),
                *("--subject", "desk-9", "--scope", "ledger:read", "--days", "1", *extra),
            ]
            status = await tokens_cli.run_with(parser.parse_args(argv), settings)
            out, err = capsys.readouterr()
            return status, out, err

        status, out, err = await issue("--dpop-jkt", CLIENT.jkt)
        assert status == 0, err
        (token,) = [line for line in out.splitlines() if line.startswith("eyJ")]
        assert (await http.get(ENTRY, headers=bearer(token))).status_code == 401
        assert (await http.get(ENTRY, headers=dpop(http, token, ENTRY))).status_code == 404
        status, _, err = await issue("--dpop-jkt", "short")
        assert status == 1 and "cnf.jkt" in err

"""Bearer tokens (runtime/tokens.py) and their store records (gateway/store.py).

Vectors: RFC 8037 appendix A (the Ed25519 key of RFC 8032 section 7.1 test 1, its JWK
thumbprint A.3 and the signed example A.4).
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from gateway.store import GatewayStore, RateLimit
from runtime.config import ConfigError, Settings
from runtime.holders import HolderIndex
from runtime.signing import public_key_from_jwk
from runtime.store import Store
from runtime.tokens import (
    TOKEN_ROLES,
    TokenClaims,
    TokenError,
    TokenKey,
    TokenPolicy,
    key_from_bytes,
    load_token_key,
)
from tests.conftest import HOUSING_BUREAU, MARKET_REGULATION

# RFC 8037 A.1: the Ed25519 private key of RFC 8032 section 7.1, TEST 1.
RFC8037_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"  # A.3
RFC8037_JWS = (  # A.4: {"alg":"EdDSA"} over "Example of Ed25519 signing"
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)

HOLDER_SUBJECT = HolderIndex(bytes(32)).of_resident_id("11010519491231002X")
"""A holder token's subject: a holder index token (runtime/holder_binding.py)."""

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
POLICY = TokenPolicy(
    issuer="https://certfree.quanzhou.example",
    audience="certfree-gateway",
    leeway_seconds=60,
    max_person_lifetime=timedelta(hours=8),
    max_system_lifetime=timedelta(days=30),
)


def _pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


@pytest.fixture(scope="module")
def key() -> TokenKey:
    """A token key from the RFC 8037 seed."""
    return key_from_bytes(_pem(Ed25519PrivateKey.from_private_bytes(RFC8037_SEED)))


def claims(**changes: object) -> TokenClaims:
    """An intake system's claims, valid at NOW, with `changes`."""
    made = POLICY.claims(
        department=MARKET_REGULATION,
        role="intake",
        subject="window-system-3",
        scopes=["proofs", "licenses:verify"],
        lifetime=timedelta(days=7),
        now=NOW,
    )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


def at(moment: datetime) -> int:
    """Seconds since the epoch."""
    return int(moment.timestamp())


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


class TestSpecVectors:
    """The key handling agrees with RFC 8037's published Ed25519 examples."""

    def test_key_id_is_the_rfc7638_thumbprint(self, key: TokenKey) -> None:
        assert key.key_id == RFC8037_THUMBPRINT
        assert key.public_jwk()["x"] == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"

    def test_rfc8037_signature_verifies_under_the_public_key(self, key: TokenKey) -> None:
        header, payload = public_key_from_jwk(key.public_jwk()).verify_compact(RFC8037_JWS)
        assert (header, payload) == ({"alg": "EdDSA"}, b"Example of Ed25519 signing")


class TestRoundTrip:
    """A minted token verifies to the very claims it was made from."""

    def test_verify_returns_the_claims(self, key: TokenKey) -> None:
        made = claims()
        token = key.mint(made)
        assert key.verify(token, POLICY, now=at(NOW + timedelta(hours=1))) == made
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        assert header == {"alg": "EdDSA", "kid": RFC8037_THUMBPRINT, "typ": "at+jwt"}

    def test_claims_follow_rfc9068(self, key: TokenKey) -> None:
        payload = json.loads(base64.urlsafe_b64decode(key.mint(claims()).split(".")[1] + "=="))
        assert payload["scope"] == "proofs licenses:verify"
        assert payload["client_id"] == payload["sub"] == "window-system-3"
        assert payload["exp"] - payload["iat"] == 7 * 86400
        assert set(payload) == {
            *("iss", "aud", "sub", "client_id", "department", "role", "scope"),
            *("iat", "nbf", "exp", "jti"),
        }

    @given(
        role=st.sampled_from(TOKEN_ROLES),
        scopes=st.lists(
            st.sampled_from(["proofs", "ledger:read", "licenses:issue", "keys"]), min_size=1
        ),
        minutes=st.integers(min_value=1, max_value=8 * 60),
        department=st.sampled_from([MARKET_REGULATION, HOUSING_BUREAU]),
    )
    @hypothesis_settings(max_examples=50, deadline=None)
    def test_any_valid_token_round_trips(
        self, key: TokenKey, role: str, scopes: list[str], minutes: int, department: str
    ) -> None:
        made = POLICY.claims(
            department=department,
            role=role,
            subject=HOLDER_SUBJECT if role == "holder" else "staff-1",
            scopes=scopes,
            lifetime=timedelta(minutes=minutes),
            now=NOW,
        )
        assert key.verify(key.mint(made), POLICY, now=at(NOW)) == made
        assert made.scopes == tuple(dict.fromkeys(scopes))


class TestRefused:
    """Every check refuses its own kind of bad token, saying which."""

    def test_another_key_is_forged(self, key: TokenKey) -> None:
        forger = TokenKey(Ed25519PrivateKey.generate())
        with pytest.raises(TokenError, match="signature"):
            key.verify(forger.mint(claims()), POLICY, now=at(NOW))

    def test_tampered_payload_fails_the_signature(self, key: TokenKey) -> None:
        header, _, signature = key.mint(claims()).split(".")
        raised = claims(role="operator").as_jwt()
        with pytest.raises(TokenError, match="signature does not verify"):
            key.verify(f"{header}.{_b64(raised)}.{signature}", POLICY, now=at(NOW))

    def test_alg_none_is_refused(self, key: TokenKey) -> None:
        unsigned = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(claims().as_jwt())}."
        with pytest.raises(TokenError, match="signature"):
            key.verify(unsigned, POLICY, now=at(NOW))

    def test_expired_beyond_the_leeway(self, key: TokenKey) -> None:
        token = key.mint(claims())
        expiry = NOW + timedelta(days=7)
        assert key.verify(token, POLICY, now=at(expiry + timedelta(seconds=59)))
        with pytest.raises(TokenError, match="expired"):
            key.verify(token, POLICY, now=at(expiry + timedelta(seconds=61)))

    def test_not_yet_valid_beyond_the_leeway(self, key: TokenKey) -> None:
        early = claims()
        later = dataclasses.replace(early, not_before=early.issued_at + 3600)
        with pytest.raises(TokenError, match="nbf"):
            key.verify(key.mint(later), POLICY, now=at(NOW))

    @pytest.mark.parametrize(
        ("change", "why"),
        [
            ({"audience": "another-gateway"}, "aud"),
            ({"issuer": "https://elsewhere.example"}, "iss"),
            ({"role": "service"}, "role"),
            ({"role": "gateway"}, "role"),
            ({"department": MARKET_REGULATION[:-1] + "6"}, "department"),
            ({"scopes": ()}, "scope"),
            ({"scopes": ("Proofs!",)}, "scope"),
            ({"subject": "张三 110101199003074514"}, "sub"),
        ],
    )
    def test_bad_claim_is_refused(self, key: TokenKey, change: dict[str, object], why: str) -> None:
        with pytest.raises(TokenError, match=why) as raised:
            key.verify(key.mint(claims(**change)), POLICY, now=at(NOW))
        assert "110101199003074514" not in str(raised.value)

    def test_lifetime_beyond_the_role_cap(self, key: TokenKey) -> None:
        with pytest.raises(TokenError, match="at most 8 hours"):
            POLICY.claims(
                department=MARKET_REGULATION,
                role="clerk",
                subject="clerk-7",
                scopes=["proofs"],
                lifetime=timedelta(hours=9),
                now=NOW,
            )
        person = claims(role="clerk")  # 7 days, signed by someone ignoring the cap
        with pytest.raises(TokenError, match="longer than its role allows"):
            key.verify(key.mint(person), POLICY, now=at(NOW))

    def test_another_typ_is_refused(self, key: TokenKey) -> None:
        payload = json.dumps(claims().as_jwt()).encode()
        plain_jwt = key._signer.sign_compact({"typ": "JWT"}, payload)
        with pytest.raises(TokenError, match="typ"):
            key.verify(plain_jwt, POLICY, now=at(NOW))


class TestKeyFile:
    """CERTFREE_TOKEN_KEY_FILE: created in development, required in production."""

    def test_development_creates_one_key_that_stays(self, settings: Settings) -> None:
        first = load_token_key(settings)
        assert settings.key_path("token_key").stat().st_mode & 0o777 == 0o600
        assert load_token_key(settings).key_id == first.key_id

    def test_production_refuses_a_missing_file(self, settings: Settings) -> None:
        production = dataclasses.replace(settings, mode="production")
        with pytest.raises(ConfigError, match="CERTFREE_TOKEN_KEY_FILE"):
            load_token_key(production)
        assert not settings.key_path("token_key").exists()

    def test_pem_file_is_used_as_is(self, settings: Settings, tmp_path: Path) -> None:
        path = tmp_path / "token.key"
        path.write_bytes(_pem(Ed25519PrivateKey.from_private_bytes(RFC8037_SEED)))
        loaded = load_token_key(dataclasses.replace(settings, token_key_file=path))
        assert loaded.key_id == RFC8037_THUMBPRINT

    @pytest.mark.parametrize(
        ("content", "why"),
        [
            (b"short", "fewer than 32 bytes"),
            (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PEM"),
        ],
    )
    def test_unusable_file_is_refused(
        self, settings: Settings, tmp_path: Path, content: bytes, why: str
    ) -> None:
        path = tmp_path / "token.key"
        path.write_bytes(content)
        with pytest.raises(ConfigError, match=why):
            load_token_key(dataclasses.replace(settings, token_key_file=path))

    def test_a_p256_key_is_refused(self, settings: Settings, tmp_path: Path) -> None:
        path = tmp_path / "token.key"
        ec = generate_private_key(SECP256R1())
        path.write_bytes(ec.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        with pytest.raises(ConfigError, match="not Ed25519"):
            load_token_key(dataclasses.replace(settings, token_key_file=path))


class TestRotation:
    """After a rotation the old key's tokens verify until they expire; new ones use the new
    key; a key rotated out of the list no longer opens anything."""

    def test_old_tokens_verify_by_their_kid_until_the_old_key_is_dropped(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        old_file, new_file = tmp_path / "token.previous.key", tmp_path / "token.key"
        old_file.write_bytes(_pem(Ed25519PrivateKey.generate()))
        new_file.write_bytes(_pem(Ed25519PrivateKey.generate()))
        before = load_token_key(dataclasses.replace(settings, token_key_file=old_file))
        issued_before = before.mint(claims())
        rotated = dataclasses.replace(
            settings, token_key_file=new_file, token_previous_key_files=str(old_file)
        )
        after = load_token_key(rotated)
        assert after.key_id != before.key_id
        assert after.verify(issued_before, POLICY, now=at(NOW)).subject == "window-system-3"
        issued_after = after.mint(claims())
        assert (
            json.loads(base64.urlsafe_b64decode(issued_after.split(".")[0] + "=="))["kid"]
            == after.key_id
        ), "new tokens are signed with the new key"
        dropped = load_token_key(dataclasses.replace(rotated, token_previous_key_files=""))
        with pytest.raises(TokenError, match="kid names a key this gateway does not know"):
            dropped.verify(issued_before, POLICY, now=at(NOW))
        assert dropped.verify(issued_after, POLICY, now=at(NOW)).subject == "window-system-3"

    def test_a_previous_key_file_that_cannot_be_read_names_its_setting(
        self, settings: Settings, tmp_path: Path
    ) -> None:
        missing = dataclasses.replace(settings, token_previous_key_files=str(tmp_path / "gone.key"))
        with pytest.raises(ConfigError, match="CERTFREE_TOKEN_PREVIOUS_KEY_FILES"):
            load_token_key(missing)


class TestStoreRecords:
    """Issued tokens are listed without the token; revocation expires with the token."""

    async def test_issue_list_revoke(self, store: Store) -> None:
        records = GatewayStore(store)
        now = int(time.time())
        alive = claims(issued_at=now, not_before=now, expires_at=now + 3600, token_id="a" * 22)
        gone = claims(
            issued_at=now - 90, not_before=now - 90, expires_at=now - 1, token_id="b" * 22
        )
        await records.record_issued(alive)
        await records.record_issued(gone)
        listed = await records.issued(now=now)
        assert [r.token_id for r in listed] == [alive.token_id]
        assert await store.redis.hlen("certfree:gateway:tokens:issued") == 1  # pruned
        revoked = await records.revoke(
            alive.token_id, now=now, leeway_seconds=60, unknown_ttl_seconds=86400
        )
        assert revoked is not None and revoked.revoked_at == now
        ttl = await store.redis.ttl(f"certfree:gateway:tokens:revoked:{alive.token_id}")
        assert 3600 < ttl <= 3660
        admission = await records.admit(token_id=alive.token_id, caller="x", limit=None)
        assert admission.revoked
        assert (await records.issued(now=now))[0].revoked_at == now

    async def test_unknown_token_is_revoked_for_the_longest_lifetime(self, store: Store) -> None:
        records = GatewayStore(store)
        now = int(time.time())
        assert (
            await records.revoke("c" * 22, now=now, leeway_seconds=60, unknown_ttl_seconds=600)
            is None
        )
        assert 600 < await store.redis.ttl(f"certfree:gateway:tokens:revoked:{'c' * 22}") <= 660


class TestRateLimit:
    """The store-backed GCRA admits a burst of `requests`, then paces, then recovers."""

    async def test_burst_then_429_then_recovery(self, store: Store) -> None:
        records = GatewayStore(store)
        limit = RateLimit(3, period_seconds=1.0)
        answers = [await records.admit(token_id=None, caller="ip:a", limit=limit) for _ in range(4)]
        assert [a.retry_after_ms for a in answers[:3]] == [0, 0, 0]
        assert 0 < answers[3].retry_after_ms <= 334
        assert answers[3].retry_after_seconds == 1
        other = await records.admit(token_id=None, caller="ip:b", limit=limit)
        assert other.retry_after_ms == 0  # callers are counted apart
        await asyncio.sleep(answers[3].retry_after_ms / 1000 + 0.05)
        assert (await records.admit(token_id=None, caller="ip:a", limit=limit)).retry_after_ms == 0

    async def test_one_round_trip_per_request_is_cheap(self, store: Store) -> None:
        """The gateway's per-request store call (revocation + rate) on loopback."""
        records = GatewayStore(store)
        limit = RateLimit(1_000_000)
        await records.admit(token_id="d" * 22, caller="token:x", limit=limit)  # loads the script
        samples = []
        for _ in range(200):
            started = time.perf_counter()
            await records.admit(token_id="d" * 22, caller="token:x", limit=limit)
            samples.append(time.perf_counter() - started)
        samples.sort()
        median_ms = samples[len(samples) // 2] * 1000
        print(f"admit: median {median_ms:.3f} ms, p99 {samples[197] * 1000:.3f} ms")
        assert median_ms < 20

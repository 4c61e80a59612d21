"""Departments' signing keys: generated, sealed at rest, rotated, published, distrusted.

A department's private keys live in the store sealed as JWE under the deployment's
passphrase (runtime.signing); opened keys are kept in memory only. Every key is
published in the trust registry (its public JWK, state, validity window) and its
publication is attested in the ledger. A license verifies against the key that was
active when it was issued, even after rotation; a key marked compromised from time T
fails every signature made at or after T.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf import json_format, struct_pb2

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.licenses.v1 import licenses_pb2
from runtime.attestation import KEY_PUBLISHED, LedgerClient
from runtime.errors import InvalidArgument, NotFound, Unavailable
from runtime.identity import Caller
from runtime.signing import PublicKey, Signer, generate_signer, open_signer, public_key_from_jwk
from runtime.signing import seal_signer as _seal
from services.licenses.store import LicenseStore

Clock = Callable[[], datetime]

ALGORITHMS: dict[int, str] = {
    licenses_pb2.SIGNATURE_ALGORITHM_EDDSA_ED25519: "EdDSA",
    licenses_pb2.SIGNATURE_ALGORITHM_ES256: "ES256",
    licenses_pb2.SIGNATURE_ALGORITHM_SM2_SM3: "SM2",
}
"""The proto's algorithms and their JOSE ``alg`` names (SM2: see runtime/sm2.py)."""

DEFAULT_ALGORITHM = licenses_pb2.SIGNATURE_ALGORITHM_EDDSA_ED25519


class KeyUnusable(Exception):
    """A key that may not vouch for a signature made at a given time; says why."""


def algorithm_of(alg: str) -> int:
    """The proto value of a JOSE ``alg`` name."""
    return next(value for value, name in ALGORITHMS.items() if name == alg)


def check_usable(key: licenses_pb2.IssuerKey, signed_at: datetime) -> None:
    """Raise KeyUnusable unless `key` may vouch for a signature made at `signed_at`."""
    if key.HasField("compromised_since"):
        since = key.compromised_since.ToDatetime(UTC)
        if signed_at >= since:
            raise KeyUnusable(
                f"key {key.key_id} is marked compromised since {since.isoformat()}; "
                f"this was signed at {signed_at.isoformat()}"
            )
    if signed_at < key.not_before.ToDatetime(UTC):
        raise KeyUnusable(f"key {key.key_id} was not yet in use at {signed_at.isoformat()}")
    if key.HasField("not_after") and signed_at > key.not_after.ToDatetime(UTC):
        raise KeyUnusable(f"key {key.key_id} was retired before {signed_at.isoformat()}")


class IssuerKeys:
    """The trust registry and the signing keys of every department."""

    def __init__(
        self,
        store: LicenseStore,
        ledger: LedgerClient,
        passphrase: bytes,
        *,
        clock: Clock = lambda: datetime.now(UTC),
        seal_iterations: int | None = None,
    ) -> None:
        self._store = store
        self._ledger = ledger
        self._passphrase = passphrase
        self._clock = clock
        self._seal_iterations = seal_iterations
        self._signers: dict[tuple[str, str], Signer] = {}
        self._published: dict[str, tuple[float, list[licenses_pb2.IssuerKey]]] = {}
        self._first_key_lock: dict[str, asyncio.Lock] = {}
        self._public_keys: dict[tuple[str, str], PublicKey] = {}

    def _seal(self, signer: Signer) -> bytes:
        if self._seal_iterations is None:
            return _seal(signer, self._passphrase)
        return _seal(signer, self._passphrase, iterations=self._seal_iterations)

    async def signer(self, department: str) -> Signer:
        """The department's active signer; its first key (EdDSA) is made on first use.

        Concurrent first issuances make one key: a lock here, and in the store a script
        that publishes a first key only if the department still has none.
        """
        active = await self._store.active_key(department)
        if active is None:
            async with self._first_key_lock.setdefault(department, asyncio.Lock()):
                active = await self._store.active_key(department)
                if active is None:
                    await self._make_first_key(department)
                    active = await self._store.active_key(department)
        if active is None:
            raise Unavailable(f"department {department} has no signing key; retry")
        key_id, sealed = active
        cached = self._signers.get((department, key_id))
        if cached is None:
            cached = open_signer(sealed, self._passphrase)
            self._signers[(department, key_id)] = cached
        return cached

    async def _make_first_key(self, department: str) -> None:
        key, signer = self._new_key(department, DEFAULT_ALGORITHM)
        if await self._store.save_first_key(key, self._seal(signer)):
            self._signers[(department, key.key_id)] = signer
            self._published.pop(department, None)
            await self._attest(key)

    def _new_key(self, department: str, algorithm: int) -> tuple[licenses_pb2.IssuerKey, Signer]:
        now = self._clock().replace(microsecond=0)  # JWT times are whole seconds
        key_id = f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
        signer = generate_signer(ALGORITHMS[algorithm], key_id)
        jwk = struct_pb2.Struct()
        jwk.update(signer.public_key().jwk())
        key = licenses_pb2.IssuerKey(
            key_id=key_id,
            department_code=department,
            algorithm=algorithm,  # type: ignore[arg-type]
            public_jwk=jwk,
            state=licenses_pb2.KEY_STATE_ACTIVE,
        )
        key.not_before.FromDatetime(now)
        return key, signer

    async def rotate(
        self,
        department: str,
        algorithm: int,
        *,
        request_id: str,
    ) -> tuple[licenses_pb2.IssuerKey, licenses_pb2.IssuerKey | None, bool]:
        """Make a new active key; returns (new key, the key it retired, duplicate)."""
        request_key = f"rotate:{department}:{request_id}" if request_id else ""
        if request_key and (earlier := await self._store.request(request_key)):
            keys = {k.key_id: k for k in await self._store.keys(department)}
            return await self._attest(keys[earlier]), None, True
        key, signer = self._new_key(department, algorithm)
        now = key.not_before.ToDatetime(UTC)
        previous = None
        active = await self._store.active_key(department)
        if active is not None:
            previous = next(k for k in await self._store.keys(department) if k.key_id == active[0])
            previous.state = (
                previous.state
                if previous.state == licenses_pb2.KEY_STATE_COMPROMISED
                else licenses_pb2.KEY_STATE_RETIRED
            )
            previous.not_after.FromDatetime(now)
            await self._store.save_keys([previous])
        await self._store.save_key(key, self._seal(signer), active=True)
        self._published.pop(department, None)
        if request_key:
            await self._store.remember(request_key, key.key_id)
        self._signers[(department, key.key_id)] = signer
        return await self._attest(key), previous, False

    async def _attest(self, key: licenses_pb2.IssuerKey) -> licenses_pb2.IssuerKey:
        """Attest the key's publication, if not yet; record the index.

        When the ledger does not answer, the key is queued (the background retry attests
        it) and returned without a ledger index: a key still signs while its publication
        waits, as a license waits for its own attestation.
        """
        if key.HasField("ledger_index"):
            return key
        try:
            attested = await self._ledger.attest(
                KEY_PUBLISHED, key.department_code, f"key:{key.key_id}", jwk_sha256(key)
            )
        except grpc.aio.AioRpcError:
            await self._store.queue_unattested(f"key:{key.department_code}:{key.key_id}")
            return key
        key.ledger_index = attested.index
        await self._store.save_keys([key])
        self._published.pop(key.department_code, None)
        return key

    async def attest_queued(self, department: str, key_id: str) -> bool:
        """Attest a queued key publication; True once it is in the ledger."""
        key = await self._attest(await self.published(department, key_id))
        if key.HasField("ledger_index"):
            await self._store.dequeue_unattested(f"key:{department}:{key_id}")
            return True
        return False

    async def mark_compromised(
        self, department: str, key_id: str, since: datetime, *, reason: str, actor: Caller
    ) -> licenses_pb2.IssuerKey:
        """Distrust every signature `key_id` made at or after `since`; the key stops signing.

        The key record keeps why, who and when it was marked; the changed record is
        attested as a new key publication (kind key_published). A later marking with an
        earlier `since` widens the distrust and records its own reason and actor.
        """
        key = await self.published(department, key_id)
        if key.HasField("compromised_since") and key.compromised_since.ToDatetime(UTC) <= since:
            return await self._attest(key)  # already distrusted from then: attest if not yet
        key.state = licenses_pb2.KEY_STATE_COMPROMISED
        key.compromised_since.FromDatetime(since)
        key.compromise_reason = reason
        key.compromise_marked_by.CopyFrom(
            common_pb2.Caller(
                department_code=actor.department_code,
                role=actor.role,  # type: ignore[arg-type]
                subject=actor.subject,
            )
        )
        key.compromise_marked_at.FromDatetime(self._clock())
        key.ClearField("ledger_index")  # the changed publication is attested anew
        await self._store.save_keys([key])
        self._published.pop(department, None)
        active = await self._store.active_key(department)
        if active is not None and active[0] == key_id:
            # A compromised key must not sign again: the next issuance makes a new one.
            await self._store.clear_active_key(department)
        self._signers.pop((department, key_id), None)
        return await self._attest(key)

    async def all(self, department: str) -> list[licenses_pb2.IssuerKey]:
        """Every published key of a department."""
        return await self._store.keys(department)

    async def published(self, department: str, key_id: str) -> licenses_pb2.IssuerKey:
        """One published key, or NotFound.

        Read through a one-second cache: verification reads keys on every call, and a key
        marked compromised on another replica is distrusted here within that second.
        """
        cached = self._published.get(department)
        now = time.monotonic()
        if cached is None or now - cached[0] >= 1.0 or key_id not in {k.key_id for k in cached[1]}:
            cached = (now, await self._store.keys(department))
            self._published[department] = cached
        for key in cached[1]:
            if key.key_id == key_id:
                return key
        raise NotFound(f"department {department} has published no key {key_id}")

    async def public_key(
        self, department: str, key_id: str
    ) -> tuple[PublicKey, licenses_pb2.IssuerKey]:
        """The public key a JWS names, with its registry record; NotFound if unpublished."""
        key = await self.published(department, key_id)
        cached = self._public_keys.get((department, key_id))
        if cached is not None:
            return cached, key
        try:
            public = public_key_from_jwk(json_format.MessageToDict(key.public_jwk))
            self._public_keys[(department, key_id)] = public  # a published JWK never changes
            return public, key
        except ValueError as error:
            raise InvalidArgument(f"the published key {key_id} is unusable: {error}") from None


def jwk_sha256(key: licenses_pb2.IssuerKey) -> bytes:
    """SHA-256 of the published record the ledger attests: the JWK and the key's state."""
    record: dict[str, Any] = {
        "jwk": json_format.MessageToDict(key.public_jwk),
        "state": licenses_pb2.KeyState.Name(key.state),
        "not_before": key.not_before.ToJsonString(),
        "not_after": key.not_after.ToJsonString() if key.HasField("not_after") else None,
        "compromised_since": (
            key.compromised_since.ToJsonString() if key.HasField("compromised_since") else None
        ),
    }
    if key.HasField("compromise_marked_at"):
        # Only on a compromise, so that the records of keys never compromised (and their
        # attestations) stay what they were. The reason is hashed: free text stays out of
        # the ledger, yet the ledger pins it.
        record["compromise"] = {
            "reason_sha256": hashlib.sha256(key.compromise_reason.encode()).hexdigest(),
            "marked_by": key.compromise_marked_by.department_code,
            "marked_by_role": common_pb2.Role.Name(key.compromise_marked_by.role),
            "marked_at": key.compromise_marked_at.ToJsonString(),
        }
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).digest()

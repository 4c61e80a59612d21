"""The gateway's store keys: issued tokens, revoked tokens and per-caller rate limits.

The only module that knows these key names; ``certfree tokens`` and the gateway both
come through it. Shared by every gateway replica, since all of them use one store:

- ``certfree:gateway:tokens:issued`` — a hash, token id to the token's metadata (JSON:
  subject, department, role, scopes, times, revoked). Never the token itself.
- ``certfree:gateway:tokens:revoked:<jti>`` — present while a revoked token would
  otherwise still be valid; it expires with the token (``exp`` plus the clock leeway).
- ``certfree:gateway:rate:<sha256 of the caller>`` — the caller's GCRA "theoretical
  arrival time" in milliseconds of the store's clock, expiring when it is in the past.
- ``certfree:gateway:dpop:<sha256 of the proof's key thumbprint and jti>`` — a DPoP
  proof (RFC 9449) already used; kept while the proof could still be accepted (its
  ``iat`` window), so a replayed proof finds it. Only a hash: RFC 9449 section 11.1.

A request costs one round trip: the revocation ``EXISTS``, the proof's ``SET NX`` and
the rate script travel in one pipeline (keys in different slots, so not one script:
Redis Cluster).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from runtime.store import Store
from runtime.tokens import TokenClaims

ISSUED_KEY = "certfree:gateway:tokens:issued"
REVOKED_PREFIX = "certfree:gateway:tokens:revoked:"
RATE_PREFIX = "certfree:gateway:rate:"
PROOF_PREFIX = "certfree:gateway:dpop:"

# GCRA (the generic cell rate algorithm), one caller per key, the store's own clock so
# that every replica agrees. KEYS[1]: the caller's key. ARGV[1]: emission interval (ms),
# ARGV[2]: burst tolerance (ms). Returns 0 when admitted, else milliseconds to wait.
_ADMIT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
local allowed_at = next_tat - tolerance
if allowed_at > now then
  return math.max(1, math.ceil(allowed_at - now))
end
redis.call('SET', KEYS[1], tostring(next_tat), 'PX', math.max(1, math.ceil(next_tat - now)))
return 0
"""


@dataclass(frozen=True)
class RateLimit:
    """`requests` per `period_seconds` per caller, with bursts of up to `requests`."""

    requests: int
    """How many requests a caller may make per period."""
    period_seconds: float = 60.0
    """The period: a minute in production (``CERTFREE_GATEWAY_RATE_PER_MINUTE``)."""

    @property
    def interval_ms(self) -> float:
        """The steady spacing between requests."""
        return self.period_seconds * 1000 / self.requests


@dataclass(frozen=True)
class Admission:
    """The store's answer for one request."""

    revoked: bool
    """The token presented has been revoked."""
    retry_after_ms: int
    """0 when the rate limit admits the request, else how long to wait."""
    replayed: bool = False
    """The DPoP proof presented has been used before."""

    @property
    def retry_after_seconds(self) -> int:
        """``Retry-After`` in whole seconds, at least 1."""
        return max(1, math.ceil(self.retry_after_ms / 1000))


@dataclass(frozen=True)
class IssuedToken:
    """What the store keeps about an issued token (never the token)."""

    token_id: str
    """``jti``."""
    subject: str
    """``sub``: the system or staff name."""
    department: str
    """The department's USCC."""
    role: str
    """The role it carries."""
    scopes: tuple[str, ...]
    """The scopes it carries."""
    issued_at: int
    """``iat``, seconds since the epoch."""
    expires_at: int
    """``exp``, seconds since the epoch."""
    revoked_at: int = 0
    """When it was revoked (seconds since the epoch), 0 if not."""

    @classmethod
    def of(cls, claims: TokenClaims) -> IssuedToken:
        """The record of freshly minted `claims`."""
        return cls(
            token_id=claims.token_id,
            subject=claims.subject,
            department=claims.department,
            role=claims.role,
            scopes=claims.scopes,
            issued_at=claims.issued_at,
            expires_at=claims.expires_at,
        )

    def to_json(self) -> bytes:
        """The stored form."""
        return json.dumps(asdict(self), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> IssuedToken:
        """A record from its stored form."""
        fields = json.loads(raw)
        fields["scopes"] = tuple(fields["scopes"])
        return cls(**fields)


@dataclass(frozen=True)
class ProofUse:
    """A DPoP proof presented with a request, to be remembered so it is used once."""

    jkt: str
    """The thumbprint of the key that signed it."""
    jti: str
    """Its ``jti``."""
    remember_ms: int
    """How long to remember it: until its ``iat`` window has passed."""


def proof_key(jkt: str, jti: str) -> str:
    """The replay key of a proof: per client key, so one client's ``jti`` values never
    collide with another's; hashed, so a long ``jti`` costs the store nothing."""
    return PROOF_PREFIX + hashlib.sha256(f"{jkt}:{jti}".encode()).hexdigest()[:32]


def rate_key(caller: str) -> str:
    """The rate key of a caller (``token:<department>:<subject>`` or ``ip:<address>``),
    hashed so that neither names nor addresses sit in key names."""
    return RATE_PREFIX + hashlib.sha256(caller.encode()).hexdigest()[:32]


class GatewayStore:
    """The gateway's records in the store."""

    def __init__(self, store: Store) -> None:
        """Use `store` (connected; this class never closes it)."""
        self.store = store
        self._admit = store.redis.register_script(_ADMIT)

    async def record_issued(self, claims: TokenClaims) -> None:
        """Remember a minted token's metadata (durable on return)."""
        await self.store.redis.hset(ISSUED_KEY, claims.token_id, IssuedToken.of(claims).to_json())
        await self.store.wait_durable()

    async def issued(self, *, now: int) -> list[IssuedToken]:
        """Tokens not yet expired, oldest first; expired records are dropped on the way."""
        records = await self.store.redis.hgetall(ISSUED_KEY)
        alive: list[IssuedToken] = []
        expired: list[IssuedToken] = []
        for raw in records.values():
            record = IssuedToken.from_json(raw)
            (alive if record.expires_at > now else expired).append(record)
        if expired:
            await self.store.redis.hdel(ISSUED_KEY, *[r.token_id for r in expired])
        return sorted(alive, key=lambda r: (r.issued_at, r.token_id))

    async def revoke(
        self, token_id: str, *, now: int, leeway_seconds: int, unknown_ttl_seconds: int
    ) -> IssuedToken | None:
        """Revoke a token from the gateway's next request on; its record, or None when no
        record names it (then it stays revoked for `unknown_ttl_seconds`, the longest a
        token may live). Durable on return."""
        raw = await self.store.redis.hget(ISSUED_KEY, token_id)
        record = IssuedToken.from_json(raw) if raw is not None else None
        if record is None:
            expire_at = now + unknown_ttl_seconds + leeway_seconds
        else:
            expire_at = record.expires_at + leeway_seconds
            if not record.revoked_at:
                record = IssuedToken(**{**asdict(record), "revoked_at": now})
        async with self.store.redis.pipeline(transaction=True) as pipe:
            if expire_at > now:
                pipe.set(REVOKED_PREFIX + token_id, b"1", exat=expire_at)
            if record is not None:
                pipe.hset(ISSUED_KEY, token_id, record.to_json())
            await pipe.execute()
        await self.store.wait_durable()
        return record

    async def admit(
        self,
        *,
        token_id: str | None,
        caller: str,
        limit: RateLimit | None,
        proof: ProofUse | None = None,
    ) -> Admission:
        """Whether `token_id` is revoked, whether `proof` was used before (it is used now),
        and whether `caller` is within `limit`, in one round trip (none when there is
        nothing to ask)."""
        if token_id is None and limit is None and proof is None:
            return Admission(revoked=False, retry_after_ms=0)
        async with self.store.redis.pipeline(transaction=False) as pipe:
            if token_id is not None:
                pipe.exists(REVOKED_PREFIX + token_id)
            if proof is not None:
                # SET NX answers None when the key exists: the proof was seen already.
                pipe.set(
                    proof_key(proof.jkt, proof.jti), b"1", nx=True, px=max(1, proof.remember_ms)
                )
            if limit is not None:
                interval = limit.interval_ms
                await self._admit(
                    keys=[rate_key(caller)],
                    args=[repr(interval), repr(interval * limit.requests)],
                    client=pipe,
                )
            replies: Sequence[int] = await pipe.execute()
        answers = iter(replies)
        revoked = bool(next(answers)) if token_id is not None else False
        replayed = next(answers) is None if proof is not None else False
        wait = int(next(answers)) if limit is not None else 0
        return Admission(revoked=revoked, retry_after_ms=wait, replayed=replayed)

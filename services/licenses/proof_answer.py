"""Proof answers (证明协查的答复) as SD-JWT VCs: what they carry, signed and checked.

The proofs service decides an answer; the licenses service, which alone holds the
departments' keys, signs it. An answer is an SD-JWT VC with ``vct`` :data:`VCT`, the
answering department as ``iss``, a validity window, and in clear the facts that bind
it to one request of one case: ``request_sha256`` (base64url), ``case_reference``,
``proof_item_code`` and ``outcome``. The holder, the ``request_id`` and every other
claim are selectively disclosable. It has no ``status`` claim: an answer is not
revoked, it expires.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from runtime import sdjwt
from runtime.signing import Signer

VCT = "urn:certfree:proof-answer:v1"
"""The ``vct`` of every proof answer (no license type code looks like it)."""

OUTCOMES = frozenset({"confirmed", "denied", "cannot_determine", "committed"})
"""What an answer can say: the fact holds, does not, cannot be told, or was committed to."""

DEFAULT_VALIDITY = timedelta(days=30)
"""How long an answer is valid when the proofs service gives no ``valid_for``."""

MAX_VALIDITY = timedelta(days=366)
"""The longest ``valid_for`` accepted."""

VISIBLE = ("request_sha256", "case_reference", "proof_item_code", "outcome")
"""The claims signed in clear, in the order they are checked."""

HOLDER_CLAIM = "holder"
"""The disclosable claim naming the holder: ``{"resident_id": ...}`` or ``{"uscc": ...}``."""


def issue(
    signer: Signer,
    *,
    issuer: str,
    now: datetime,
    valid_for: timedelta,
    request_id: str,
    request_sha256: bytes,
    case_reference: str,
    proof_item_code: str,
    outcome: str,
    holder: Mapping[str, str],
    claims: Mapping[str, Any],
) -> sdjwt.Issued:
    """Sign a proof answer; ValueError names what is wrong (an argument, a claim's name)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(sorted(OUTCOMES))}")
    if len(request_sha256) != 32:
        raise ValueError("request_sha256 must be 32 bytes")
    if not timedelta(0) < valid_for <= MAX_VALIDITY:
        raise ValueError(f"valid_for must be positive and at most {MAX_VALIDITY.days} days")
    taken = sorted({HOLDER_CLAIM, "request_id", *VISIBLE} & set(claims))
    if taken:
        raise ValueError(f"claims may not be named {', '.join(taken)}: the answer sets them")
    issued_at = int(now.timestamp())
    return sdjwt.issue(
        signer,
        vct=VCT,
        issuer=issuer,
        issued_at=issued_at,
        not_before=issued_at,
        expires=issued_at + int(valid_for.total_seconds()),
        visible={
            "request_sha256": _b64url(request_sha256),
            "case_reference": case_reference,
            "proof_item_code": proof_item_code,
            "outcome": outcome,
        },
        disclosable={HOLDER_CLAIM: dict(holder), "request_id": request_id, **claims},
        status=None,
    )


def problems(visible: Mapping[str, Any], disclosed: Mapping[str, Any]) -> str:
    """What of a verified answer's claims is not as SignProofAnswer makes them; "" if none."""
    missing = [name for name in VISIBLE if not isinstance(visible.get(name), str)]
    if missing:
        return f"the answer lacks the clear claims {', '.join(missing)}"
    if "status" in visible:
        return "a proof answer carries no status claim"
    if visible["outcome"] not in OUTCOMES:
        return "outcome is not one of " + ", ".join(sorted(OUTCOMES))
    if len(_b64url_decode(visible["request_sha256"])) != 32:
        return "request_sha256 is not 32 bytes in base64url"
    holder = disclosed.get(HOLDER_CLAIM)
    if holder is not None and not (
        isinstance(holder, dict)
        and len(holder) == 1
        and set(holder) <= {"resident_id", "uscc"}
        and all(isinstance(v, str) for v in holder.values())
    ):
        return "the holder claim is not one resident_id or uscc"
    return ""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return b""

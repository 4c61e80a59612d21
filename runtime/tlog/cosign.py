"""The log's side of C2SP tlog-witness: collect k-of-n cosignatures on a checkpoint.

Shortest use, after signing a checkpoint::

    sizes: dict[str, int] = {}          # kept by the log between checkpoints
    note = await collect_cosignatures(
        note, witnesses, quorum=2, fetch_proof=consistency_proof, timeout=5.0,
        known_sizes=sizes,
    )

Every witness is asked concurrently. A witness answers 409 with the size it last
cosigned when the log's idea of it is stale (the first time, or after a restart);
the request is then sent once more, with a proof from that size. A witness that is
down, slow, refuses or answers with a cosignature that does not verify simply does
not count; fewer than `quorum` counting witnesses is a :class:`QuorumNotMet`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass

import httpx

from runtime.tlog.checkpoint import Checkpoint, CosignatureVerifier, count_cosignatures
from runtime.tlog.note import NoteError, NoteSignature, parse_note, sign_note
from runtime.tlog.witness import (
    SIZE_CONTENT_TYPE,
    format_add_checkpoint,
    parse_known_size,
    read_cosignatures,
)

__all__ = ["QuorumNotMet", "WitnessEndpoint", "collect_cosignatures"]

FetchProof = Callable[[int, int], Awaitable[list[bytes]]]
"""``fetch_proof(old_size, new_size)``: the log's RFC 6962 consistency proof between them."""


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness the log asks for cosignatures."""

    name: str
    """How messages and `known_sizes` name it; conventionally its key name."""
    url: str
    """Its submission prefix: requests go to ``<url>/add-checkpoint``."""
    verifier: CosignatureVerifier
    """Its cosignature/v1 public key."""


class QuorumNotMet(Exception):
    """Fewer witnesses than the quorum cosigned; the message says why each other one did not."""

    def __init__(self, cosigned: list[str], quorum: int, failures: dict[str, str]) -> None:
        reasons = "; ".join(f"{name}: {why}" for name, why in failures.items())
        super().__init__(
            f"{len(cosigned)} witness(es) cosigned, {quorum} required"
            + (f" ({reasons})" if reasons else "")
        )
        self.cosigned = cosigned
        """Names of the witnesses whose cosignature verified."""
        self.quorum = quorum
        """How many were required."""
        self.failures = failures
        """Why each other witness did not count, by name."""


class _Refused(Exception):
    """One witness did not cosign; the message says why."""


async def collect_cosignatures(
    note: str,
    witnesses: Sequence[WitnessEndpoint],
    quorum: int,
    fetch_proof: FetchProof,
    timeout: float,  # noqa: ASYNC109 -- per witness: one slow witness must not cost the others
    *,
    known_sizes: MutableMapping[str, int] | None = None,
    client: httpx.AsyncClient | None = None,
) -> str:
    """Ask every witness to cosign the checkpoint `note`; return it with the cosignatures.

    `known_sizes` maps a witness's name to the size it last cosigned, as far as the
    log knows; it is read (missing: 0) and updated in place, so a log passing the
    same mapping each time sends a current ``old`` and rarely needs a second
    request. `timeout` bounds each witness's whole exchange (proofs and requests).
    The result keeps the note's signatures, a new cosignature replacing an older
    one by the same key. Raises :class:`QuorumNotMet` unless at least `quorum`
    witnesses (counting cosignatures the note already carried) have a valid one.
    """
    if not 0 <= quorum <= len(witnesses):
        raise ValueError(f"a quorum of {quorum} of {len(witnesses)} witnesses can never be met")
    parsed = parse_note(note)
    checkpoint = Checkpoint.from_text(parsed.text)
    sizes: MutableMapping[str, int] = {} if known_sizes is None else known_sizes
    own_client = client is None
    http = httpx.AsyncClient(timeout=timeout) if client is None else client
    try:
        outcomes = await asyncio.gather(
            *(
                _ask_within(http, w, note, checkpoint, parsed.text, fetch_proof, sizes, timeout)
                for w in witnesses
            )
        )
    finally:
        if own_client:
            await http.aclose()
    fresh = [s for outcome in outcomes if isinstance(outcome, list) for s in outcome]
    replaced = {(s.name, s.key_id) for s in fresh}
    kept = [s for s in parsed.signatures if (s.name, s.key_id) not in replaced]
    result = sign_note(parsed.text, existing=kept + fresh)
    cosigned = count_cosignatures(parse_note(result), parsed.text, [w.verifier for w in witnesses])
    if len(cosigned) < quorum:
        failures = {
            w.name: outcome
            for w, outcome in zip(witnesses, outcomes, strict=True)
            if isinstance(outcome, str) and w.verifier.name not in cosigned
        }
        raise QuorumNotMet(cosigned, quorum, failures)
    return result


async def _ask_within(
    http: httpx.AsyncClient,
    witness: WitnessEndpoint,
    note: str,
    checkpoint: Checkpoint,
    checkpoint_text: str,
    fetch_proof: FetchProof,
    sizes: MutableMapping[str, int],
    seconds: float,
) -> list[NoteSignature] | str:
    """One witness's cosignatures, or why there are none."""
    try:
        async with asyncio.timeout(seconds):
            return await _ask(http, witness, note, checkpoint, checkpoint_text, fetch_proof, sizes)
    except TimeoutError:
        return f"no answer within {seconds:g} s"
    except _Refused as refused:
        return str(refused)
    except httpx.HTTPError as error:
        return f"{type(error).__name__}: {error}"


async def _ask(
    http: httpx.AsyncClient,
    witness: WitnessEndpoint,
    note: str,
    checkpoint: Checkpoint,
    checkpoint_text: str,
    fetch_proof: FetchProof,
    sizes: MutableMapping[str, int],
) -> list[NoteSignature]:
    url = witness.url.rstrip("/") + "/add-checkpoint"
    old = sizes.get(witness.name, 0)
    for attempt in (1, 2):
        if old > checkpoint.size:
            raise _Refused(
                f"it has cosigned size {old}, larger than this checkpoint's {checkpoint.size}"
            )
        proof: list[bytes] = []
        if 0 < old < checkpoint.size:
            try:
                proof = await fetch_proof(old, checkpoint.size)
            except Exception as error:  # the log's own failure, for this witness only
                raise _Refused(
                    f"no consistency proof from {old} to {checkpoint.size}: {error!r}"
                ) from error
        response = await http.post(
            url,
            content=format_add_checkpoint(old, proof, note).encode(),
            headers={"content-type": "text/plain; charset=utf-8"},
        )
        if response.status_code == 200:
            try:
                signatures = read_cosignatures(response.text, checkpoint_text, witness.verifier)
            except NoteError as error:
                raise _Refused(f"bad answer: {error}") from None
            sizes[witness.name] = checkpoint.size
            return signatures
        if response.status_code == 409 and attempt == 1:
            known = _known_size(response)
            if known is not None and known != old:
                old = known  # our idea of the witness was stale: once more, from its size
                sizes[witness.name] = known
                continue
        raise _Refused(f"HTTP {response.status_code}: {response.text.strip()[:300]}")
    raise AssertionError("unreachable: the second attempt returns or raises")


def _known_size(response: httpx.Response) -> int | None:
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type != SIZE_CONTENT_TYPE:
        return None
    try:
        return parse_known_size(response.text)
    except ValueError:
        return None

"""C2SP tlog-witness (https://c2sp.org/tlog-witness): the add-checkpoint rules, pure.

A witness keeps, for each log it trusts, the size and root of the latest checkpoint
it cosigned, and cosigns a new checkpoint only if the log proves it extends that one.
The log sends ``POST <submission prefix>/add-checkpoint`` with this body::

    old 20852014                                    the size the log thinks we hold
    PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=    RFC 6962 consistency proof, 0-63 lines
    ...
                                                    an empty line
    <the signed checkpoint note>

and gets back cosignature/v1 signature lines (``— <witness> <base64>``). Shortest use,
on the witness's side::

    state, line = add_checkpoint(state, body, log_verifier, cosigner, now=int(time.time()))

and on the log's::

    body = format_add_checkpoint(old_size, proof, note)
    cosignatures = read_cosignatures(response_text, checkpoint_text, witness_verifier)

Every refusal is a :class:`WitnessError` carrying the HTTP status the spec prescribes
(400 malformed, 404 unknown origin, 403 not signed by the log, 409 stale ``old`` or a
conflicting tree of the same size, 422 a proof that does not verify) and a message
saying which check failed. Nothing here does I/O or reads the clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from runtime.tlog import merkle
from runtime.tlog.checkpoint import (
    HASH_SIZE,
    MAX_TREE_SIZE,
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    open_checkpoint,
)
from runtime.tlog.note import (
    NoteError,
    NoteSignature,
    Verifier,
    decode_base64,
    encode_base64,
    parse_note,
)

__all__ = [
    "MAX_PROOF_LINES",
    "SIZE_CONTENT_TYPE",
    "AddCheckpointRequest",
    "WitnessError",
    "WitnessState",
    "add_checkpoint",
    "format_add_checkpoint",
    "format_known_size",
    "parse_add_checkpoint",
    "parse_known_size",
    "read_cosignatures",
    "verify_witness_quorum",
]

MAX_PROOF_LINES = 63
"""Most consistency proof lines a request may carry (enough for any 2^64 tree)."""

SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""Media type of a 409 answer's body: the witness's known size, decimal, and a newline."""

_OLD_LINE = re.compile(r"old (0|[1-9][0-9]*)")
_SIZE_BODY = re.compile(r"(0|[1-9][0-9]*)\n")


class WitnessError(Exception):
    """add-checkpoint refused; `status` is the HTTP status to answer with.

    `known_size` is set on a 409: the size of the latest checkpoint the witness
    cosigned for the origin (0 if none), which the answer's body carries.
    """

    def __init__(self, status: int, reason: str, *, known_size: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        """400, 403, 404, 409 or 422, as tlog-witness prescribes for the failed check."""
        self.reason = reason
        """Which check failed and why."""
        self.known_size = known_size
        """The witness's recorded size for the origin, on a 409."""


@dataclass(frozen=True)
class WitnessState:
    """What a witness remembers about one log: the latest checkpoint it cosigned."""

    origin: str
    """The log's origin line."""
    size: int
    """Tree size of the latest cosigned checkpoint."""
    root_hash: bytes
    """Its 32-byte RFC 6962 root hash."""

    def __post_init__(self) -> None:
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise ValueError(f"witness state size {self.size} is outside 0..2^64-1")
        if len(self.root_hash) != HASH_SIZE:
            raise ValueError(f"witness state root hash is {len(self.root_hash)} bytes, not 32")


@dataclass(frozen=True)
class AddCheckpointRequest:
    """A parsed add-checkpoint body (well-formed, not yet verified)."""

    old_size: int
    """The size of the checkpoint the client believes the witness last cosigned."""
    proof: tuple[bytes, ...]
    """Consistency proof hashes from `old_size` to the checkpoint's size."""
    note: str
    """The signed checkpoint note, verbatim."""
    checkpoint: Checkpoint
    """The note's checkpoint text, parsed (its signatures are not checked yet)."""


# --- the request and the answers ---------------------------------------------------


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> str:
    """Build an add-checkpoint request body: old size line, proof lines, empty line, note."""
    if not 0 <= old_size <= MAX_TREE_SIZE:
        raise ValueError(f"old size {old_size} is outside 0..2^64-1")
    if len(proof) > MAX_PROOF_LINES:
        raise ValueError(f"{len(proof)} proof hashes, more than {MAX_PROOF_LINES}")
    lines = [f"old {old_size}", *(_b64(h) for h in proof)]
    return "".join(line + "\n" for line in lines) + "\n" + note


def parse_add_checkpoint(body: str | bytes) -> AddCheckpointRequest:
    """Parse an add-checkpoint body strictly; a malformed one is a 400 :class:`WitnessError`.

    Checks the ``old <size>`` line (decimal, no leading zeros), at most 63 proof
    lines of canonical base64 each decoding to a 32-byte hash, the empty line, and
    that what follows is a signed note whose text is a checkpoint. Signatures are
    checked by :func:`add_checkpoint`, which knows the log's key.
    """
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _malformed(f"body is not valid UTF-8 at byte {error.start}") from None
    head, blank, note = body.partition("\n\n")
    if not blank:
        raise _malformed("no empty line between the old size and proof lines and the checkpoint")
    old_line, *proof_lines = head.split("\n")
    match = _OLD_LINE.fullmatch(old_line)
    if match is None:
        raise _malformed(f"first line {old_line[:40]!r} is not 'old <size>' (decimal, no sign)")
    old_size = int(match.group(1))
    if old_size > MAX_TREE_SIZE:
        raise _malformed(f"old size {old_size} exceeds 2^64-1")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise _malformed(f"{len(proof_lines)} proof lines, more than {MAX_PROOF_LINES}")
    proof: list[bytes] = []
    for number, line in enumerate(proof_lines, 1):
        hashed = decode_base64(line)
        if hashed is None or len(hashed) != HASH_SIZE:
            raise _malformed(
                f"proof line {number} {line[:60]!r} is not the base64 of a 32-byte hash"
            )
        proof.append(hashed)
    try:
        checkpoint = Checkpoint.from_text(parse_note(note).text)
    except NoteError as error:
        raise _malformed(f"checkpoint: {error}") from None
    return AddCheckpointRequest(old_size, tuple(proof), note, checkpoint)


def format_known_size(size: int) -> str:
    """The body of a 409 answer (media type :data:`SIZE_CONTENT_TYPE`)."""
    return f"{size}\n"


def parse_known_size(body: str) -> int:
    """Read a 409 answer's body; ValueError unless it is a decimal size and a newline."""
    match = _SIZE_BODY.fullmatch(body)
    if match is None:
        raise ValueError(f"a witness's known size must be a decimal and a newline: {body[:40]!r}")
    return int(match.group(1))


def read_cosignatures(
    response: str, checkpoint_text: str, witness: CosignatureVerifier
) -> list[NoteSignature]:
    """Return the cosignatures by `witness` in an add-checkpoint answer, each one verified.

    The answer is one or more note signature lines; as the spec suggests, it is
    parsed appended to the checkpoint text. Lines by other keys are ignored. Raises
    :class:`NoteError` if the answer is malformed, if a line by the witness's key
    does not verify over `checkpoint_text`, or if there is none.
    """
    if not response:
        raise NoteError(f"witness {witness.key} answered with no signature lines")
    parsed = parse_note(checkpoint_text + "\n" + response)
    mine = [s for s in parsed.signatures if (s.name, s.key_id) == (witness.name, witness.key_id)]
    if not mine:
        found = ", ".join(s.key for s in parsed.signatures)
        raise NoteError(f"witness {witness.key} answered without its own cosignature ({found})")
    for signature in mine:
        witness.check(checkpoint_text, signature)
    return mine


# --- the witness -------------------------------------------------------------------


def add_checkpoint(
    state: WitnessState | None,
    request_body: str | bytes,
    log_verifier: Verifier,
    cosigner: CosignatureSigner,
    now: int,
    *,
    origin: str | None = None,
) -> tuple[WitnessState, str]:
    """Check an add-checkpoint request against what the witness holds and cosign it.

    `state` is the witness's record for the log (``None``: never cosigned, which
    counts as size 0 and the empty tree's root); `origin` is the log's origin
    (default: the log key's name); `now` is the cosignature's timestamp in POSIX
    seconds. Returns the state to persist, before answering, and the cosignature
    line to answer with. Checks, in the spec's order, each failure a
    :class:`WitnessError`:

    1. the body is well formed (400);
    2. the checkpoint's origin is the log's (404);
    3. the log's key signed it (403);
    4. ``old`` is not above the checkpoint's size (400);
    5. ``old`` is the size the witness last cosigned (409, with that size);
    6. same size: the roots are equal (409); otherwise the RFC 6962 consistency proof
       from the witness's root to the checkpoint's verifies (422).

    A rollback (a checkpoint smaller than the recorded one) cannot pass 4 and 5.
    """
    expected_origin = log_verifier.name if origin is None else origin
    if state is not None and state.origin != expected_origin:
        raise ValueError(f"witness state is for {state.origin!r}, not {expected_origin!r}")
    request = parse_add_checkpoint(request_body)
    checkpoint = request.checkpoint
    if checkpoint.origin != expected_origin:
        raise WitnessError(404, f"unknown log origin {checkpoint.origin[:200]!r}")
    try:
        _, opened = open_checkpoint(request.note, log_verifier, origin=expected_origin)
    except NoteError as error:
        raise WitnessError(403, str(error)) from None
    known_size = 0 if state is None else state.size
    known_root = merkle.EMPTY_ROOT if state is None else state.root_hash
    if request.old_size > checkpoint.size:
        raise WitnessError(
            400,
            f"old size {request.old_size} is above the checkpoint's size {checkpoint.size}: "
            "a log never shrinks",
        )
    if request.old_size != known_size:
        raise WitnessError(
            409,
            f"old size {request.old_size} is not {known_size}, the size of the latest "
            f"checkpoint this witness cosigned for {expected_origin}",
            known_size=known_size,
        )
    _check_extends(request, known_root, state is None)
    cosignature = cosigner.cosign(opened.text, now)
    return WitnessState(expected_origin, checkpoint.size, checkpoint.root_hash), cosignature.line()


def _check_extends(request: AddCheckpointRequest, known_root: bytes, first: bool) -> None:
    """Step 6 of :func:`add_checkpoint`: the checkpoint's tree extends the recorded one."""
    checkpoint = request.checkpoint
    old = request.old_size
    if old == checkpoint.size:
        if request.proof:
            raise WitnessError(
                422,
                f"the proof from size {old} to the same size must be empty, "
                f"has {len(request.proof)} hashes",
            )
        if checkpoint.root_hash == known_root:
            return
        if first:  # size 0, never cosigned: nothing to conflict with, the root is just wrong
            raise WitnessError(
                422,
                f"a tree of size 0 has root {_b64(merkle.EMPTY_ROOT)}, "
                f"not {_b64(checkpoint.root_hash)}",
            )
        raise WitnessError(
            409,
            f"conflicting checkpoint: this witness cosigned size {old} with root "
            f"{_b64(known_root)}, this checkpoint has root {_b64(checkpoint.root_hash)}",
            known_size=old,
        )
    try:
        merkle.verify_consistency(
            old, checkpoint.size, request.proof, known_root, checkpoint.root_hash
        )
    except merkle.ProofError as error:
        raise WitnessError(
            422, f"consistency proof from size {old} to {checkpoint.size}: {error}"
        ) from None


# --- auditors ----------------------------------------------------------------------


def verify_witness_quorum(
    note: str | bytes, witnesses: Sequence[CosignatureVerifier], quorum: int
) -> list[str]:
    """Check that at least `quorum` of the trusted `witnesses` cosigned the checkpoint `note`.

    Returns the names of the witnesses whose cosignature verifies (one vote per
    name). Cosignatures by other keys are ignored. Raises :class:`NoteError` naming
    how many verified of how many required, and why each other witness did not
    count; ValueError if `quorum` is not between 1 and the number of witnesses. The
    log's own signature is checked separately, with
    :func:`runtime.tlog.checkpoint.open_checkpoint`.
    """
    names = list(dict.fromkeys(w.name for w in witnesses))
    if not 1 <= quorum <= len(names):
        raise ValueError(f"a quorum of {quorum} of {len(names)} witnesses can never be met")
    parsed = parse_note(note)
    Checkpoint.from_text(parsed.text)  # witnesses cosign checkpoints, never other notes
    verified: list[str] = []
    why_not: dict[str, str] = {}
    for witness in witnesses:
        if witness.name in verified:
            continue
        own = [s for s in parsed.signatures if (s.name, s.key_id) == (witness.name, witness.key_id)]
        failures: list[str] = []
        for signature in own:
            try:
                witness.check(parsed.text, signature)
            except NoteError as error:
                failures.append(str(error))
            else:
                verified.append(witness.name)
                why_not.pop(witness.name, None)
                break
        else:
            if witness.name not in why_not:
                why_not[witness.name] = "; ".join(failures) or f"no cosignature by {witness.key}"
    if len(verified) < quorum:
        reasons = "; ".join(f"{name}: {reason}" for name, reason in why_not.items())
        raise NoteError(
            f"witness quorum not met: {len(verified)} of {len(names)} trusted witnesses "
            f"cosigned, {quorum} required ({reasons})"
        )
    return verified


def _malformed(reason: str) -> WitnessError:
    return WitnessError(400, f"malformed add-checkpoint request: {reason}")


def _b64(hashed: bytes) -> str:
    return encode_base64(hashed)

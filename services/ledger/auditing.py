"""Checking a receipt against the log, check by check, for people and systems without the CLI.

:func:`audit_receipt` runs what ``certfree ledger verify-receipt`` runs offline (the
tlog-proof's form, the checkpoint's signature, the artefact's hash, inclusion), adds
what only the log can answer at once (the latest checkpoint extends the receipt's, so
nothing the receipt proves was forked away or rewritten since) and the witness quorum,
and keeps going after a failure where later checks still mean something, so the answer
lists every check. Pure: the servicer fetches the latest checkpoint and the consistency
proof for the checkpoint :func:`audit_receipt` found signed, and :func:`with_consistency`
decides that check.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from runtime.tlog import merkle
from runtime.tlog.checkpoint import Checkpoint, CosignatureVerifier, open_checkpoint
from runtime.tlog.entry import Entry, EntryError
from runtime.tlog.note import NoteError, Verifier
from runtime.tlog.receipt import Receipt, ReceiptError
from runtime.tlog.witness import verify_witness_quorum

FORMAT = "format"
SIGNATURE = "signature"
ARTEFACT = "artefact"
INCLUSION = "inclusion"
CONSISTENCY = "consistency"
WITNESSES = "witnesses"
CHECKS = (FORMAT, SIGNATURE, ARTEFACT, INCLUSION, CONSISTENCY, WITNESSES)
"""Every check, in the order run (the proto's ReceiptCheck values, lower case)."""

PASSED = "passed"
FAILED = "failed"
NOT_CHECKED = "not checked"

_EMPTY_FILE = hashlib.sha256(b"").digest()


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome."""

    check: str
    """One of :data:`CHECKS`."""
    outcome: str
    """:data:`PASSED`, :data:`FAILED` or :data:`NOT_CHECKED`."""
    detail: str = ""
    """Why it failed or was not checked; when passed, what it covered."""


@dataclass(frozen=True)
class Witnesses:
    """The witnesses whose cosignatures the log asks for, and how many must cosign."""

    verifiers: tuple[CosignatureVerifier, ...] = ()
    quorum: int = 0


@dataclass(frozen=True)
class ReceiptAudit:
    """Everything :func:`audit_receipt` found."""

    checks: tuple[CheckResult, ...]
    receipt: Receipt | None = None
    """The parsed receipt; None when its form failed."""
    entry: Entry | None = None
    """The entry the receipt carries; None when its form failed."""
    checkpoint: Checkpoint | None = None
    """The receipt's checkpoint, once its signature verified."""
    leaf_hash: bytes = b""
    path: tuple[merkle.PathStep, ...] = ()
    witnesses: tuple[str, ...] = field(default=())
    """Names of the witnesses whose cosignature verified."""

    @property
    def valid(self) -> bool:
        """No check failed."""
        return all(result.outcome != FAILED for result in self.checks)


@dataclass(frozen=True)
class Latest:
    """The log's latest checkpoint and the consistency proof from the receipt's size to it."""

    checkpoint: Checkpoint
    proof: Sequence[bytes]


def _parse(text: str) -> tuple[Receipt, Entry] | str:
    """The receipt and the entry it carries, or why the text is not a certfree receipt."""
    try:
        receipt = Receipt.from_text(text)
    except ReceiptError as error:
        return f"not a C2SP tlog-proof: {error}"
    try:
        return receipt, Entry.decode(receipt.extra)
    except EntryError as error:
        return f"the receipt's extra data is not a certfree entry: {error}"


def _signed_checkpoint(receipt: Receipt, log: Verifier) -> Checkpoint | str:
    """The receipt's checkpoint if `log` signed it (and it names `log`'s origin), else why not."""
    try:
        checkpoint, _ = open_checkpoint(receipt.checkpoint_note, log, origin=log.name)
    except NoteError as error:
        return str(error)
    return checkpoint


def audit_receipt(
    text: str,
    *,
    log: Verifier,
    artefact_sha256: bytes | None,
    witnesses: Witnesses,
) -> ReceiptAudit:
    """Every check of a receipt but consistency, which waits (NOT_CHECKED) for the log's
    latest checkpoint: :func:`with_consistency` decides it once the caller has fetched
    that and the proof for the checkpoint this audit found signed."""
    parsed = _parse(text)
    if isinstance(parsed, str):
        return ReceiptAudit(
            (
                CheckResult(FORMAT, FAILED, parsed),
                *(CheckResult(c, NOT_CHECKED, "the receipt could not be read") for c in CHECKS[1:]),
            )
        )
    receipt, entry = parsed
    checks = [CheckResult(FORMAT, PASSED, f"a tlog-proof of entry {receipt.index}")]
    signed = _signed_checkpoint(receipt, log)
    checkpoint = signed if isinstance(signed, Checkpoint) else None
    if checkpoint is None:
        checks.append(CheckResult(SIGNATURE, FAILED, str(signed)))
    else:
        checks.append(CheckResult(SIGNATURE, PASSED, f"signed by {log.name}+{log.key_id.hex()}"))
    checks.append(_artefact(entry, artefact_sha256))
    leaf = merkle.leaf_hash(receipt.extra)
    path: tuple[merkle.PathStep, ...] = ()
    if checkpoint is None:
        checks.append(CheckResult(INCLUSION, NOT_CHECKED, "the checkpoint is not the log's"))
    else:
        try:
            path = tuple(merkle.audit_path(leaf, receipt.index, checkpoint.size, receipt.proof))
        except merkle.ProofError as error:
            checks.append(CheckResult(INCLUSION, FAILED, str(error)))
        else:
            root = path[-1].node if path else leaf
            if root == checkpoint.root_hash:
                checks.append(
                    CheckResult(
                        INCLUSION,
                        PASSED,
                        f"entry {receipt.index} is in the tree of {checkpoint.size} entries",
                    )
                )
            else:
                checks.append(
                    CheckResult(
                        INCLUSION,
                        FAILED,
                        "the audit path leads to another root than the checkpoint's",
                    )
                )
    checks.append(_consistency(checkpoint, None))
    named, witnessed = _witnesses(receipt, checkpoint, witnesses)
    checks.append(witnessed)
    return ReceiptAudit(tuple(checks), receipt, entry, checkpoint, leaf, path, named)


def with_consistency(audit: ReceiptAudit, latest: Latest) -> ReceiptAudit:
    """`audit` with its CONSISTENCY check decided against `latest`."""
    decided = _consistency(audit.checkpoint, latest)
    checks = tuple(decided if c.check == CONSISTENCY else c for c in audit.checks)
    return dataclasses.replace(audit, checks=checks)


def _artefact(entry: Entry, artefact_sha256: bytes | None) -> CheckResult:
    if artefact_sha256 is None:
        return CheckResult(
            ARTEFACT, NOT_CHECKED, "no artefact given; the entry attests " + entry.artefact_id
        )
    if artefact_sha256 == _EMPTY_FILE:
        return CheckResult(ARTEFACT, FAILED, "that is the SHA-256 of an empty file")
    if entry.artefact_sha256 != artefact_sha256:
        return CheckResult(ARTEFACT, FAILED, "the entry attests another artefact's SHA-256")
    return CheckResult(ARTEFACT, PASSED, "the entry attests this artefact's SHA-256")


def _consistency(checkpoint: Checkpoint | None, latest: Latest | None) -> CheckResult:
    if checkpoint is None or latest is None:
        return CheckResult(CONSISTENCY, NOT_CHECKED, "the checkpoint is not the log's")
    now = latest.checkpoint
    if checkpoint.size > now.size:
        return CheckResult(
            CONSISTENCY,
            FAILED,
            f"the receipt's checkpoint has {checkpoint.size} entries, the log only {now.size}: "
            "it was signed for another history",
        )
    try:
        merkle.verify_consistency(
            checkpoint.size, now.size, latest.proof, checkpoint.root_hash, now.root_hash
        )
    except merkle.ProofError as error:
        return CheckResult(CONSISTENCY, FAILED, f"the log's history differs: {error}")
    return CheckResult(
        CONSISTENCY,
        PASSED,
        f"the latest checkpoint ({now.size} entries) extends the receipt's ({checkpoint.size})",
    )


def _witnesses(
    receipt: Receipt, checkpoint: Checkpoint | None, witnesses: Witnesses
) -> tuple[tuple[str, ...], CheckResult]:
    if not witnesses.quorum:
        return (), CheckResult(WITNESSES, NOT_CHECKED, "the log has no witnesses configured")
    if checkpoint is None:
        return (), CheckResult(WITNESSES, NOT_CHECKED, "the checkpoint is not the log's")
    try:
        names = verify_witness_quorum(
            receipt.checkpoint_note, witnesses.verifiers, witnesses.quorum
        )
    except NoteError as error:
        return (), CheckResult(WITNESSES, FAILED, str(error))
    return tuple(names), CheckResult(
        WITNESSES,
        PASSED,
        f"cosigned by {', '.join(names)} ({len(names)} of {len(witnesses.verifiers)}, "
        f"{witnesses.quorum} required)",
    )

"""gRPC face of the ledger: decode, check the department, call the sequencer or the reader,
encode (roles are checked by the server against runtime.policy before a handler runs)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Sequence

import grpc
from google.api import httpbody_pb2
from google.protobuf import timestamp_pb2

from genproto.certfree.common.v1 import common_pb2
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from runtime.errors import (
    AlreadyExists,
    FieldViolation,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from runtime.identity import Caller, current_caller
from runtime.tlog import tiles
from runtime.tlog.checkpoint import Checkpoint
from runtime.tlog.entry import KINDS, Entry, EntryError
from runtime.tlog.note import NoteError, Verifier, parse_note
from runtime.tlog.receipt import Receipt
from services.ledger.auditing import (
    FAILED,
    NOT_CHECKED,
    PASSED,
    Latest,
    ReceiptAudit,
    Witnesses,
    audit_receipt,
    with_consistency,
)
from services.ledger.reader import LogReader
from services.ledger.sequencer import (
    Landed,
    NotSequencer,
    Reused,
    Sequencer,
    Submission,
    find_keys,
    hash_key,
)
from services.ledger.store import Fenced, LedgerStore

HTTP_CACHE_CONTROL = "x-http-cache-control"  # a key of runtime.server.HTTP_HEADER_METADATA
_IMMUTABLE = "public, max-age=31536000, immutable"


def kind_name(kind: int) -> str:
    """The entry kind of an AttestationKind value (their orders are the same)."""
    return KINDS[kind - 1]


def entry_message(index: int, encoded: bytes, entry: Entry | None = None) -> ledger_pb2.LedgerEntry:
    """A stored entry as the API shows it (`entry` is `encoded` decoded, if at hand)."""
    entry = entry or Entry.decode(encoded)
    message = ledger_pb2.LedgerEntry(
        index=index,
        attestation=ledger_pb2.Attestation(
            artefact_sha256=entry.artefact_sha256,
            kind=KINDS.index(entry.kind) + 1,  # type: ignore[arg-type]
            issuer_department=entry.issuer,
            artefact_id=entry.artefact_id,
        ),
        encoded=encoded,
    )
    message.accepted_at.FromMilliseconds(entry.accepted_ms)
    return message


@functools.lru_cache(maxsize=64)
def _checkpoint_of(note: str) -> Checkpoint:
    # Every result of a batch carries the same note: parse it once, not once per entry.
    return Checkpoint.from_text(parse_note(note).text)


def checkpoint_message(note: str) -> ledger_pb2.Checkpoint:
    """The API form of a signed checkpoint note."""
    checkpoint = _checkpoint_of(note)
    return ledger_pb2.Checkpoint(
        origin=checkpoint.origin,
        size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        signed_note=note,
    )


def _submission(
    caller: Caller, request: ledger_pb2.AppendRequest, position: int | None = None
) -> Submission:
    """The submission of one append; `position` is its place in a batch (for errors)."""
    attestation = request.attestation
    if (
        caller.role != common_pb2.ROLE_SERVICE
        and attestation.issuer_department != caller.department_code
    ):
        raise PermissionDenied(
            "a department attests only its own artefacts",
            reason=common_pb2.OUTSIDE_AUTHORITY,
            metadata={"issuer_department": attestation.issuer_department},
        )
    try:
        return Submission(
            kind=kind_name(attestation.kind),
            issuer=attestation.issuer_department,
            artefact_id=attestation.artefact_id,
            artefact_sha256=attestation.artefact_sha256,
            idempotency_key=request.idempotency_key,
        )
    except EntryError as error:
        field = "attestation" if position is None else f"appends[{position}].attestation"
        raise InvalidArgument(
            error.message,
            field_violations=[FieldViolation(f"{field}.{error.field}", error.message)],
        ) from None


def _refuse_reused_keys(submissions: Sequence[Submission]) -> None:
    """ALREADY_EXISTS for a call that uses one key for two contents (the sequencer
    compares each key with the log's entries, and refuses the whole call likewise)."""
    first_use: dict[bytes, int] = {}
    for position, submission in enumerate(submissions):
        for key in submission.idempotency_keys:
            first = first_use.setdefault(key, position)
            if first != position and not submissions[first].same_as(submission):
                raise AlreadyExists(
                    f"appends[{position}] reuses the idempotency key or artefact hash of "
                    f"appends[{first}] for other content",
                    metadata={"append": str(position)},
                )


def _batch_response(landed: Landed) -> ledger_pb2.BatchAppendResponse:
    times: dict[int, timestamp_pb2.Timestamp] = {}  # a batch's new entries share one time
    for placed in landed.placed:
        if placed.accepted_ms not in times:
            times[placed.accepted_ms] = timestamp_pb2.Timestamp()
            times[placed.accepted_ms].FromMilliseconds(placed.accepted_ms)
    response = ledger_pb2.BatchAppendResponse(checkpoint=checkpoint_message(landed.checkpoint_note))
    add = response.results.add  # half the cost of a list of AppendResult messages
    for p in landed.placed:
        add(index=p.index, duplicate=p.duplicate, accepted_at=times[p.accepted_ms])
    return response


_OUTCOMES = {
    PASSED: ledger_pb2.RECEIPT_CHECK_OUTCOME_PASSED,
    FAILED: ledger_pb2.RECEIPT_CHECK_OUTCOME_FAILED,
    NOT_CHECKED: ledger_pb2.RECEIPT_CHECK_OUTCOME_NOT_CHECKED,
}


def _audit_response(
    audit: ReceiptAudit, latest_note: str | None, log: Verifier
) -> ledger_pb2.VerifyReceiptResponse:
    response = ledger_pb2.VerifyReceiptResponse(
        valid=audit.valid,
        checks=[
            ledger_pb2.ReceiptCheckResult(
                check=f"RECEIPT_CHECK_{result.check.upper()}",
                outcome=_OUTCOMES[result.outcome],
                detail=result.detail,
            )
            for result in audit.checks
        ],
        leaf_hash=audit.leaf_hash,
        audit_path=[
            ledger_pb2.AuditPathStep(
                sibling=step.sibling, sibling_is_left=step.sibling_is_left, node=step.node
            )
            for step in audit.path
        ],
        verifier_key=log.key_string(),
        witnesses=audit.witnesses,
    )
    if audit.receipt is not None and audit.entry is not None:
        response.entry.CopyFrom(
            entry_message(audit.receipt.index, audit.receipt.extra, audit.entry)
        )
    if audit.receipt is not None and audit.checkpoint is not None:  # signed: it parses
        response.checkpoint.CopyFrom(checkpoint_message(audit.receipt.checkpoint_note))
    if latest_note is not None:
        response.latest_checkpoint.CopyFrom(checkpoint_message(latest_note))
    return response


class LedgerServicer(ledger_pb2_grpc.LedgerServiceServicer):
    """certfree.ledger.v1.LedgerService."""

    def __init__(
        self,
        store: LedgerStore,
        reader: LogReader,
        sequencer: Sequencer,
        *,
        log: Verifier,
        witnesses: Witnesses | None = None,
    ) -> None:
        """`log` is the log's verifier key; with a witness quorum, the published checkpoint
        is the newest the witnesses cosigned."""
        self._store = store
        self._reader = reader
        self._sequencer = sequencer
        self._log = log
        self._witnesses = witnesses or Witnesses()
        self._witnessed = self._witnesses.quorum > 0

    async def _submit(self, submissions: Sequence[Submission]) -> Landed:
        _refuse_reused_keys(submissions)
        try:
            return await self._sequencer.submit(submissions)
        except (NotSequencer, Fenced) as error:
            raise Unavailable(
                f"{error}; retry: the replica holding the lease appends",
                reason=common_pb2.NOT_SEQUENCER,
            ) from None
        except Reused as error:
            raise AlreadyExists(
                f"the idempotency key or artefact hash of append {error.position} was "
                f"attested with other content at entry {error.index}",
                metadata={"append": str(error.position), "index": str(error.index)},
            ) from None

    async def Append(
        self, request: ledger_pb2.AppendRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.AppendResponse:
        """Append one attestation; returns once it is durable and checkpointed."""
        submission = _submission(current_caller(), request)
        landed = await self._submit([submission])
        (placed,) = landed.placed
        entry = Entry(
            submission.kind,
            submission.issuer,
            submission.artefact_id,
            submission.artefact_sha256,
            placed.accepted_ms,
        )
        return ledger_pb2.AppendResponse(
            entry=entry_message(placed.index, entry.encode(), entry),
            duplicate=placed.duplicate,
            checkpoint=checkpoint_message(landed.checkpoint_note),
        )

    async def BatchAppend(
        self, request: ledger_pb2.BatchAppendRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.BatchAppendResponse:
        """Append many attestations in order; all or none of them are written."""
        caller = current_caller()
        submissions = [_submission(caller, item, i) for i, item in enumerate(request.appends)]
        return _batch_response(await self._submit(submissions))

    async def AppendStream(
        self,
        requests: AsyncIterator[ledger_pb2.BatchAppendRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[ledger_pb2.BatchAppendResponse]:
        """Pipelined bulk appends: read batches ahead while earlier ones are being fsynced."""
        caller = current_caller()
        in_flight: asyncio.Queue[asyncio.Task[Landed] | None] = asyncio.Queue(maxsize=8)

        async def read() -> None:
            async for batch in requests:
                submissions = [_submission(caller, item, i) for i, item in enumerate(batch.appends)]
                await in_flight.put(asyncio.create_task(self._submit(submissions)))
            await in_flight.put(None)

        reader = asyncio.create_task(read())
        try:
            while True:
                if reader.done():
                    reader.result()  # raises the reader's error, if it failed
                    task = await in_flight.get()
                else:
                    got = asyncio.ensure_future(in_flight.get())
                    await asyncio.wait({got, reader}, return_when=asyncio.FIRST_COMPLETED)
                    if not got.done():
                        got.cancel()  # the reader ended first; the next turn looks at it
                        continue
                    task = got.result()
                if task is None:
                    break
                yield _batch_response(await task)
        finally:
            reader.cancel()
            while not in_flight.empty():
                queued = in_flight.get_nowait()
                if queued is not None:
                    queued.cancel()

    async def _latest(self) -> tuple[str, int]:
        note = await self._store.checkpoint()
        if note is None:
            raise NotFound("the log has no checkpoint yet")
        return note, Checkpoint.from_text(parse_note(note).text).size

    async def _published(self, at_least: int = 0) -> tuple[str, int]:
        """The checkpoint to publish: the newest witnessed one (when witnessing is on and it
        covers `at_least` entries), else the latest."""
        if self._witnessed:
            note = await self._store.witnessed()
            if note is not None:
                size = Checkpoint.from_text(parse_note(note).text).size
                if size >= at_least:
                    return note, size
        return await self._latest()

    async def _entry(self, index: int, size: int) -> ledger_pb2.LedgerEntry:
        if index >= size:
            raise NotFound(f"the log has no entry {index}", metadata={"index": str(index)})
        (encoded,) = await self._reader.entries([index])
        return entry_message(index, encoded)

    async def GetEntry(
        self, request: ledger_pb2.GetEntryRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.LedgerEntry:
        """One entry by index."""
        current_caller()
        _, size = await self._latest()
        return await self._entry(request.index, size)

    async def LookupEntry(
        self, request: ledger_pb2.LookupEntryRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.LedgerEntry:
        """The entry attesting an artefact, by its hash and kind."""
        current_caller()
        key = hash_key(kind_name(request.kind), request.artefact_sha256)
        found = await find_keys(self._store, self._reader, [key])
        if key not in found:
            raise NotFound("no entry attests this artefact hash and kind")
        index, _ = found[key]
        _, size = await self._latest()
        return await self._entry(index, size)

    async def ListArtefactEntries(
        self, request: ledger_pb2.ListArtefactEntriesRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.ListArtefactEntriesResponse:
        """An artefact's entries, oldest first, each with its proof in the latest checkpoint."""
        current_caller()
        note, size = await self._latest()
        indexes = [i for i in await self._store.artefact_indexes(request.artefact_id) if i < size]
        indexes = indexes[-1000:]
        encoded = await self._reader.entries(indexes)
        response = ledger_pb2.ListArtefactEntriesResponse(checkpoint=checkpoint_message(note))
        for index, raw in zip(indexes, encoded, strict=True):
            if Entry.decode(raw).artefact_id != request.artefact_id:
                continue  # an identifier sharing the truncated field
            response.entries.add(
                entry=entry_message(index, raw),
                inclusion_proof=await self._reader.inclusion_proof(index, size),
            )
        return response

    async def GetCheckpoint(
        self, request: ledger_pb2.GetCheckpointRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.Checkpoint:
        """The latest signed checkpoint."""
        current_caller()
        note, _ = await self._latest()
        return checkpoint_message(note)

    def _tree_size(self, requested: int, latest: int, field: str) -> int:
        size = requested or latest
        if size > latest:
            raise InvalidArgument(
                f"the log has {latest} entries; {field} {size} is beyond it",
                field_violations=[FieldViolation(field, f"must be at most {latest}")],
            )
        return size

    async def GetInclusionProof(
        self, request: ledger_pb2.GetInclusionProofRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.InclusionProof:
        """RFC 9162 inclusion proof of an entry, in the latest tree or an older one."""
        current_caller()
        note, latest = await self._latest()
        size = self._tree_size(request.tree_size, latest, "tree_size")
        if request.index >= size:
            raise InvalidArgument(
                f"entry {request.index} is not in a tree of {size} entries",
                field_violations=[FieldViolation("index", f"must be below {size}")],
            )
        proof = ledger_pb2.InclusionProof(
            index=request.index,
            tree_size=size,
            hashes=await self._reader.inclusion_proof(request.index, size),
        )
        if size == latest:
            proof.checkpoint.CopyFrom(checkpoint_message(note))
        return proof

    async def GetConsistencyProof(
        self, request: ledger_pb2.GetConsistencyProofRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.ConsistencyProof:
        """RFC 9162 consistency proof between two tree sizes."""
        current_caller()
        _, latest = await self._latest()
        second = self._tree_size(request.second_size, latest, "second_size")
        if request.first_size > second:
            raise InvalidArgument(
                "first_size must not exceed second_size",
                field_violations=[FieldViolation("first_size", f"must be at most {second}")],
            )
        return ledger_pb2.ConsistencyProof(
            first_size=request.first_size,
            second_size=second,
            hashes=await self._reader.consistency_proof(request.first_size, second),
        )

    async def GetReceipt(
        self, request: ledger_pb2.GetReceiptRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.Receipt:
        """An offline C2SP tlog-proof for an entry against the latest checkpoint."""
        current_caller()
        note, size = await self._published(at_least=request.index + 1)
        entry = await self._entry(request.index, size)
        proof = await self._reader.inclusion_proof(request.index, size)
        receipt = Receipt(request.index, tuple(proof), note, extra=entry.encoded)
        return ledger_pb2.Receipt(index=request.index, tlog_proof=receipt.to_text())

    async def VerifyReceipt(
        self, request: ledger_pb2.VerifyReceiptRequest, context: grpc.aio.ServicerContext
    ) -> ledger_pb2.VerifyReceiptResponse:
        """Every check of a receipt against this log (services/ledger/auditing.py)."""
        current_caller()
        log = self._log
        if request.verifier_key:
            try:
                log = Verifier.from_key_string(request.verifier_key)
            except NoteError as error:
                raise InvalidArgument(
                    f"not a verifier key: {error}",
                    field_violations=[FieldViolation("verifier_key", str(error))],
                ) from None
        audit = audit_receipt(
            request.tlog_proof,
            log=log,
            artefact_sha256=request.artefact_sha256 or None,
            witnesses=self._witnesses,
        )
        note = None
        if audit.checkpoint is not None:  # only a signed size is worth a proof
            note, size = await self._latest()
            proof = []
            if 0 < audit.checkpoint.size < size:
                proof = await self._reader.consistency_proof(audit.checkpoint.size, size)
            latest = Latest(Checkpoint.from_text(parse_note(note).text), proof)
            audit = with_consistency(audit, latest)
        return _audit_response(audit, note, log)

    async def GetCheckpointNote(
        self, request: ledger_pb2.GetCheckpointNoteRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        """The tlog-tiles checkpoint endpoint."""
        current_caller()
        note, _ = await self._published()
        context.set_trailing_metadata(((HTTP_CACHE_CONTROL, "no-cache"),))
        return httpbody_pb2.HttpBody(content_type="text/plain; charset=utf-8", data=note.encode())

    async def GetTile(
        self, request: ledger_pb2.GetTileRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        """The tlog-tiles tile endpoint: hash tiles and entry bundles."""
        current_caller()
        try:
            tile = tiles.parse_tile_path(f"tile/{request.path}")
        except ValueError as error:
            raise InvalidArgument(
                f"not a tile path: {error}", field_violations=[FieldViolation("path", str(error))]
            ) from None
        _, size = await self._latest()
        data = await self._reader.tile(tile, size)
        if data is None:
            raise NotFound(f"the log of {size} entries has no tile {tile.path}")
        context.set_trailing_metadata(((HTTP_CACHE_CONTROL, _IMMUTABLE),))
        return httpbody_pb2.HttpBody(content_type="application/octet-stream", data=data)

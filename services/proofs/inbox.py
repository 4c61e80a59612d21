"""A department's live inbox (StreamInbox): store inbox events as StreamInboxResponse messages.

Each store inbox entry names a request, one event of its history and a direction. A
batch of entries read at once becomes one response, oldest first, each event loaded from
the request's history; the request is the request *as it stands when the entry is read*,
which may already be later than the event (the event itself is exact). Entries of the
other direction are skipped, but the response cursor moves past them, so a resumed
stream never reads them again.

Cursors are the store's stream entry IDs. An empty cursor starts at the live end: the
first response, sent at once, carries no events and that position, so that the client
can list the backlog with ListProofRequests and then trust the stream for everything
after. A given cursor resumes strictly after it: no event lost, none repeated. When a
blocking read waits `block_ms` and finds nothing, an empty response with the current
cursor is sent: a heartbeat that keeps connections (and the gateway's Server-Sent
Events) open.

A cursor whose following events were trimmed away raises
:class:`~runtime.errors.InvalidArgument` on field ``cursor`` (reason ``CURSOR_EXPIRED``
in the field violation): gRPC's OUT_OF_RANGE would fit better, but runtime.errors has
no class for it, and the client's remedy is the same: list the backlog and stream anew
without a cursor. A malformed cursor is InvalidArgument on ``cursor`` too.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from genproto.certfree.proofs.v1 import proofs_pb2
from runtime.errors import FieldViolation, InvalidArgument
from services.proofs.store import BOTH, MAX_BLOCK_MS, CursorExpired, ProofStore

DEFAULT_BLOCK_MS = 15_000
"""How long one read waits for an event before a heartbeat is sent."""

DEFAULT_COUNT = 100
"""Most inbox entries one response carries."""


async def stream_inbox(
    store: ProofStore,
    department: str,
    direction: int,
    cursor: str,
    *,
    block_ms: int = DEFAULT_BLOCK_MS,
    count: int = DEFAULT_COUNT,
) -> AsyncGenerator[proofs_pb2.StreamInboxResponse, None]:
    """Stream a department's inbox events after `cursor` ("" for the live end), forever.

    `direction` is INCOMING, OUTGOING or ``REQUEST_DIRECTION_UNSPECIFIED`` for both.
    Authorisation is the caller's: this streams whatever department it is given. The
    iteration ends only when the consumer stops it (the call is cancelled).
    """
    if not 1 <= block_ms <= MAX_BLOCK_MS:
        raise ValueError(f"block_ms must be between 1 and {MAX_BLOCK_MS}")
    if count < 1:
        raise ValueError("count must be positive")
    if cursor == "":
        cursor = await store.inbox_position(department)
        yield proofs_pb2.StreamInboxResponse(cursor=cursor)
    while True:
        try:
            entries = await store.read_inbox(department, cursor, count=count, block_ms=block_ms)
        except CursorExpired:
            raise _invalid_cursor(
                "inbox events after the cursor were trimmed away: list the backlog and "
                "stream again without a cursor",
                "CURSOR_EXPIRED",
            ) from None
        except ValueError:
            raise _invalid_cursor(
                "the cursor is not one this stream gave out", "INVALID_CURSOR"
            ) from None
        response = proofs_pb2.StreamInboxResponse()
        for entry_cursor, request_id, sequence, entry_direction in entries:
            cursor = entry_cursor
            if direction != BOTH and entry_direction != direction:
                continue
            event = await _inbox_event(store, entry_cursor, request_id, sequence, entry_direction)
            if event is not None:
                response.events.append(event)
        # An empty response is a heartbeat (nothing came) or a batch wholly of the other
        # direction; either way its cursor lets a client resume past what was read.
        response.cursor = cursor
        yield response


async def _inbox_event(
    store: ProofStore, cursor: str, request_id: str, sequence: int, direction: int
) -> proofs_pb2.InboxEvent | None:
    events = await store.events(request_id, sequence - 1, 1)
    found = await store.get(request_id)
    if not events or found is None:  # written in one script with the entry, so never
        return None
    return proofs_pb2.InboxEvent(
        cursor=cursor,
        direction=direction,  # type: ignore[arg-type]
        event=events[0],
        request=found[0],
    )


def _invalid_cursor(message: str, reason: str) -> InvalidArgument:
    return InvalidArgument(message, field_violations=[FieldViolation("cursor", message, reason)])

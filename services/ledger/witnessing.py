"""Asking witnesses to cosign the log's checkpoints (C2SP tlog-witness), k of n.

While this replica sequences, a background task takes the latest checkpoint every
interval and, if it is newer than the last one witnessed, asks every witness to cosign
it (with a consistency proof from the size each witness last saw). Once the quorum
cosigned, the cosigned note is stored and becomes what ``/tlog/checkpoint`` serves.
Appends never wait for witnesses: a slow witness delays publication, not receipts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from runtime.config import ConfigError, Settings
from runtime.logs import get_logger
from runtime.tlog.checkpoint import Checkpoint, CosignatureVerifier
from runtime.tlog.cosign import QuorumNotMet, WitnessEndpoint, collect_cosignatures
from runtime.tlog.note import NoteError, parse_note
from services.ledger.reader import LogReader
from services.ledger.store import LedgerStore

_log = get_logger("ledger.witnessing")


def parse_witnesses(settings: Settings) -> list[WitnessEndpoint]:
    """The witnesses of CERTFREE_LEDGER_WITNESSES (`<vkey>@<url>` each)."""
    endpoints = []
    for item in settings.ledger_witnesses.split():
        vkey, at, url = item.partition("@")
        if not at or not url.startswith(("http://", "https://")):
            raise ConfigError(f"CERTFREE_LEDGER_WITNESSES: {item!r} is not <vkey>@<http(s) URL>")
        try:
            verifier = CosignatureVerifier.from_key_string(vkey)
        except NoteError as error:
            raise ConfigError(f"CERTFREE_LEDGER_WITNESSES: {error}") from None
        endpoints.append(WitnessEndpoint(verifier.name, url.rstrip("/"), verifier))
    return endpoints


class Witnessing:
    """The background task that gets checkpoints cosigned."""

    def __init__(
        self,
        store: LedgerStore,
        reader: LogReader,
        witnesses: list[WitnessEndpoint],
        quorum: int,
        leading: Callable[[], bool],
        *,
        interval: float = 1.0,
        timeout: float = 5.0,
    ) -> None:
        self._store = store
        self._reader = reader
        self._witnesses = witnesses
        self._quorum = quorum
        self._leading = leading
        self._interval = interval
        self._timeout = timeout
        self._known_sizes: dict[str, int] = {}
        self._last = -1
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start witnessing in the background."""
        self._task = asyncio.create_task(self._loop(), name="witnessing")

    async def stop(self) -> None:
        """Stop witnessing."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _proof(self, old: int, new: int) -> list[bytes]:
        return [] if old in (0, new) else await self._reader.consistency_proof(old, new)

    async def witness_once(self) -> bool:
        """Get the latest checkpoint cosigned if it is new; True when one was published."""
        note = await self._store.checkpoint()
        if note is None:
            return False
        size = Checkpoint.from_text(parse_note(note).text).size
        if size <= self._last:
            return False
        cosigned = await collect_cosignatures(
            note,
            self._witnesses,
            self._quorum,
            self._proof,
            self._timeout,
            known_sizes=self._known_sizes,
        )
        await self._store.save_witnessed(size, cosigned)
        self._last = size
        return True

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if not self._leading():
                continue
            try:
                await self.witness_once()
            except QuorumNotMet as error:
                _log.warning("checkpoint not witnessed", reason=str(error))
            except Exception as error:
                _log.warning("witnessing failed", error=type(error).__name__)

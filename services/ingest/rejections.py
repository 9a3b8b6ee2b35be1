"""The parser's rejections of files this ingest published: moved to `rejected/` with the reason (MOVE_REJECTED).

The parser never sees the inbox; it dead-letters a document it cannot parse (an image, a PDF without text)
with the document id. Ingest remembers where it found each file it published in this run, follows the
dead-letter stream, and moves the file (from the inbox, or from `processed/` if it was moved there) to
`rejected/` with `<name>.reason.txt`, as it does with its own rejections.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from pathlib import Path

from pydantic import ValidationError
from redis.asyncio import Redis

from services.ingest import files
from services.ingest.intake import move_into
from shared import streams
from shared.consume import OutageGate
from shared.contracts.events import DeadLettered
from shared.logging import get_logger
from shared.stream_worker import Entry, StreamReader

log = get_logger(__name__)

# Files remembered per run; the oldest are forgotten first (their verdict came long ago).
REMEMBER = 50_000
# Below redis-py's 5 s socket timeout, so an idle stream never times the read out.
BLOCK_MS = 1000


class ParserRejections:
    """Follows `minutes:dead-letter` and moves the files of parser-rejected documents to `inbox/rejected/`."""

    def __init__(self, client: Redis, inbox: Path) -> None:
        self.client = client
        self.inbox = inbox
        self._where: OrderedDict[str, Path] = OrderedDict()
        # Verdicts that arrived before ingest had recorded the file (the parser can be that fast).
        self._early: OrderedDict[str, str] = OrderedDict()
        self._reader = StreamReader(client, streams.DEAD_LETTER, batch=100, block_ms=BLOCK_MS,
                                    gate=OutageGate("ingest-rejections"))
        self._task: asyncio.Task[None] | None = None

    def published(self, document_id: str, path: Path) -> None:
        """Ingest published this file (now at `path`); a verdict that already came moves it at once."""
        reason = self._early.pop(document_id, None)
        if reason is not None:
            self._move(path, reason)
            return
        self._where[document_id] = path
        while len(self._where) > REMEMBER:
            self._where.popitem(last=False)

    async def start(self) -> None:
        """Start following from the stream's current end (before this ingest publishes anything)."""
        await self._reader.position()
        self._task = asyncio.create_task(self._run(), name="ingest-parser-rejections")

    async def stop(self) -> None:
        """Stop following."""
        self._reader.stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _run(self) -> None:
        # Redis outages are waited out by the reader (one log line when it goes, one when it is back).
        async for entries in self._reader.follow():
            for entry in entries:
                self._handle(entry)

    def _handle(self, entry: Entry) -> None:
        if not entry.known:
            return
        try:
            event = DeadLettered.model_validate_json(entry.payload)
        except ValidationError:
            return
        if event.service != "parser" or not event.document_id:
            return
        path = self._where.pop(event.document_id, None)
        if path is None:
            self._early[event.document_id] = event.error
            while len(self._early) > REMEMBER:
                self._early.popitem(last=False)
            return
        self._move(path, event.error)

    def _move(self, path: Path, reason: str) -> None:
        try:
            target = move_into(path, self.inbox / files.REJECTED_DIR, f"rejected by the parser: {reason}")
        except OSError as exc:
            log.warning("could not move rejected file", path=files.display_name(str(path)), error=str(exc))
            return
        if target is not None:
            log.info("moved file the parser rejected", file=files.display_name(path.name), reason=reason)

"""Ingest handler: store complete files' bytes, publish one DocumentReceived per new sha256, reject the rest."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

import structlog

from services.ingest import files
from services.ingest.intake import Rejected, Stored, inspect_and_store, move_into, version_marker
from services.ingest.writers import open_for_writing
from shared.blobs import BlobStore, HashFactory
from shared.contracts.events import DeadLettered, DocumentReceived
from shared.filenames import readable_name
from shared.logging import get_logger
from shared.settings import Settings

if TYPE_CHECKING:
    from faststream.redis import RedisBroker
    from redis.asyncio import Redis

    from services.ingest.rejections import ParserRejections
    from services.ingest.sources.runner import SourcesLoop
    from services.ingest.watcher import InboxWatcher
    from shared.health import Heartbeat

log = get_logger(__name__)

SERVICE = "ingest"
# The `stream` of an ingest DeadLettered: the file never became a message, it came from the inbox.
INBOX_SOURCE = "inbox"

Status = Literal["new", "known", "rejected", "gone"]


class SeenStore(Protocol):
    """Remembers which document ids were published (and which rejections were reported)."""

    async def known(self, document_ids: Sequence[str]) -> list[bool]:
        """For each id, whether it was published before."""
        ...

    async def mark(self, names_by_id: dict[str, str]) -> None:
        """Record ids as published (first name wins)."""
        ...

    async def reported(self, keys_and_markers: dict[str, str]) -> set[str]:
        """The keys whose rejection was already reported with this marker."""
        ...

    async def mark_reported(self, keys_and_markers: dict[str, str]) -> None:
        """Record rejections as reported."""
        ...


class Outbox(Protocol):
    """Where events go: DocumentReceived to the documents stream, DeadLettered to the dead-letter stream."""

    async def emit(self, events: Sequence[DocumentReceived]) -> None:
        """Publish the events, pipelined when possible."""
        ...

    async def dead_letter(self, event: DeadLettered) -> None:
        """Publish one DeadLettered event."""
        ...


@dataclass
class IngestDeps:
    """What the handler needs; `bootstrap` builds the real ones, tests pass fakes or a TestRedisBroker."""

    blobs: BlobStore
    seen: SeenStore
    outbox: Outbox
    max_file_mb: float = 50.0
    # Files are moved only inside this folder (the watched inbox) and only when asked; backfill passes None.
    inbox: Path | None = None
    move_processed: bool = False
    move_rejected: bool = False
    concurrency: int = 8
    # Serialises `publish_unseen` ("check seen, publish, mark seen") across concurrent batches.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Told where each published file now is, so the parser's rejections can be moved (MOVE_REJECTED).
    on_published: Callable[[str, Path], None] | None = None
    # Makes the sha256 of each file (hashed once, while read); a test passes one that counts.
    hash_factory: HashFactory = hashlib.sha256
    # The service's own (services/ingest/bootstrap.py): its settings, the Redis client and broker the seen
    # set and the outbox use, and what `start` starts (its tasks by what they are, for the health check).
    settings: Settings | None = None
    redis: Redis | None = None
    broker: RedisBroker | None = None
    owns_redis: bool = False
    watcher: InboxWatcher | None = None
    tasks: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    bucket_stop: asyncio.Event = field(default_factory=asyncio.Event)
    rejections: ParserRejections | None = None
    sources: SourcesLoop | None = None
    heartbeat: Heartbeat | None = None

    @classmethod
    def from_settings(cls, settings: Settings, blobs: BlobStore, seen: SeenStore, outbox: Outbox) -> IngestDeps:
        """Deps for the inbox watcher, configured by the settings."""
        return cls(
            blobs=blobs,
            seen=seen,
            outbox=outbox,
            max_file_mb=settings.max_file_mb,
            inbox=settings.inbox.resolve(),
            move_processed=settings.move_processed,
            move_rejected=settings.move_rejected,
        )


@dataclass(frozen=True)
class IngestResult:
    """What happened to one file: a new document, already known bytes, rejected (with a reason), or gone."""

    path: Path
    status: Status
    document_id: str | None = None
    reason: str | None = None
    marker: str | None = None  # the version read, for "new" and "known"


async def ingest_file(path: Path, deps: IngestDeps) -> IngestResult:
    """Ingest one complete file."""
    return (await ingest_many([path], deps))[0]


async def ingest_many(paths: Sequence[Path], deps: IngestDeps) -> list[IngestResult]:
    """Ingest complete files: read and store them concurrently, then publish the new ones in one pipeline."""
    limit = asyncio.Semaphore(deps.concurrency)

    async def inspect(path: Path) -> Stored | Rejected | None:
        async with limit:
            return await asyncio.to_thread(inspect_and_store, path, deps.blobs, deps.max_file_mb, deps.hash_factory)

    inspected = await asyncio.gather(*(inspect(path) for path in paths))
    results: dict[Path, IngestResult] = {}
    stored = [item for item in inspected if isinstance(item, Stored)]
    rejected = [item for item in inspected if isinstance(item, Rejected)]
    for path, item in zip(paths, inspected, strict=True):
        if item is None:
            results[path] = IngestResult(path, "gone")
    results.update(await _publish_new(stored, deps))
    results.update(await _report_rejections(rejected, deps))
    await _move_done(list(results.values()), deps)
    return [results[path] for path in paths]


async def publish_unseen(events: Sequence[DocumentReceived], deps: IngestDeps) -> list[bool]:
    """Publish the events of documents not seen before, then mark them seen; for each event, whether it went out.

    Publish first, then mark seen: a crash in between republishes (harmless), never loses a document. The
    first of several events with the same bytes wins. Serialised, so two batches never publish the same bytes.
    """
    async with deps.lock:
        known = await deps.seen.known([event.document_id for event in events])
        fresh: dict[str, DocumentReceived] = {}
        went_out: list[bool] = []
        for event, was_known in zip(events, known, strict=True):
            new = not was_known and event.document_id not in fresh
            if new:
                fresh[event.document_id] = event
            went_out.append(new)
        if fresh:
            await deps.outbox.emit(list(fresh.values()))
            await deps.seen.mark({event.document_id: event.original_name for event in fresh.values()})
    return went_out


async def _publish_new(stored: list[Stored], deps: IngestDeps) -> dict[Path, IngestResult]:
    """Publish the stored files whose bytes are new; the others are already known."""
    if not stored:
        return {}
    events = [_document_event(item) for item in stored]
    results: dict[Path, IngestResult] = {}
    for item, event, new in zip(stored, events, await publish_unseen(events, deps), strict=True):
        if not new:
            results[item.path] = IngestResult(item.path, "known", item.document_id, marker=item.marker)
            log.debug("already known", document_id=item.document_id, file=event.original_name)
            continue
        results[item.path] = IngestResult(item.path, "new", item.document_id, marker=item.marker)
        log.info(
            "document received",
            document_id=event.document_id,
            file=event.original_name,
            size=event.size,
            content_type=event.content_type,
        )
    return results


def _document_event(item: Stored) -> DocumentReceived:
    return DocumentReceived(
        document_id=item.document_id,
        original_name=readable_name(item.path.name),
        size=item.size,
        content_type=item.content_type,
        blob_ref=item.blob_ref,
        source=files.display_name(str(item.path)),
        received_at=item.received_at,
    )


async def _report_rejections(rejected: list[Rejected], deps: IngestDeps) -> dict[Path, IngestResult]:
    """Dead-letter each rejected file once per version of it (a rescan finds the same file again)."""
    results = {item.path: IngestResult(item.path, "rejected", reason=item.reason) for item in rejected}
    if not rejected:
        return results
    markers = {files.display_name(str(item.path)): item.marker for item in rejected}
    already = await deps.seen.reported(markers)
    for item in rejected:
        key = files.display_name(str(item.path))
        with structlog.contextvars.bound_contextvars(file=files.display_name(item.path.name)):
            log.warning("file rejected", reason=item.reason, path=key, size=item.size)
        if key in already:
            continue
        await deps.outbox.dead_letter(_dead_letter_event(item))
    await deps.seen.mark_reported({key: marker for key, marker in markers.items() if key not in already})
    return results


def _dead_letter_event(item: Rejected) -> DeadLettered:
    name = readable_name(item.path.name)
    payload = {"path": files.display_name(str(item.path)), "name": name, "size": item.size}
    return DeadLettered(
        service=SERVICE,
        stream=INBOX_SOURCE,
        original_name=name,
        error=item.reason,
        error_type=item.error_type,
        retryable=False,
        attempts=1,
        payload=json.dumps(payload, ensure_ascii=False),
    )


async def _move_done(results: list[IngestResult], deps: IngestDeps) -> None:
    """Move processed / rejected files out of the inbox, only when the settings ask for it."""
    if deps.inbox is None or not (deps.move_processed or deps.move_rejected):
        return
    for result in results:
        if not _inside(result.path, deps.inbox):
            continue
        try:
            now_at: Path | None = result.path
            if result.status in ("new", "known") and deps.move_processed:
                if await asyncio.to_thread(_unchanged_and_closed, result):
                    now_at = await asyncio.to_thread(move_into, result.path, deps.inbox / files.PROCESSED_DIR)
                else:
                    # Changed or reopened since it was read: it may still be written. Left in place; when
                    # complete again it is a new version and is moved then.
                    log.info("not moved: the file changed since it was read",
                             path=files.display_name(str(result.path)))
            if result.status == "new" and deps.on_published and result.document_id and now_at is not None:
                deps.on_published(result.document_id, now_at)
            if result.status in ("new", "known"):
                continue
            if result.status == "rejected" and deps.move_rejected:
                await asyncio.to_thread(
                    move_into, result.path, deps.inbox / files.REJECTED_DIR, result.reason or "rejected"
                )
        except OSError as exc:
            # The document is already published or reported; a failed move only leaves the file in place.
            log.warning("could not move file", path=files.display_name(str(result.path)), error=str(exc))


def _unchanged_and_closed(result: IngestResult) -> bool:
    """Whether the file is still the version that was read and no visible process has it open for writing."""
    if result.marker is None or version_marker(result.path) != result.marker:
        return False
    return not open_for_writing([result.path])


def _inside(path: Path, folder: Path) -> bool:
    return path.parent == folder or folder in path.parents

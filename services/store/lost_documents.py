"""Accepted documents Redis lost: blobs no stored document covers and nothing in flight names, re-published.

Ingest stores a file's bytes, then publishes its `DocumentReceived`, then marks it seen. When Redis loses
that entry (a truncated AOF, Compose's `appendfsync everysec` in an OS crash, an XTRIM by hand), nobody
parses the document, and a rescan of the inbox does not help when the seen mark survived or the file was
moved to `processed/`. The blob store still has the bytes (and, since records exist, the name and time):
this pass publishes a `DocumentReceived` again for each such blob, with the same document_id.

A document is somewhere on its way at every moment, and each step writes the next place before it leaves
the previous one: the parser XADDs its items before it acks the document, the store commits before it acks
the items, only acknowledged entries are trimmed, and a dead letter is written before the ack. So the
places are read in pipeline order (documents stream, items stream, database, dead-letter stream): a
document that moves on while they are read is found at a later place, never missed.

Duplicates are harmless, which is what makes the remaining races safe: a blob younger than the grace window
(`MINUTES_LOST_DOCUMENTS_GRACE_S`) is never considered, so one whose DocumentReceived is about to be
published is left alone; and should ingest still publish the same bytes too (a re-drop), the parser has no
de-duplication but the store does: every row is an upsert keyed by document_id (items by
`{document_id}:{position}`), and outbox rows are inserted ON CONFLICT DO NOTHING with deterministic
event ids, so a second parse of the same document stores nothing new and announces nothing again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Sequence

import orjson
from redis.asyncio import Redis
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.models import documents
from shared import streams
from shared.blobs import BlobCatalog, BlobListing
from shared.broker import make_broker
from shared.contracts.events import DeadLettered, DocumentReceived
from shared.logging import get_logger
from shared.stream_worker import Entry, page

log = get_logger(__name__)

Publish = Callable[[Sequence[DocumentReceived]], Awaitable[None]]
# Content type when a blob has no record: the parser tells formats apart by their bytes anyway.
UNKNOWN_TYPE = "application/octet-stream"
_PAGE = 1000
_CHUNK = 500


class NotMigrated(RuntimeError):
    """The database has no documents table yet: whether a blob was stored cannot be told."""


async def _stream_ids(client: Redis, stream: str, of: Callable[[Entry], str | None]) -> set[str]:
    """The document ids named by every entry of a stream (pending or not: a pending entry is still in it)."""
    found: set[str] = set()
    async for entry in page(client, stream, count=_PAGE):
        document_id = of(entry)
        if document_id:
            found.add(document_id)
    return found


def _pipeline_id(entry: Entry) -> str | None:
    """document_id of a documents- or items-stream entry (FastStream's envelope, or any client's JSON)."""
    if not entry.known:
        return None
    try:
        value = orjson.loads(entry.payload).get("document_id")
    except Exception:  # a foreign or torn entry names no document; it must not stop the check
        return None
    return value if isinstance(value, str) else None


def _dead_letter_id(entry: Entry) -> str | None:
    """document_id of a dead letter: its own field, else the original message's (kept verbatim)."""
    if not entry.known:
        return None
    try:
        event = DeadLettered.model_validate_json(entry.payload)
    except ValueError:
        return None
    if event.document_id:
        return event.document_id
    try:
        value = orjson.loads(event.payload).get("document_id")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return value if isinstance(value, str) else None


async def _stored(engine: AsyncEngine, ids: Sequence[str]) -> set[str]:
    """Which of the ids have a row in documents (a stored document, complete or still filling)."""
    found: set[str] = set()
    async with engine.connect() as conn:
        if not await conn.run_sync(lambda sync: sa_inspect(sync).has_table("documents")):
            raise NotMigrated("the database has no documents table yet (`minutes migrate`)")
        for start in range(0, len(ids), _CHUNK):
            rows = await conn.execute(
                select(documents.c.document_id).where(documents.c.document_id.in_(ids[start : start + _CHUNK]))
            )
            found.update(row[0] for row in rows)
    return found


def _event(catalog: BlobCatalog, blob: BlobListing) -> DocumentReceived:
    """The DocumentReceived ingest published for the blob, as far as its record remembers it."""
    record = catalog.get_record(blob.document_id)
    if record is None or record.document_id != blob.document_id:
        # Stored before records existed (or the record is unreadable): named by its id, timed by the blob.
        return DocumentReceived(
            document_id=blob.document_id,
            original_name=blob.document_id,
            size=blob.size,
            content_type=UNKNOWN_TYPE,
            blob_ref=blob.ref,
            received_at=blob.modified,
        )
    return DocumentReceived(
        document_id=blob.document_id,
        original_name=record.original_name,
        size=record.size,
        content_type=record.content_type,
        blob_ref=blob.ref,
        source=record.source,
        received_at=record.received_at,
    )


async def recover_lost_documents(
    engine: AsyncEngine,
    client: Redis,
    catalog: BlobCatalog,
    publish: Publish,
    *,
    grace_s: float,
    now: dt.datetime | None = None,
) -> int:
    """Re-publish a DocumentReceived for every blob older than `grace_s` that nothing covers; how many.

    Raises NotMigrated when the database has no documents table (the store's start migrates, then runs this).
    """
    cutoff = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(seconds=grace_s)
    blobs = [blob for blob in await asyncio.to_thread(lambda: list(catalog.list_blobs())) if blob.modified < cutoff]
    if not blobs:
        return 0
    if not await client.set(streams.RECOVER_LOCK, "1", nx=True, ex=300):
        return 0  # another worker is at it (two store workers start together)
    try:
        # Pipeline order, see the module docstring.
        covered = await _stream_ids(client, streams.DOCUMENTS, _pipeline_id)
        covered |= await _stream_ids(client, streams.ITEMS, _pipeline_id)
        covered |= await _stored(engine, [blob.document_id for blob in blobs if blob.document_id not in covered])
        covered |= await _stream_ids(client, streams.DEAD_LETTER, _dead_letter_id)
        lost = [blob for blob in blobs if blob.document_id not in covered]
        if not lost:
            return 0
        events = await asyncio.to_thread(lambda: [_event(catalog, blob) for blob in lost])
        await publish(events)
        log.warning("re-published documents accepted but never parsed", count=len(events))
        return len(events)
    finally:
        await client.delete(streams.RECOVER_LOCK)


def broker_publish(redis_url: str) -> Publish:
    """Publish through FastStream, like ingest, so the parser reads them exactly like the originals."""

    async def publish(events: Sequence[DocumentReceived]) -> None:
        broker = make_broker(redis_url, "check")
        await broker.connect()
        try:
            for event in events:
                await broker.publish(event, stream=streams.DOCUMENTS)
        finally:
            await broker.stop()

    return publish

"""Message handling of the store: validate, upsert in one transaction, dead-letter what can never succeed.

Ack rules (the stream worker, shared/stream_worker.py, acks a batch when `handle_entries` returns): a
message is acknowledged only after its transaction committed, or once it is dead-lettered. Invalid
messages are dead-lettered at once; a database (or Redis) outage is waited out in place with capped
backoff, however long it lasts: never counted as a delivery, logged once when it starts and once when it
ends, the entries kept alive so no reclaim takes them meanwhile, and nothing new read (memory stays flat);
an entry that fails otherwise is stored alone under the shared consume rule (`shared.consume`): retried in
place, dead-lettered at its `max_deliveries`-th attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson
import structlog
from pydantic import TypeAdapter, ValidationError

from services.store.db import is_db_unavailable
from services.store.repository import ItemsEvent, StoreResult, store_events
from shared import streams
from shared.consume import ConsumeStep, redis_outage
from shared.contracts.events import DeadLettered, ItemsStreamEvent, utcnow
from shared.dead_letter import InvalidMessage, dead_letter, describe_failure
from shared.logging import get_logger
from shared.stream_worker import Entry, decode_fields

if TYPE_CHECKING:
    from services.store.bootstrap import StoreDeps

log = get_logger(__name__)

SERVICE = "store"
_EVENTS: TypeAdapter[ItemsEvent] = TypeAdapter(ItemsStreamEvent)
_DATA_KEYS = (b"__data__", "__data__")
_JSON_KEYS = (streams.PUBLIC_FIELD.encode(), streams.PUBLIC_FIELD)


@dataclass
class HandleResult:
    """What became of the entries of one delivery."""

    stored: list[Entry] = field(default_factory=list)
    dead_lettered: list[Entry] = field(default_factory=list)
    pending: list[Entry] = field(default_factory=list)


# The one decoder of stream entries (FastStream's envelope or the plain-JSON field), kept under its old name.
payload_of = decode_fields


def parse_event(payload: bytes) -> ItemsEvent:
    """Validate one items-stream body; InvalidMessage when it is malformed or of an unknown version."""
    try:
        return _EVENTS.validate_json(payload)
    except ValidationError as exc:
        raise InvalidMessage(str(exc)[:2000]) from exc


async def delivery_count(deps: StoreDeps, entry: Entry) -> int:
    """How often the entry was delivered (counted by the stream worker when it read or reclaimed it)."""
    return entry.deliveries


async def send_to_dead_letter(
    deps: StoreDeps, entry: Entry, error: BaseException, *, attempts: int, retryable: bool
) -> None:
    """Publish a DeadLettered event with the payload verbatim (the stream worker acks it with its batch)."""
    try:
        doc = orjson.loads(entry.payload)
    except orjson.JSONDecodeError:
        doc = None
    doc = doc if isinstance(doc, dict) else {}
    event = describe_failure(
        service=SERVICE,
        stream=streams.ITEMS,
        message_id=entry.message_id or "",
        payload=entry.payload.decode(errors="replace"),
        error=error,
        attempts=attempts,
        retryable=retryable,
        document_id=doc.get("document_id") if isinstance(doc.get("document_id"), str) else None,
        original_name=doc.get("original_name") if isinstance(doc.get("original_name"), str) else None,
    )
    await dead_letter(deps.redis, event)
    log.warning("dead-lettered", message_id=entry.message_id, error_type=event.error_type, attempts=attempts)


async def store_once(deps: StoreDeps, events: Sequence[ItemsEvent]) -> StoreResult:
    """One transaction for `events` (an outage raises; the caller's gate waits it out)."""
    now, base = utcnow(), deps.settings.public_base_url
    writer = deps.sqlite_writer()
    if writer is not None:  # SQLite: the transaction in one thread hop (services/store/sqlite_writer.py)
        return await writer.run(lambda conn: store_events(conn, events, now=now, public_base_url=base))
    async with deps.engine.begin() as conn:
        return await store_events(conn, events, now=now, public_base_url=base)


async def store_through_outages(deps: StoreDeps, events: Sequence[ItemsEvent]) -> StoreResult:
    """`store_once`, repeated while the database or Redis is unavailable (waits on the process's gate)."""
    return await deps.gate.through(lambda: store_once(deps, events), lambda e: is_db_unavailable(e) or redis_outage(e))


@asynccontextmanager
async def kept_alive(deps: StoreDeps, entries: Sequence[Entry]) -> AsyncIterator[None]:
    """While the block runs, reset the entries' idle time now and then (see StoreDeps.keepalive)."""
    ids = [e.message_id for e in entries if e.message_id is not None]
    if deps.keepalive is None or not ids:
        yield
        return
    keepalive = deps.keepalive

    async def touch() -> None:
        while True:
            await asyncio.sleep(deps.keepalive_s)
            try:
                await keepalive(ids)
            except Exception as exc:  # Redis down too: the gate reports it; the entries stay pending
                log.debug("keepalive failed", error=repr(exc)[:200])

    task = asyncio.create_task(touch())
    try:
        yield
    finally:
        task.cancel()


async def _store_or_fail(deps: StoreDeps, entry: Entry, event: ItemsEvent, out: HandleResult) -> None:
    """Store one event alone; on a non-database error dead-letter it at its last delivery, else keep it."""
    item = getattr(event, "position", None)
    with structlog.contextvars.bound_contextvars(document_id=event.document_id, item=item):
        await _store_one(deps, entry, event, out)


def _step(deps: StoreDeps) -> ConsumeStep:
    """The shared consume rule for one items entry (a database outage is an outage, never counted)."""

    async def to_dead_letter(event: DeadLettered) -> None:
        await dead_letter(deps.redis, event)

    return ConsumeStep(
        service=SERVICE,
        stream=streams.ITEMS,
        max_deliveries=deps.settings.max_deliveries,
        dead_letter=to_dead_letter,
        outage=is_db_unavailable,
        gate=deps.gate,
        describe=lambda event: {"document_id": event.document_id, "original_name": event.original_name},
    )


async def _store_one(deps: StoreDeps, entry: Entry, event: ItemsEvent, out: HandleResult) -> None:
    """One event alone, under the shared rule: retried in place, dead-lettered at its last delivery."""
    attempts = await delivery_count(deps, entry)

    async def store(ev: ItemsEvent) -> None:
        await store_once(deps, [ev])

    done = await _step(deps).run(
        message_id=entry.message_id or "", deliveries=attempts, payload=entry.payload.decode(errors="replace"),
        decode=lambda: event, handle=store,
    )
    if done.dead_lettered is not None:
        out.dead_lettered.append(entry)
    else:
        out.stored.append(entry)


# At most this many bytes of payload are validated and stored per transaction (an entry larger than this is
# stored alone): the events of a 49 MB document, validated and serialised for the database at once, held
# three copies of it (~360 MB in the store). Small documents are unaffected: a delivery of 100 typical entries
# is well under it.
CHUNK_BYTES = 4 << 20


def chunks_by_size(entries: Sequence[Entry], limit: int = CHUNK_BYTES) -> list[list[Entry]]:
    """`entries` in order, in runs of at most `limit` payload bytes (at least one entry per run)."""
    runs: list[list[Entry]] = []
    size = limit
    for entry in entries:
        if size + len(entry.payload) > limit and (not runs or runs[-1]):
            runs.append([])
            size = 0
        runs[-1].append(entry)
        size += len(entry.payload)
    return runs


async def handle_entries(deps: StoreDeps, entries: Sequence[Entry]) -> HandleResult:
    """Store a delivery of entries; raises (leaving entries pending) unless every entry was settled.

    In transactions of at most CHUNK_BYTES of payload, in order, each validated just before it is stored:
    the store's memory follows the chunk, not the delivery (every write is an idempotent upsert, so a crash
    between two chunks only redelivers what the first one stored)."""
    out = HandleResult()
    runs = chunks_by_size(entries)
    if len(runs) == 1:
        return await _handle_run(deps, runs[0], out)
    async with kept_alive(deps, entries):  # the later runs wait while the first are stored
        for run in runs:
            await _handle_run(deps, run, out)
    return out


async def _handle_run(deps: StoreDeps, entries: Sequence[Entry], out: HandleResult) -> HandleResult:
    valid: list[tuple[Entry, ItemsEvent]] = []
    for entry in entries:
        try:
            valid.append((entry, parse_event(entry.payload)))
        except InvalidMessage as exc:
            await send_to_dead_letter(deps, entry, exc, attempts=await delivery_count(deps, entry), retryable=False)
            out.dead_lettered.append(entry)
    if not valid:
        return out
    documents = sorted({event.document_id for _, event in valid})
    # A batch usually holds one or two documents: name them on every line logged while storing it.
    with structlog.contextvars.bound_contextvars(document_id=",".join(documents[:5]), documents=len(documents)):
        return await _store_batch(deps, valid, out)


async def _store_batch(deps: StoreDeps, valid: list[tuple[Entry, ItemsEvent]], out: HandleResult) -> HandleResult:
    try:
        async with kept_alive(deps, [e for e, _ in valid]):
            try:
                result = await store_through_outages(deps, [ev for _, ev in valid])
                out.stored.extend(e for e, _ in valid)
                log.info("stored", items=result.items, decisions=result.decisions, completed=len(result.completed))
            except Exception as exc:
                # One bad event must not hold back the batch: store each alone to find it.
                log.warning("batch failed, storing one by one", size=len(valid), error=repr(exc)[:300])
                for entry, event in valid:
                    await _store_or_fail(deps, entry, event, out)
    finally:
        if out.stored:
            deps.relay.wake()
            deps.indexer.wake()
    return out

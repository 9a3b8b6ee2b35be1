"""Message handling of the store: validate, upsert in one transaction, dead-letter what can never succeed.

Ack rules: a message is acknowledged only after its transaction committed. Invalid messages are
dead-lettered and acknowledged at once; a database (or Redis) outage is waited out in place with capped
backoff, however long it lasts: never counted as a delivery, logged once when it starts and once when it
ends, the entries kept alive so no reclaim takes them meanwhile, and nothing new read (memory stays flat);
an entry that fails otherwise is stored alone under the shared consume rule (`shared.consume`): retried in
place, dead-lettered at its `max_deliveries`-th attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
from faststream.redis.parser import BinaryMessageFormatV1
from pydantic import TypeAdapter, ValidationError

from services.store.bootstrap import StoreDeps
from services.store.db import is_db_unavailable
from services.store.repository import ItemsEvent, StoreResult, store_events
from shared import streams
from shared.consume import ConsumeStep, redis_outage
from shared.contracts.events import DeadLettered, ItemsStreamEvent, utcnow
from shared.dead_letter import InvalidMessage, dead_letter, describe_failure
from shared.dead_letter import delivery_count as pending_deliveries
from shared.logging import get_logger

log = get_logger(__name__)

SERVICE = "store"
_EVENTS: TypeAdapter[ItemsEvent] = TypeAdapter(ItemsStreamEvent)
_DATA_KEYS = (b"__data__", "__data__")
_JSON_KEYS = (streams.PUBLIC_FIELD.encode(), streams.PUBLIC_FIELD)


@dataclass(frozen=True)
class Entry:
    """One stream entry: its id (None under TestRedisBroker) and its body (JSON bytes)."""

    message_id: str | None
    payload: bytes


@dataclass
class HandleResult:
    """What became of the entries of one delivery."""

    stored: list[Entry] = field(default_factory=list)
    dead_lettered: list[Entry] = field(default_factory=list)
    pending: list[Entry] = field(default_factory=list)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def payload_of(fields: Mapping[Any, Any]) -> bytes:
    """The body of a stream entry: FastStream's binary envelope, else a plain-JSON `json` field."""
    for key in _DATA_KEYS:
        if key in fields:
            raw = fields[key]
            body, _headers = BinaryMessageFormatV1.parse(raw if isinstance(raw, bytes) else raw.encode())
            return body
    for key in _JSON_KEYS:
        if key in fields:
            raw = fields[key]
            return raw if isinstance(raw, bytes) else str(raw).encode()
    # Not ours: keep everything so the dead letter shows what arrived.
    return orjson.dumps({_text(k): _text(v) for k, v in fields.items()})


def entries_of(raw_message: Mapping[str, Any]) -> list[Entry]:
    """The entries of a FastStream stream message, batch (`bstream`) or single."""
    data = raw_message["data"]
    rows = data if isinstance(data, list) else [data]
    ids = [_text(i) for i in raw_message.get("message_ids") or []]
    return [Entry(ids[n] if n < len(ids) else None, payload_of(row)) for n, row in enumerate(rows)]


def parse_event(payload: bytes) -> ItemsEvent:
    """Validate one items-stream body; InvalidMessage when it is malformed or of an unknown version."""
    try:
        return _EVENTS.validate_json(payload)
    except ValidationError as exc:
        raise InvalidMessage(str(exc)[:2000]) from exc


async def delivery_count(deps: StoreDeps, entry: Entry) -> int:
    """How often the entry was delivered (XPENDING); 1 when it is not pending (or has no id)."""
    if entry.message_id is None:
        return 1
    return await pending_deliveries(deps.redis, streams.ITEMS, streams.STORE_GROUP, entry.message_id)


async def ack(deps: StoreDeps, entries: Sequence[Entry]) -> None:
    """XACK entries now (FastStream acks only when the handler returns without error)."""
    ids = [e.message_id for e in entries if e.message_id is not None]
    if ids:
        await deps.redis.xack(streams.ITEMS, streams.STORE_GROUP, *ids)


async def send_to_dead_letter(
    deps: StoreDeps, entry: Entry, error: BaseException, *, attempts: int, retryable: bool
) -> None:
    """Publish a DeadLettered event with the payload verbatim, then acknowledge the entry."""
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
    await ack(deps, [entry])
    log.warning("dead-lettered", message_id=entry.message_id, error_type=event.error_type, attempts=attempts)


async def store_once(deps: StoreDeps, events: Sequence[ItemsEvent]) -> StoreResult:
    """One transaction for `events` (an outage raises; the caller's gate waits it out)."""
    async with deps.engine.begin() as conn:
        return await store_events(conn, events, now=utcnow(), public_base_url=deps.settings.public_base_url)


async def store_through_outages(deps: StoreDeps, events: Sequence[ItemsEvent]) -> StoreResult:
    """`store_once`, repeated while the database or Redis is unavailable (waits on the process's gate)."""
    while True:
        try:
            result = await store_once(deps, events)
        except Exception as exc:
            if not (is_db_unavailable(exc) or redis_outage(exc)):
                raise
            await deps.gate.wait(exc)
            continue
        deps.gate.up()
        return result


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
        await ack(deps, [entry])
        out.dead_lettered.append(entry)
    else:
        out.stored.append(entry)


async def handle_entries(deps: StoreDeps, entries: Sequence[Entry]) -> HandleResult:
    """Store a delivery of entries; raises (leaving entries pending) unless every entry was settled."""
    out = HandleResult()
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
    return out

"""The alerts worker's handler of the public stream: decode, enqueue matching deliveries, wake the sender.

A batch of entries (up to `MINUTES_BATCH_SIZE`) is enqueued in one transaction, then acknowledged at once
(the sender's ordering watermark is the oldest unacknowledged entry). An entry that is not a valid event is
dead-lettered alone; a database or Redis outage is waited out uncounted; if the batch fails otherwise, each
entry is retried alone under the shared consume rule (shared/consume.py) and dead-lettered at its last
delivery. An event type this version does not know is skipped (the public stream's contract).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from pydantic import ValidationError

from services.alerts.delivery import PUBLIC
from services.alerts.deps import AlertsDeps
from services.alerts.fanout import Pending, enqueue_batch
from services.alerts.matching import Event
from services.store.db import is_db_unavailable
from services.store.handlers import Entry, entries_of
from shared import streams
from shared.consume import ConsumeStep, OutageGate, redis_outage
from shared.contracts.events import DeadLettered
from shared.dead_letter import InvalidMessage, dead_letter, delivery_count
from shared.logging import get_logger

log = get_logger(__name__)

SERVICE = "alerts"
KNOWN_EVENTS = ("DecisionMade", "DecisionRevised")


def decode(payload: bytes) -> Event | None:
    """The event of a public-stream entry; None for a type this version does not know."""
    try:
        kind = orjson.loads(payload).get("event")
    except (orjson.JSONDecodeError, AttributeError) as exc:
        raise InvalidMessage(f"not a JSON object: {str(exc)[:200]}") from exc
    if kind not in KNOWN_EVENTS:
        return None
    return PUBLIC.validate_json(payload)


def consume_step(deps: AlertsDeps, gate: OutageGate) -> ConsumeStep:
    """The shared rule for one public-stream entry."""

    async def to_dead_letter(event: DeadLettered) -> None:
        await dead_letter(deps.redis, event)

    return ConsumeStep(
        service=SERVICE,
        stream=streams.DECISIONS,
        max_deliveries=deps.settings.max_deliveries,
        dead_letter=to_dead_letter,
        outage=is_db_unavailable,
        gate=gate,
        describe=lambda event: {"document_id": event.document_id if event is not None else None},
    )


async def _enqueue(deps: AlertsDeps, batch: Sequence[Pending]) -> int:
    async with deps.write_lock:
        return await enqueue_batch(deps.engine, deps.cache, batch)


async def _ack(deps: AlertsDeps, entries: Sequence[Entry]) -> None:
    ids = [e.message_id for e in entries if e.message_id]
    if ids:
        await deps.redis.xack(streams.DECISIONS, streams.ALERTS_GROUP, *ids)


async def handle_message(deps: AlertsDeps, step: ConsumeStep, raw_message: Mapping[str, Any]) -> int:
    """Enqueue the deliveries of every entry in a FastStream stream message (a batch or one entry), then
    acknowledge them; returns how many deliveries were added."""
    entries = entries_of(raw_message)
    valid: list[tuple[Entry, Pending]] = []
    settled: list[Entry] = []
    for entry in entries:
        try:
            event = decode(entry.payload)
        except (InvalidMessage, ValidationError, ValueError):
            await _one(deps, step, entry)  # dead-lettered under the shared rule
            settled.append(entry)
            continue
        if event is not None:
            valid.append((entry, Pending(event, entry.payload.decode(), entry.message_id)))
        else:
            settled.append(entry)
    added = 0
    if valid:
        try:
            added = await _through_outages(deps, step, [p for _, p in valid])
        except Exception as exc:
            # One bad entry must not hold back the batch: each alone, under the shared rule.
            log.warning("batch failed, enqueueing one by one", size=len(valid), error=repr(exc)[:300])
            for entry, _ in valid:
                added += await _one(deps, step, entry)
        settled.extend(e for e, _ in valid)
    await _ack(deps, settled)
    if added:
        deps.work.set()
    return added


async def _through_outages(deps: AlertsDeps, step: ConsumeStep, batch: Sequence[Pending]) -> int:
    """The batch's enqueue, repeated while the database or Redis is unavailable (waits on the gate)."""
    assert step.gate is not None
    while True:
        try:
            added = await _enqueue(deps, batch)
        except Exception as exc:
            if not (is_db_unavailable(exc) or redis_outage(exc)):
                raise
            await step.gate.wait(exc)
            continue
        step.gate.up()
        return added


async def _one(deps: AlertsDeps, step: ConsumeStep, entry: Entry) -> int:
    """One entry alone under the shared consume rule; returns the deliveries added."""
    payload = entry.payload
    message_id = entry.message_id or ""
    deliveries = (
        await delivery_count(deps.redis, streams.DECISIONS, streams.ALERTS_GROUP, message_id) if message_id else 1
    )

    async def handle(event: Event | None) -> int:
        if event is None:
            return 0
        return await _enqueue(deps, [Pending(event, payload.decode(), message_id or None)])

    outcome = await step.run(
        message_id=message_id,
        deliveries=deliveries,
        payload=payload.decode(errors="replace"),
        decode=lambda: decode(payload),
        handle=handle,
    )
    return int(outcome.result or 0)

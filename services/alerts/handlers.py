"""The alerts worker's handler of the public stream: decode, enqueue matching deliveries, wake the sender.

A batch of entries (up to `MINUTES_BATCH_SIZE`, read by the stream worker, shared/stream_worker.py) is
enqueued in one transaction; the worker acknowledges it once this returns (the sender's ordering watermark
is the oldest unacknowledged entry). An entry that is not a valid event is
dead-lettered alone; a database or Redis outage is waited out uncounted; if the batch fails otherwise, each
entry is retried alone under the shared consume rule (shared/consume.py) and dead-lettered at its last
delivery. An event type this version does not know is skipped (the public stream's contract).
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from pydantic import ValidationError

from services.alerts.delivery import PUBLIC
from services.alerts.deps import AlertsDeps
from services.alerts.fanout import Pending, enqueue_batch
from services.alerts.matching import Event
from services.store.db import is_db_unavailable
from shared import streams
from shared.consume import ConsumeStep, OutageGate, redis_outage
from shared.contracts.events import DeadLettered
from shared.dead_letter import InvalidMessage, dead_letter
from shared.logging import get_logger
from shared.stream_worker import Entry

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


async def handle_entries(deps: AlertsDeps, step: ConsumeStep, entries: Sequence[Entry]) -> int:
    """Enqueue the deliveries of a batch of entries; returns how many were added. Returning means every
    entry is settled (enqueued, skipped or dead-lettered): the stream worker acks them then."""
    valid: list[tuple[Entry, Pending]] = []
    for entry in entries:
        try:
            event = decode(entry.payload)
        except (InvalidMessage, ValidationError, ValueError):
            await _one(deps, step, entry)  # dead-lettered under the shared rule
            continue
        if event is not None:  # None: an event type this version does not know, skipped
            valid.append((entry, Pending(event, entry.text, entry.id)))
    added = 0
    if valid:
        try:
            added = await _through_outages(deps, step, [p for _, p in valid])
        except Exception as exc:
            # One bad entry must not hold back the batch: each alone, under the shared rule.
            log.warning("batch failed, enqueueing one by one", size=len(valid), error=repr(exc)[:300])
            for entry, _ in valid:
                added += await _one(deps, step, entry)
    if added:
        deps.work.set()
    return added


async def _through_outages(deps: AlertsDeps, step: ConsumeStep, batch: Sequence[Pending]) -> int:
    """The batch's enqueue, repeated while the database or Redis is unavailable (waits on the gate)."""
    assert step.gate is not None
    return await step.gate.through(lambda: _enqueue(deps, batch), lambda e: is_db_unavailable(e) or redis_outage(e))


async def _one(deps: AlertsDeps, step: ConsumeStep, entry: Entry) -> int:
    """One entry alone under the shared consume rule; returns the deliveries added."""
    payload = entry.payload
    message_id = entry.id

    async def handle(event: Event | None) -> int:
        if event is None:
            return 0
        return await _enqueue(deps, [Pending(event, payload.decode(), message_id or None)])

    outcome = await step.run(
        message_id=message_id,
        deliveries=entry.deliveries,
        payload=payload.decode(errors="replace"),
        decode=lambda: decode(payload),
        handle=handle,
    )
    return int(outcome.result or 0)

"""The alerts worker's handler of the public stream: decode, enqueue matching deliveries, wake the sender.

Under the shared consume rule (shared/consume.py): an entry that is not a valid event is dead-lettered,
a database or Redis outage is waited out uncounted, other failures retried and dead-lettered at the last
delivery. An event type this version does not know is skipped (the public stream's contract).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from services.alerts.matching import Event
from services.alerts.worker import PUBLIC, AlertsDeps, enqueue
from services.store.db import is_db_unavailable
from services.store.handlers import entries_of
from shared import streams
from shared.consume import ConsumeStep, OutageGate
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


async def handle_message(deps: AlertsDeps, step: ConsumeStep, raw_message: Mapping[str, Any]) -> int:
    """Enqueue the deliveries of every entry in a FastStream stream message; returns how many were added."""
    added = 0
    for entry in entries_of(raw_message):
        payload = entry.payload
        message_id = entry.message_id or ""
        deliveries = (
            await delivery_count(deps.redis, streams.DECISIONS, streams.ALERTS_GROUP, message_id) if message_id else 1
        )

        async def handle(event: Event | None, payload: bytes = payload, message_id: str = message_id) -> int:
            if event is None:
                return 0
            async with deps.write_lock:
                return await enqueue(deps.engine, event, payload.decode(), message_id or None)

        outcome = await step.run(
            message_id=message_id,
            deliveries=deliveries,
            payload=payload.decode(errors="replace"),
            decode=lambda payload=payload: decode(payload),  # type: ignore[misc]
            handle=handle,
        )
        if outcome.result:
            added += int(outcome.result)
    if added:
        deps.work.set()
    return added

"""The alerts worker's handling of public-stream entries: decode one, and dead-letter an invalid one once.

The worker reads the public stream without a consumer group (each subscription keeps its own cursor,
services/alerts/window.py), so an entry that is not a valid event is met by every worker that reads it: all
of them skip it (no subscription waits on it), and it is dead-lettered once, under a `SET NX` key of its
entry id. An event type this version does not know is skipped, as the public stream's contract says.
"""

from __future__ import annotations

import orjson
from pydantic import TypeAdapter
from redis.asyncio import Redis

from services.alerts.matching import Event
from shared import streams
from shared.contracts.events import PublicEvent
from shared.dead_letter import InvalidMessage, dead_letter, describe_failure
from shared.logging import get_logger
from shared.stream_worker import Entry

log = get_logger(__name__)

SERVICE = "alerts"
PUBLIC: TypeAdapter[Event] = TypeAdapter(PublicEvent)
KNOWN_EVENTS = ("DecisionMade", "DecisionRevised")
# How long the "dead-lettered already" mark of an invalid entry lives: beyond the stream's retention in time.
_MARK_TTL_S = 30 * 24 * 3600


def decode(payload: bytes) -> Event | None:
    """The event of a public-stream entry; None for a type this version does not know."""
    try:
        kind = orjson.loads(payload).get("event")
    except (orjson.JSONDecodeError, AttributeError) as exc:
        raise InvalidMessage(f"not a JSON object: {str(exc)[:200]}") from exc
    if kind not in KNOWN_EVENTS:
        return None
    return PUBLIC.validate_json(payload)


async def dead_letter_invalid(client: Redis, entry: Entry, error: Exception) -> bool:
    """Dead-letter an invalid entry unless some worker did already; returns whether this call did."""
    if not await client.set(streams.INVALID_PUBLIC_PREFIX + entry.id, "1", nx=True, ex=_MARK_TTL_S):
        return False
    log.error("invalid public-stream entry skipped and dead-lettered", message_id=entry.id, error=str(error)[:300])
    await dead_letter(
        client,
        describe_failure(
            service=SERVICE,
            stream=streams.DECISIONS,
            message_id=entry.id,
            payload=entry.text,
            error=error,
            attempts=1,
            retryable=False,
        ),
    )
    return True

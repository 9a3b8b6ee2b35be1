"""Say so when a (re)started worker finds messages a previous worker left unacknowledged.

Those entries are not lost: the group's reclaimer takes them over once they have been idle for
MINUTES_CLAIM_IDLE_MS (60 s by default). Without a log line the pipeline looks stuck for that long after a
restart.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.logging import get_logger

log = get_logger(__name__)


async def report_in_flight(client: Redis, stream: str, group: str, claim_idle_ms: int) -> int:
    """Log how many entries of `group` are pending on other consumers and when they will be reclaimed."""
    try:
        summary: Any = await client.xpending(stream, group)
    except ResponseError:  # no group yet: nothing can be in flight
        return 0
    count = int(summary.get("pending") or 0) if isinstance(summary, dict) else 0
    if count:
        consumers = summary.get("consumers") or []
        log.warning(
            "messages of a previous run are in flight; they are reclaimed once idle for the claim time",
            stream=stream,
            group=group,
            pending=count,
            consumers=len(consumers),
            claim_idle_s=claim_idle_ms / 1000,
            setting="MINUTES_CLAIM_IDLE_MS",
        )
    return count

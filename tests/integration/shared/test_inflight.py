"""A restarted worker says how many messages of a dead one wait for the claim time."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from structlog.testing import capture_logs

from shared.inflight import report_in_flight

pytestmark = pytest.mark.integration


async def test_pending_entries_of_a_dead_consumer_are_reported(redis_client: aioredis.Redis) -> None:
    await redis_client.xgroup_create("s", "g", id="0", mkstream=True)
    for n in range(3):
        await redis_client.xadd("s", {"n": n})
    await redis_client.xreadgroup("g", "dead-worker", {"s": ">"}, count=2)  # read, never acknowledged
    with capture_logs() as logs:
        assert await report_in_flight(redis_client, "s", "g", 60_000) == 2
    [line] = [entry for entry in logs if "in flight" in entry["event"]]
    assert line["pending"] == 2 and line["claim_idle_s"] == 60


async def test_nothing_pending_says_nothing(redis_client: aioredis.Redis) -> None:
    await redis_client.xgroup_create("s", "g", id="0", mkstream=True)
    with capture_logs() as logs:
        assert await report_in_flight(redis_client, "s", "g", 60_000) == 0
        assert await report_in_flight(redis_client, "no-such-stream", "g", 60_000) == 0
    assert [entry for entry in logs if "in flight" in entry["event"]] == []

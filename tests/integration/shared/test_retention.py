"""Stream trimming removes only entries every group has acknowledged."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from shared.retention import safe_trim_id, trim_acknowledged

pytestmark = pytest.mark.integration

STREAM = "t:stream"
GROUPS = {STREAM: ("a", "b")}


async def _fill(client: aioredis.Redis, n: int) -> list[bytes]:
    return [await client.xadd(STREAM, {"n": i}) for i in range(n)]


async def test_nothing_is_trimmed_before_a_group_exists(redis_client: aioredis.Redis) -> None:
    await _fill(redis_client, 5)
    await redis_client.xgroup_create(STREAM, "a", id="0")
    assert await trim_acknowledged(redis_client, GROUPS) == 0
    assert await redis_client.xlen(STREAM) == 5


async def test_trim_stops_at_the_oldest_pending_entry_of_any_group(redis_client: aioredis.Redis) -> None:
    ids = await _fill(redis_client, 10)
    for group in ("a", "b"):
        await redis_client.xgroup_create(STREAM, group, id="0")
    # Group a reads and acks everything; group b reads 6 and acks only the first 3.
    await redis_client.xreadgroup("a", "c1", {STREAM: ">"}, count=10)
    await redis_client.xack(STREAM, "a", *ids)
    await redis_client.xreadgroup("b", "c2", {STREAM: ">"}, count=6)
    await redis_client.xack(STREAM, "b", *ids[:3])
    assert await safe_trim_id(redis_client, STREAM, ("a", "b")) == ids[3].decode()
    assert await trim_acknowledged(redis_client, GROUPS) == 3
    remaining = [entry_id for entry_id, _ in await redis_client.xrange(STREAM)]
    assert remaining == ids[3:]
    # The pending entries are still claimable by group b.
    claimed = await redis_client.xclaim(STREAM, "b", "c3", 0, ids[3:6])
    assert [entry_id for entry_id, _ in claimed] == ids[3:6]


async def test_unread_entries_survive_when_all_read_ones_are_acked(redis_client: aioredis.Redis) -> None:
    ids = await _fill(redis_client, 8)
    for group in ("a", "b"):
        await redis_client.xgroup_create(STREAM, group, id="0")
        await redis_client.xreadgroup(group, "c", {STREAM: ">"}, count=4)
        await redis_client.xack(STREAM, group, *ids[:4])
    await trim_acknowledged(redis_client, GROUPS)
    remaining = [entry_id for entry_id, _ in await redis_client.xrange(STREAM)]
    # Entries up to the last delivered one go except that one; the 4 never read all stay.
    assert remaining == ids[3:]


async def test_only_idle_consumers_without_pending_entries_are_pruned(redis_client: aioredis.Redis) -> None:
    from shared.retention import prune_consumers

    ids = await _fill(redis_client, 3)
    await redis_client.xgroup_create(STREAM, "g", id="0")
    await redis_client.xreadgroup("g", "dead-with-pending", {STREAM: ">"}, count=1)
    await redis_client.xreadgroup("g", "dead-empty", {STREAM: ">"}, count=1)
    await redis_client.xack(STREAM, "g", ids[1])
    await asyncio.sleep(0.6)
    await redis_client.xreadgroup("g", "alive", {STREAM: ">"}, count=1)
    await redis_client.xack(STREAM, "g", ids[2])
    # Idle threshold between the dead ones' idle time and the live one's.
    assert await prune_consumers(redis_client, STREAM, "g", idle_ms=400) == ["dead-empty"]
    names = {c["name"].decode() for c in await redis_client.xinfo_consumers(STREAM, "g")}
    assert names == {"dead-with-pending", "alive"}

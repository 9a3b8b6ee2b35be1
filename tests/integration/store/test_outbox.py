"""The outbox relay against real Redis and both databases: every decision published exactly once."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.bootstrap import StoreDeps
from services.store.models import outbox
from services.store.outbox import OutboxRelay
from services.store.repository import store_events
from shared import streams
from shared.contracts.events import DecisionMade, decision_event_id, utcnow
from tests.unit.store.factories import meeting

pytestmark = pytest.mark.integration
BASE = "https://minutes.test/items/"


async def store_meetings(engine: AsyncEngine, n: int, items: int = 5, prefix: str = "m") -> int:
    """Store n meetings, every item decided; returns the number of decisions."""
    async with engine.begin() as conn:
        for k in range(n):
            m, evs = meeting(f"{prefix}-{k}", items)
            await store_events(conn, [m, *evs], now=utcnow(), public_base_url=BASE)
    return n * items


async def unsent(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        stmt = select(func.count()).select_from(outbox).where(outbox.c.sent_at.is_(None))
        return int((await conn.execute(stmt)).scalar_one())


async def test_published_once_as_plain_json(deps: StoreDeps, redis_url: str) -> None:
    total = await store_meetings(deps.engine, 3)
    assert await deps.relay.run_once() == total
    assert await deps.relay.run_once() == 0
    assert await unsent(deps.engine) == 0

    bare = redis.Redis.from_url(redis_url, decode_responses=True)
    entries = bare.xrange(streams.DECISIONS)
    bare.close()
    assert len(entries) == total
    events = [DecisionMade.model_validate_json(fields[streams.PUBLIC_FIELD]) for _id, fields in entries]
    assert all(set(fields) == {streams.PUBLIC_FIELD} for _id, fields in entries)
    first = events[0]
    assert first.item_url == BASE + first.item_id
    pos = int(first.item_id.rsplit(":", 1)[1])
    assert first.event_id == decision_event_id(first.document_id, pos)
    assert len({e.event_id for e in events}) == total


async def test_two_relays_concurrently_publish_each_once(
    deps: StoreDeps, redis_client: aioredis.Redis, database_url: str
) -> None:
    from services.store.db import create_engine

    total = await store_meetings(deps.engine, 20, 10)
    other_engine = create_engine(database_url)
    small = dict(maxlen=deps.settings.stream_maxlen, batch_size=37)
    relays = [OutboxRelay(deps.engine, redis_client, **small), OutboxRelay(other_engine, redis_client, **small)]
    try:
        added = await asyncio.gather(*(r.run_once() for r in relays), *(r.run_once() for r in relays))
    finally:
        await other_engine.dispose()
    assert sum(added) == total
    assert await redis_client.xlen(streams.DECISIONS) == total
    assert await unsent(deps.engine) == 0


async def test_crash_between_publish_and_mark_sent_duplicates_nothing(
    deps: StoreDeps, redis_client: aioredis.Redis
) -> None:
    total = await store_meetings(deps.engine, 2)
    pending = await deps.relay.fetch_unsent()
    assert await deps.relay.publish(pending) == total  # ...and the process dies before mark_sent
    assert await unsent(deps.engine) == total
    assert await redis_client.xlen(streams.DECISIONS) == total

    restarted = OutboxRelay(deps.engine, redis_client, maxlen=deps.settings.stream_maxlen)
    assert await restarted.run_once() == 0
    assert await redis_client.xlen(streams.DECISIONS) == total
    assert await unsent(deps.engine) == 0


async def test_reingest_emits_nothing_new(deps: StoreDeps, redis_client: aioredis.Redis) -> None:
    total = await store_meetings(deps.engine, 2)
    await deps.relay.run_once()
    await store_meetings(deps.engine, 2)  # the same documents again
    assert await unsent(deps.engine) == 0
    assert await deps.relay.run_once() == 0
    assert await redis_client.xlen(streams.DECISIONS) == total


async def test_background_relay_wakes_and_flushes(deps: StoreDeps, redis_client: aioredis.Redis) -> None:
    deps.relay.poll_interval_s = 60  # only wake() can trigger a pass within the test
    deps.relay.start()
    total = await store_meetings(deps.engine, 1)
    deps.relay.wake()
    for _ in range(100):
        if await redis_client.xlen(streams.DECISIONS) == total:
            break
        await asyncio.sleep(0.02)
    assert await redis_client.xlen(streams.DECISIONS) == total

    more = await store_meetings(deps.engine, 1, prefix="late")  # no wake: the shutdown flush sends it
    await deps.relay.stop(flush=True)
    assert await redis_client.xlen(streams.DECISIONS) == total + more


async def test_relay_survives_redis_errors(deps: StoreDeps, redis_client: aioredis.Redis) -> None:
    """A failed pass leaves rows unsent; the next pass sends them."""
    total = await store_meetings(deps.engine, 1)
    broken = OutboxRelay(
        deps.engine, aioredis.Redis(port=1, retry=Retry(NoBackoff(), 0)), maxlen=deps.settings.stream_maxlen
    )
    with pytest.raises(redis.exceptions.ConnectionError):
        await broken.run_once()
    assert await unsent(deps.engine) == total
    assert await deps.relay.run_once() == total

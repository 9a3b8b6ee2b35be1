"""Positions in the public stream (real Redis, both databases): where a subscription starts, the upgrade from
the old consumer group, the window against Redis, invalid entries, a replay's subscription cache."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.fanout import Pending, SubscriptionCache, replay_batch
from services.alerts.handlers import dead_letter_invalid
from services.alerts.models import deliveries, subscriptions
from services.alerts.positions import adopt_positions, created_position
from services.alerts.subscriptions import SubscriptionSpec, add_subscription, disable_subscription
from services.alerts.window import Window, position, trimmed_past
from shared import streams
from shared.contracts.events import DecisionMade
from shared.contracts.examples import decision_made
from shared.dead_letter import list_dead_letters
from shared.stream_worker import Entry

pytestmark = pytest.mark.integration


def _event(n: int) -> DecisionMade:
    return decision_made(n)


def _pending(n: int) -> Pending:
    event = _event(n)
    return Pending(event, event.model_dump_json(), f"{int(time.time() * 1000) + n}-0")


async def _publish(redis: aioredis.Redis, n: int) -> str:
    raw = await redis.xadd(streams.DECISIONS, {streams.PUBLIC_FIELD: _event(n).model_dump_json()})
    return raw.decode() if isinstance(raw, bytes) else str(raw)


async def _count(engine: AsyncEngine, subscription_id: str) -> int:
    async with engine.connect() as conn:
        stmt = sa.select(sa.func.count()).where(deliveries.c.subscription_id == subscription_id)
        return int((await conn.execute(stmt)).scalar_one())


async def _cursor(engine: AsyncEngine, subscription_id: str) -> tuple[int | None, int | None]:
    stmt = sa.select(subscriptions.c.next_ms, subscriptions.c.next_seq).where(subscriptions.c.id == subscription_id)
    async with engine.connect() as conn:
        row = (await conn.execute(stmt)).one()
    return row.next_ms, row.next_seq


def test_a_new_subscription_starts_at_the_millisecond_it_was_created() -> None:
    at = dt.datetime(2026, 12, 7, 12, 0, 0, 1500, tzinfo=dt.UTC)  # 1.5 ms into the second
    ms = int(dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC).timestamp() * 1000)
    # An entry in millisecond ms+1 was published before it (ids are milliseconds, rounded down): not its.
    assert created_position(at) == (ms + 2, 0)
    assert created_position(at.replace(microsecond=2000)) == (ms + 2, 0)


async def test_a_subscription_reads_from_when_it_was_added(engine: AsyncEngine, redis_client: aioredis.Redis) -> None:
    before = await _publish(redis_client, 1)
    sub = await add_subscription(
        engine, SubscriptionSpec(channel="webhook", url="http://127.0.0.1:9/a"), allow_private=True
    )
    after = await _publish(redis_client, 2)
    start = await _cursor(engine, sub.id)
    assert position(before) < start <= position(after)
    assert sub.position == f"{start[0]}-{start[1]}"


async def test_the_upgrade_takes_the_old_groups_position_and_removes_it(
    engine: AsyncEngine, redis_client: aioredis.Redis
) -> None:
    old = await add_subscription(engine, SubscriptionSpec(channel="webhook", url="http://127.0.0.1:9/a"),
                                 allow_private=True)
    ids = [await _publish(redis_client, n) for n in range(4)]
    late = await add_subscription(engine, SubscriptionSpec(channel="webhook", url="http://127.0.0.1:9/b"),
                                  allow_private=True)
    # As revision 0013 leaves them: no cursor. The old group read three entries and acked the first.
    async with engine.begin() as conn:
        await conn.execute(subscriptions.update().values(next_ms=None, next_seq=None))
    await redis_client.xgroup_create(streams.DECISIONS, streams.ALERTS_GROUP, id="0")
    await redis_client.xreadgroup(streams.ALERTS_GROUP, "old", {streams.DECISIONS: ">"}, count=3)
    await redis_client.xack(streams.DECISIONS, streams.ALERTS_GROUP, ids[0])

    assert await adopt_positions(engine, redis_client) == 2
    # The oldest entry the group had not acknowledged: it may not have been enqueued.
    assert await _cursor(engine, old.id) == position(ids[1])
    # Never before its creation.
    late_start = created_position(late.created_at)
    assert await _cursor(engine, late.id) == max(late_start, position(ids[1]))
    assert [g for g in await redis_client.xinfo_groups(streams.DECISIONS)] == []
    # Once given, a position is not given again.
    assert await adopt_positions(engine, redis_client) == 0


async def test_without_an_old_group_the_upgrade_starts_each_at_its_creation(
    engine: AsyncEngine, redis_client: aioredis.Redis
) -> None:
    sub = await add_subscription(engine, SubscriptionSpec(channel="webhook", url="http://127.0.0.1:9/a"),
                                 allow_private=True)
    async with engine.begin() as conn:
        await conn.execute(subscriptions.update().values(next_ms=None, next_seq=None))
    assert await adopt_positions(engine, redis_client) == 1
    assert await _cursor(engine, sub.id) == created_position(sub.created_at)


async def test_the_window_gives_what_redis_gives_decoded_once(redis_client: aioredis.Redis) -> None:
    first = await _publish(redis_client, 0)
    window = Window(size=6)
    window.reset(position(first))

    async def never(entry: Entry, error: Exception) -> None:
        raise AssertionError(f"valid entries only: {error}")

    ids = [await _publish(redis_client, n) for n in range(1, 10)]
    entries = [Entry(i, _event(n).model_dump_json().encode()) for n, i in enumerate(ids, start=1)]
    window.add(entries[:5])
    held = await window.read(redis_client, position(ids[1]), 10, never)
    assert [i.id for i in held] == ids[1:5]
    # The same item (decoded once) for every reader.
    assert (await window.read(redis_client, position(ids[1]), 1, never))[0] is held[0]
    window.add(entries[5:])  # past its size: the oldest half goes, and its base moves up
    assert window.base is not None and window.base >= position(ids[1])
    assert not window.holds(position(ids[1]))
    from_redis = await window.read(redis_client, position(ids[1]), 100, never)
    assert [i.id for i in from_redis] == ids[1:]
    assert [i.event.event_id for i in from_redis if i.event] == [_event(n).event_id for n in range(2, 10)]


async def test_an_invalid_entry_is_skipped_and_dead_lettered_once(redis_client: aioredis.Redis) -> None:
    bad = await redis_client.xadd(streams.DECISIONS, {streams.PUBLIC_FIELD: b'{"event": "DecisionMade"}'})
    unknown = await redis_client.xadd(streams.DECISIONS, {streams.PUBLIC_FIELD: b'{"event": "SomethingNew"}'})
    good = await _publish(redis_client, 1)
    seen: list[str] = []

    async def on_invalid(entry: Entry, error: Exception) -> None:
        if await dead_letter_invalid(redis_client, entry, error):
            seen.append(entry.id)

    # Two workers' windows meet the same entries.
    for _ in range(2):
        items = await Window().read(redis_client, position(bad), 10, on_invalid)
        assert [i.event is not None for i in items] == [False, False, True]
        assert items[2].id == good
    letters = await list_dead_letters(redis_client)
    assert [d.event.message_id for d in letters] == [bad.decode()] == seen
    assert letters[0].event.service == "alerts" and not letters[0].event.retryable
    assert unknown.decode() not in seen  # an unknown type is skipped, not an error


async def test_a_trimmed_stream_says_what_a_slow_reader_lost(redis_client: aioredis.Redis) -> None:
    ids = [await _publish(redis_client, n) for n in range(5)]
    assert await trimmed_past(redis_client, position(ids[0])) is None  # nothing removed yet
    await redis_client.xtrim(streams.DECISIONS, maxlen=2, approximate=False)
    # Entries 0-2 went: a reader at 0 or 1 lost some; one at 3 lost nothing.
    assert await trimmed_past(redis_client, position(ids[0])) == position(ids[3])
    assert await trimmed_past(redis_client, position(ids[1])) == position(ids[3])
    assert await trimmed_past(redis_client, position(ids[3])) is None
    await redis_client.xtrim(streams.DECISIONS, maxlen=0, approximate=False)
    # Nothing held: a reader resumes after the last entry ever added.
    last = position(ids[4])
    assert await trimmed_past(redis_client, position(ids[3])) == (last[0], last[1] + 1)


async def test_the_replay_cache_sees_added_and_disabled_subscriptions(engine: AsyncEngine) -> None:
    cache = SubscriptionCache()
    first = await add_subscription(
        engine, SubscriptionSpec(channel="webhook", url="http://127.0.0.1:9/a"), allow_private=True
    )
    assert await replay_batch(engine, cache, [_pending(1)]) == 1
    second = await add_subscription(
        engine, SubscriptionSpec(channel="webhook", url="http://127.0.0.1:9/b"), allow_private=True
    )
    assert await replay_batch(engine, cache, [_pending(2)]) == 2  # read again: the counter moved
    await disable_subscription(engine, first.id, "test")
    assert await replay_batch(engine, cache, [_pending(3)]) == 1
    assert (await _count(engine, first.id), await _count(engine, second.id)) == (2, 2)
    # A replay repeats what was replayed before (receivers dedupe on the webhook-id).
    assert await replay_batch(engine, cache, [_pending(2)], only=second.id) == 1

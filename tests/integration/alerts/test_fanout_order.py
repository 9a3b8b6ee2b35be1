"""The fan-out's subscription cache follows changes, and the sender's ordering watermark (real Redis)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.delivery import NO_LIMIT, watermark
from services.alerts.fanout import Pending, SubscriptionCache, enqueue_batch
from services.alerts.models import deliveries
from services.alerts.subscriptions import SubscriptionSpec, add_subscription, disable_subscription
from shared import streams
from shared.contracts.events import DecisionMade, utcnow
from shared.contracts.meeting import Outcome

pytestmark = pytest.mark.integration


def _pending(n: int) -> Pending:
    event = DecisionMade(
        event_id=f"00000000-0000-0000-0000-{n:012d}",
        municipality="Vejle Kommune",
        committee="Byrådet",
        meeting_date=None,
        item_number=1,
        item_title=f"Punkt {n}",
        case_number=None,
        outcome=Outcome.APPROVED,
        decision_text="Godkendt.",
        document_id="d" * 64,
        item_id=f"{'d' * 64}:{n}",
        item_url=f"https://minutes.test/items/{n}",
        occurred_at=utcnow(),
    )
    # Published after the subscriptions (stream ids are milliseconds).
    return Pending(event, event.model_dump_json(), f"{int(time.time() * 1000) + 1000 + n}-0")


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _count(engine: AsyncEngine, subscription_id: str) -> int:
    async with engine.connect() as conn:
        stmt = sa.select(sa.func.count()).where(deliveries.c.subscription_id == subscription_id)
        return int((await conn.execute(stmt)).scalar_one())


async def test_the_cache_sees_added_and_disabled_subscriptions(engine: AsyncEngine) -> None:
    cache = SubscriptionCache()
    first = await add_subscription(
        engine, SubscriptionSpec(channel="webhook", url="http://127.0.0.1:9/a"), allow_private=True
    )
    assert await enqueue_batch(engine, cache, [_pending(1)]) == 1
    second = await add_subscription(
        engine, SubscriptionSpec(channel="webhook", url="http://127.0.0.1:9/b"), allow_private=True
    )
    assert await enqueue_batch(engine, cache, [_pending(2)]) == 2  # read again: the counter moved
    await disable_subscription(engine, first.id, "test")
    assert await enqueue_batch(engine, cache, [_pending(3), _pending(3)]) == 1  # the same event twice: once
    assert (await _count(engine, first.id), await _count(engine, second.id)) == (2, 2)
    # An entry read again adds nothing.
    assert await enqueue_batch(engine, cache, [_pending(2)]) == 0


async def test_the_watermark_holds_what_an_older_pending_entry_could_precede(redis_client: aioredis.Redis) -> None:
    deps = SimpleNamespace(redis=redis_client, last_watermark=(0, 0))
    assert await watermark(deps) == NO_LIMIT  # type: ignore[arg-type]  # nobody reads the stream
    await redis_client.xgroup_create(streams.DECISIONS, streams.ALERTS_GROUP, id="0", mkstream=True)
    ids = [str(_text(await redis_client.xadd(streams.DECISIONS, {"json": "{}"}))) for _ in range(3)]
    assert await watermark(deps) == (0, 1)  # type: ignore[arg-type]  # nothing read yet: nothing is safe
    await redis_client.xreadgroup(streams.ALERTS_GROUP, "c1", {streams.DECISIONS: ">"}, count=2)
    first = tuple(int(p) for p in ids[0].split("-"))
    assert await watermark(deps) == first  # type: ignore[arg-type]  # the oldest pending entry
    await redis_client.xack(streams.DECISIONS, streams.ALERTS_GROUP, ids[0], ids[1])
    second = tuple(int(p) for p in ids[1].split("-"))
    # Both acknowledged, the third unread: up to and including the last one read.
    assert await watermark(deps) == (second[0], second[1] + 1)  # type: ignore[arg-type]

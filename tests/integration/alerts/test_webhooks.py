"""Webhooks end to end: the store's relay publishes, the alerts app matches, a real loopback receiver
verifies the Standard Webhooks signature; retries through an outage, disabling, redirects, replay."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.alerts.subscriptions import (
    CreatedSubscription,
    SubscriptionSpec,
    add_subscription,
    get_subscription,
    list_attempts,
)
from services.alerts.worker import replay
from shared.contracts.events import decision_event_id
from shared.settings import Settings
from tests.integration.alerts.conftest import Receiver, Stack, caught_up, running_stack, wait_for
from tests.unit.store.factories import doc_id, header, item, meeting

pytestmark = pytest.mark.integration


async def webhook(stack: Stack, url: str, **flt: str) -> CreatedSubscription:
    spec = SubscriptionSpec(channel="webhook", url=url, **flt)
    return await add_subscription(stack.engine, spec, allow_private=True)


def verified(secret: str, received: list) -> list[dict]:  # type: ignore[type-arg]
    """Each request checked with the receiver's own Standard Webhooks verification."""
    check = Webhook(secret)
    return [check.verify(r.body, r.headers) for r in received]


async def test_matching_events_reach_the_receiver_signed(stack: Stack, receiver: Receiver) -> None:
    economy = await webhook(stack, receiver.url("/economy"), committee="økonomi", phrase="lokalplanen")
    elsewhere = await webhook(stack, receiver.url("/odense"), municipality="Odense Kommune")
    rejected_only = await webhook(stack, receiver.url("/rejected"), outcome="rejected")
    assert economy.secret and economy.secret.startswith("whsec_")

    plans = meeting("plans", 3, hdr=header(committee="Økonomiudvalget", day=dt.date(2025, 3, 3)))
    school = meeting(
        "school", 1, items=[item(1, title="Skolestruktur")], hdr=header(committee="Børne- og Ungeudvalget")
    )
    other_committee = meeting("tech", 2, hdr=header(committee="Teknisk Udvalg", day=dt.date(2025, 3, 4)))
    assert await stack.publish(plans, school, other_committee) == 6

    expected = {decision_event_id(doc_id("plans"), pos) for pos in range(3)}
    await wait_for(lambda: len(receiver.on("/economy")) >= 3, what="three deliveries")
    await wait_for(lambda: caught_up(stack.engine, stack.redis), what="every subscription past the last entry")
    got = receiver.on("/economy")
    assert economy.secret is not None
    bodies = verified(economy.secret, got)
    assert {r.headers["webhook-id"] for r in got} == expected
    assert {b["event_id"] for b in bodies} == expected
    assert all(b["committee"] == "Økonomiudvalget" and b["event"] == "DecisionMade" for b in bodies)
    assert len(got) == 3
    # Nothing matched the others, and no delivery was even kept for them.
    assert receiver.on("/odense") == [] and receiver.on("/rejected") == []
    for sub in (elsewhere, rejected_only):
        shown = await get_subscription(stack.engine, sub.id)
        assert shown is not None and shown.pending == 0 and shown.delivered == 0
    # A signature made with another secret does not verify.
    with pytest.raises(WebhookVerificationError):
        verified(elsewhere.secret or "", got[:1])


async def test_an_outage_through_five_retries_loses_and_repeats_nothing(
    alerts_settings: Settings, engine: AsyncEngine, redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    settings = alerts_settings.model_copy(update={"alerts_disable_after": 1000})
    async with running_stack(settings, engine, redis_client) as stack:
        sub = await webhook(stack, receiver.url())
        assert await stack.publish(meeting("before", 2)) == 2
        await wait_for(lambda: len(receiver.requests) == 2, what="the first two")

        await receiver.stop()
        assert await stack.publish(meeting("during", 3)) == 3

        async def failed_attempts() -> int:
            return sum(not a.ok for a in await list_attempts(engine, sub.id, limit=1000))

        async def failed_once() -> bool:
            return await failed_attempts() >= 1

        async def waiting(n: int) -> bool:
            shown = await get_subscription(engine, sub.id)
            return shown is not None and shown.pending == n

        async def retried_through_it() -> bool:
            return await failed_attempts() >= 5

        await wait_for(failed_once, limit_s=30, what="the first failed attempt")
        # What arrives while the failed delivery waits for its retry is kept as rows behind it (safe from the
        # stream's retention), not sent ahead of it.
        assert await stack.publish(meeting("later", 2)) == 2
        await wait_for(lambda: waiting(5), limit_s=30, what="the five undelivered events kept as rows")
        # The receiver stays down until the worker has retried five times (backoff scaled to 0.2 s doubling to
        # 2 s: ~5 s), awaited rather than a fixed 30 s that a loaded machine might not fill with five tries.
        await wait_for(retried_through_it, limit_s=90, what="five failed attempts")
        failures = await failed_attempts()
        await receiver.start()
        await wait_for(lambda: len(receiver.requests) >= 7, limit_s=30, what="the five held back")
        await wait_for(lambda: caught_up(engine, redis_client), what="nothing pending")

    ids = [r.headers["webhook-id"] for r in receiver.requests]
    sent = (("before", 2), ("during", 3), ("later", 2))
    expected = [decision_event_id(doc_id(s), p) for s, n in sent for p in range(n)]
    assert len(ids) == 7 and set(ids) == set(expected)  # nothing lost, nothing twice
    assert failures >= 5  # retried through the outage (backoff scaled to 0.2 s doubling to 2 s)
    # Order kept: the held-back events arrive in stream order.
    assert ids == expected
    shown = await get_subscription(engine, sub.id)
    assert shown is not None and shown.enabled and shown.consecutive_failures == 0
    assert (shown.delivered, shown.pending) == (7, 0)


async def test_an_endpoint_failing_n_times_is_disabled_and_says_why(stack: Stack, receiver: Receiver) -> None:
    receiver.answer = 500
    sub = await webhook(stack, receiver.url())
    await stack.publish(meeting("fails", 1))

    async def disabled() -> bool:
        shown = await get_subscription(stack.engine, sub.id)
        return shown is not None and not shown.enabled

    await wait_for(disabled, what="the subscription to be disabled")
    shown = await get_subscription(stack.engine, sub.id)
    assert shown is not None
    assert shown.disabled_reason is not None and "5 consecutive failed deliveries" in shown.disabled_reason
    assert "HTTP 500" in shown.disabled_reason
    tried = await list_attempts(stack.engine, sub.id)
    assert [a.status_code for a in tried] == [500] * stack.settings.alerts_disable_after
    assert len(receiver.requests) == stack.settings.alerts_disable_after
    assert shown.pending == 1  # kept for an enable, not dropped


async def test_a_redirect_is_a_failure_and_never_followed(stack: Stack, receiver: Receiver) -> None:
    receiver.answer = 302
    receiver.location = receiver.url("/target")
    sub = await webhook(stack, receiver.url("/moved"))
    await stack.publish(meeting("moved", 1))

    async def tried() -> list:  # type: ignore[type-arg]
        return await list_attempts(stack.engine, sub.id)

    await wait_for(lambda: tried(), what="an attempt")
    first = (await tried())[-1]
    assert not first.ok and first.status_code == 302 and "not followed" in (first.error or "")
    assert receiver.on("/target") == []
    assert len(receiver.on("/moved")) >= 1


async def test_replay_redelivers_with_the_same_webhook_id(stack: Stack, receiver: Receiver) -> None:
    early = await webhook(stack, receiver.url("/a"))
    await stack.publish(meeting("old", 2))
    await wait_for(lambda: len(receiver.on("/a")) == 2, what="the first delivery")
    marker = dt.datetime.now(dt.UTC)
    await asyncio.sleep(0.01)  # stream ids are milliseconds: the next event is after the marker
    await stack.publish(meeting("new", 1))
    await wait_for(lambda: len(receiver.on("/a")) == 3, what="the third")
    first = [r.headers["webhook-id"] for r in receiver.on("/a")]

    added = await replay(stack.engine, stack.redis, marker, subscription_id=early.id)
    assert added == 1
    stack.alerts.work.set()
    await wait_for(lambda: len(receiver.on("/a")) == 4, what="the replayed one")
    again = receiver.on("/a")[3]
    assert again.headers["webhook-id"] == first[2]
    assert json.loads(again.body)["event_id"] == first[2]
    # From the start of the stream: every event again, the same ids.
    assert await replay(stack.engine, stack.redis, dt.datetime(2000, 1, 1, tzinfo=dt.UTC)) == 3
    stack.alerts.work.set()
    await wait_for(lambda: len(receiver.on("/a")) == 7, what="all replayed")
    assert sorted(r.headers["webhook-id"] for r in receiver.on("/a")[4:]) == sorted(first)
    await wait_for(lambda: caught_up(stack.engine, stack.redis), what="every replay recorded")
    replayed = [a for a in await list_attempts(stack.engine, early.id) if a.replay]
    assert len(replayed) == 4 and all(a.ok for a in replayed)

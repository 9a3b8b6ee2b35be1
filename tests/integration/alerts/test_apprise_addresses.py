"""Apprise notifications under the address rule at delivery: a json:// or mailto:// subscription stored while
private addresses were allowed (or whose name resolved outward then) is refused by a worker that does not allow
them, at the connection, with the reason on the attempt; nothing reaches the loopback receiver or mail catcher.
With the setting, the same notification arrives. Real receiver, mail catcher, Redis and both databases."""

from __future__ import annotations

import json

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.subscriptions import SubscriptionSpec, add_subscription, get_subscription, list_attempts
from shared.settings import Settings
from tests.integration.alerts.conftest import MailCatcher, Receiver, running_stack, wait_for
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration


def _json_url(receiver: Receiver) -> str:
    return f"json://127.0.0.1:{receiver.port}/notify"


async def test_a_json_notification_to_loopback_is_refused_by_a_strict_worker(
    alerts_settings: Settings, engine: AsyncEngine, redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    strict = alerts_settings.model_copy(update={"allow_private_urls": False})
    sub = await add_subscription(engine, SubscriptionSpec(channel="apprise", url=_json_url(receiver)),
                                 allow_private=True)
    async with running_stack(strict, engine, redis_client) as stack:
        await stack.publish(meeting("strict-json", 1))
        await wait_for(lambda: list_attempts(engine, sub.id), what="an attempt")
        (attempt, *_) = await list_attempts(engine, sub.id)
    assert not attempt.ok
    assert attempt.error is not None and attempt.error.startswith("refused: the notification connects to 127.0.0.1")
    assert "loopback" in attempt.error and "MINUTES_ALLOW_PRIVATE_URLS=true" in attempt.error
    assert receiver.requests == []
    shown = await get_subscription(engine, sub.id)
    assert shown is not None and shown.delivered == 0 and shown.pending == 1


async def test_a_json_notification_to_loopback_arrives_when_allowed(
    alerts_settings: Settings, engine: AsyncEngine, redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    assert alerts_settings.allow_private_urls
    sub = await add_subscription(engine, SubscriptionSpec(channel="apprise", url=_json_url(receiver)),
                                 allow_private=True)
    async with running_stack(alerts_settings, engine, redis_client) as stack:
        first = item(1, title="Ny legeplads i parken", text="Indstillingen blev godkendt.")
        await stack.publish(meeting("allowed-json", items=[first], hdr=header(committee="Teknisk Udvalg")))
        await wait_for(lambda: receiver.on("/notify"), what="the notification")

        async def counted() -> bool:
            shown = await get_subscription(engine, sub.id)
            return shown is not None and shown.delivered == 1

        await wait_for(counted, what="the delivery counted")
    # Delivered at once: counted on the subscription, no row and no attempt of its own.
    assert await list_attempts(engine, sub.id) == []
    (got,) = receiver.on("/notify")
    body = json.loads(got.body)
    assert body["title"] == "Aarhus Kommune · Teknisk Udvalg: 1. Ny legeplads i parken"
    assert "godkendt" in body["message"]


async def test_a_mail_to_a_loopback_server_is_refused_by_a_strict_worker(
    alerts_settings: Settings, engine: AsyncEngine, redis_client: aioredis.Redis, mail_catcher: MailCatcher
) -> None:
    strict = alerts_settings.model_copy(update={"allow_private_urls": False})
    spec = SubscriptionSpec(channel="apprise", url=mail_catcher.apprise_url)
    sub = await add_subscription(engine, spec, allow_private=True)
    async with running_stack(strict, engine, redis_client) as stack:
        await stack.publish(meeting("strict-mail", 1))
        await wait_for(lambda: list_attempts(engine, sub.id), what="an attempt")
        (attempt, *_) = await list_attempts(engine, sub.id)
    assert not attempt.ok and attempt.error is not None
    assert attempt.error.startswith("refused: the notification connects to 127.0.0.1, loopback")
    assert mail_catcher.messages == []

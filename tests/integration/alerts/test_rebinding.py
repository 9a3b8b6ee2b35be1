"""DNS rebinding: a webhook host that resolved to a public address when it was registered and resolves to
loopback when a delivery is sent. The worker looks the name up once per connection, checks every address
and connects to the one it checked (services/alerts/pinned.py), with a resolver the test controls passed
through the bootstrap; the receiver is a real loopback server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.subscriptions import SubscriptionSpec, add_subscription, get_subscription, list_attempts
from services.alerts.urls import system_resolver
from shared.settings import Settings
from tests.integration.alerts.conftest import Receiver, running_stack, wait_for
from tests.unit.store.factories import meeting

pytestmark = pytest.mark.integration

NAME = "hooks.rebinding.test"  # `.test` is reserved (RFC 2606): no real resolver answers for it
PUBLIC = "93.184.215.14"


@dataclass
class RebindingDns:
    """Answers `PUBLIC` for the name until `point_inward`, then 127.0.0.1; other names as the system does."""

    inward: bool = False
    lookups: list[str] = field(default_factory=list)

    def point_inward(self) -> None:
        self.inward = True

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        if host != NAME:
            return await system_resolver(host, port)
        answer = "127.0.0.1" if self.inward else PUBLIC
        self.lookups.append(answer)
        return [answer]


def hook_url(receiver: Receiver) -> str:
    return f"http://{NAME}:{receiver.port}/hook"


async def test_a_name_rebound_to_loopback_is_refused_at_send_time(
    alerts_settings: Settings, engine: AsyncEngine, redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    settings = alerts_settings.model_copy(update={"allow_private_urls": False})
    dns = RebindingDns()
    spec = SubscriptionSpec(channel="webhook", url=hook_url(receiver))
    # Registration sees the public address and accepts the URL.
    sub = await add_subscription(engine, spec, allow_private=False, resolver=dns)
    assert dns.lookups == [PUBLIC]
    dns.point_inward()
    async with running_stack(settings, engine, redis_client, resolver=dns) as stack:
        await stack.publish(meeting("rebound", 1))
        await wait_for(lambda: list_attempts(engine, sub.id), what="an attempt")
        (attempt, *_) = await list_attempts(engine, sub.id)
    assert not attempt.ok and attempt.status_code is None
    assert attempt.error is not None and attempt.error.startswith("refused: ")
    assert f"{NAME!r} resolves to 127.0.0.1" in attempt.error and "MINUTES_ALLOW_PRIVATE_URLS" in attempt.error
    assert dns.lookups[1:] and set(dns.lookups[1:]) == {"127.0.0.1"}  # looked up again when sending
    assert receiver.requests == []  # nothing reached the loopback server
    shown = await get_subscription(engine, sub.id)
    assert shown is not None and shown.pending == 1 and shown.delivered == 0


async def test_loopback_is_delivered_to_when_the_setting_allows_it(
    alerts_settings: Settings, engine: AsyncEngine, redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    assert alerts_settings.allow_private_urls
    dns = RebindingDns(inward=True)
    spec = SubscriptionSpec(channel="webhook", url=hook_url(receiver))
    sub = await add_subscription(engine, spec, allow_private=True, resolver=dns)
    async with running_stack(alerts_settings, engine, redis_client, resolver=dns) as stack:
        await stack.publish(meeting("allowed", 1))
        await wait_for(lambda: len(receiver.on("/hook")) >= 1, what="the delivery")

        async def counted() -> bool:
            shown = await get_subscription(engine, sub.id)
            return shown is not None and shown.delivered == 1

        await wait_for(counted, what="the delivery counted")
    # Delivered at once: counted on the subscription, no row and no attempt of its own.
    assert await list_attempts(engine, sub.id) == []
    # The connection went to the address the resolver gave (the system knows no such name), and the request
    # still names the host: the Host header is the URL's, not the pinned address.
    (got,) = receiver.on("/hook")
    assert got.headers["host"] == f"{NAME}:{receiver.port}"
    # One lookup in all (registration with private addresses allowed looks nothing up): the client connected
    # with the checked answer and did not ask again.
    assert dns.lookups == ["127.0.0.1"]

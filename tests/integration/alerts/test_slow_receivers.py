"""Adversarial receivers (issue 22): one that answers 200 and then drips its body a byte a second, one that
answers with a 200 MB body. Real HTTP servers on loopback (raw asyncio sockets, so the drip is exact), the
store's relay publishing, the alerts app on real Redis and both databases.

The drip must delay only itself: a healthy receiver beside it gets every delivery, including those
published while the drip holds its connection, and the drip's delivery fails at the deadline (connect +
send + whole response), is recorded, and is retried after its backoff. A huge body is read only up to the
cap: the server cannot push more than that plus the sockets' buffers, and the worker's memory stays flat.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import psutil
import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.send import BODY_CAP
from services.alerts.subscriptions import SubscriptionSpec, add_subscription, get_subscription, list_attempts
from shared.contracts.events import decision_event_id
from shared.settings import Settings
from tests.integration.alerts.conftest import Receiver, running_stack, wait_for
from tests.unit.store.factories import doc_id, meeting

pytestmark = pytest.mark.integration


@dataclass
class Exchange:
    """One request the raw server took: when it came, when the connection ended, the bytes it sent."""

    started: float  # monotonic
    wall: float  # the same moment, wall-clock (to compare with recorded times)
    ended: float | None = None
    sent: int = 0


@dataclass
class RawServer:
    """An HTTP/1.1 server on loopback that reads each request whole and answers 200 with a body of
    `body_bytes`, written `chunk` bytes at a time every `interval_s` (0: as fast as the client reads)."""

    body_bytes: int
    chunk: int
    interval_s: float
    exchanges: list[Exchange] = field(default_factory=list)
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    def open(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.ended is None]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        exchange = Exchange(time.monotonic(), time.time())
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            length = next((int(h.split(b":", 1)[1]) for h in lines if h.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            self.exchanges.append(exchange)
            status = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n" % self.body_bytes
            writer.write(status)
            await writer.drain()
            block = b"x" * self.chunk
            while exchange.sent < self.body_bytes:
                writer.write(block)
                await writer.drain()
                exchange.sent += len(block)
                if self.interval_s:
                    await asyncio.sleep(self.interval_s)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: what the tests are about
        finally:
            exchange.ended = time.monotonic()
            writer.close()


@pytest.fixture
async def drip() -> AsyncIterator[RawServer]:
    server = RawServer(body_bytes=100_000, chunk=1, interval_s=1.0)
    await server.start()
    yield server
    await server.stop()


async def test_a_drip_feeding_receiver_delays_only_itself_and_is_retried(
    alerts_settings: Settings,
    engine: AsyncEngine,
    redis_client: aioredis.Redis,
    receiver: Receiver,
    drip: RawServer,
) -> None:
    deadline_s = 12.0
    settings = alerts_settings.model_copy(
        update={"webhook_timeout_s": deadline_s, "alerts_disable_after": 1000, "alerts_backoff_initial_s": 0.5}
    )
    spec = SubscriptionSpec(channel="webhook", url=receiver.url("/ok"))
    healthy = await add_subscription(engine, spec, allow_private=True)
    slow = await add_subscription(engine, SubscriptionSpec(channel="webhook", url=drip.url), allow_private=True)
    async with running_stack(settings, engine, redis_client) as stack:
        assert await stack.publish(meeting("first", 3)) == 3
        await wait_for(lambda: len(receiver.on("/ok")) == 3, limit_s=60, what="the healthy receiver's first three")
        await wait_for(lambda: drip.open(), limit_s=60, what="the drip holding a delivery")
        # Published while the drip holds its connection: the healthy subscription must not wait for it.
        assert await stack.publish(meeting("second", 3)) == 3
        await wait_for(lambda: len(receiver.on("/ok")) == 6, limit_s=60, what="the healthy receiver's next three")
        healthy_done = time.monotonic()
        first = drip.exchanges[0]

        async def failed() -> list:  # type: ignore[type-arg]
            return [a for a in await list_attempts(engine, slow.id) if not a.ok]

        await wait_for(failed, limit_s=deadline_s + 60, what="the drip's delivery recorded as failed")
        await wait_for(lambda: len(drip.exchanges) >= 2, limit_s=60, what="the drip's delivery retried")
        attempt = (await failed())[-1]
        shown = await get_subscription(engine, slow.id)
        ok = await get_subscription(engine, healthy.id)

    # The drip's delivery failed at the deadline (not at a per-read timeout it never trips), after a few
    # bytes of its body, and was recorded so.
    assert attempt.error is not None and "deadline" in attempt.error
    assert deadline_s * 1000 * 0.9 <= attempt.duration_ms <= (deadline_s + 10) * 1000
    assert first.sent < 100  # bytes of the body it had dripped by then (about one a second)
    # Every healthy delivery arrived while the drip's first delivery was still stuck (the server saw the
    # request a moment after the sender began it; the sender gave up `duration` after beginning).
    gave_up = first.started + attempt.duration_ms / 1000 - 0.5
    assert healthy_done < gave_up
    # Retried after its backoff (at least half the initial delay after the failure was recorded), not at
    # once and not never.
    second = drip.exchanges[1]
    assert second.wall - attempt.attempted_at.timestamp() >= settings.alerts_backoff_initial_s / 2 - 0.05
    # Its six events wait for it as rows (the failed one first), in order; the healthy one's were sent from
    # the stream without any.
    assert shown is not None and shown.pending == 6 and shown.delivered == 0 and shown.consecutive_failures >= 1
    assert ok is not None and ok.delivered == 6 and ok.pending == 0
    expected = [decision_event_id(doc_id(seed), p) for seed in ("first", "second") for p in range(3)]
    assert [r.headers["webhook-id"] for r in receiver.on("/ok")] == expected


async def test_a_huge_response_body_is_read_only_up_to_the_cap(
    alerts_settings: Settings, engine: AsyncEngine, redis_client: aioredis.Redis
) -> None:
    huge = RawServer(body_bytes=200 * 2**20, chunk=64 * 1024, interval_s=0.0)
    await huge.start()
    try:
        sub = await add_subscription(engine, SubscriptionSpec(channel="webhook", url=huge.url), allow_private=True)
        rss_before = psutil.Process().memory_info().rss
        async with running_stack(alerts_settings, engine, redis_client) as stack:
            assert await stack.publish(meeting("huge", 1)) == 1

            async def delivered() -> bool:
                shown = await get_subscription(engine, sub.id)
                return shown is not None and shown.delivered == 1

            await wait_for(delivered, limit_s=60, what="the delivery counted")
            await wait_for(lambda: huge.exchanges and not huge.open(), limit_s=30, what="the connection closed")
            rss_after = psutil.Process().memory_info().rss
    finally:
        await huge.stop()
    (exchange,) = huge.exchanges
    # The 200 answered counts as delivered; of the 200 MB body the server could push only what the cap read
    # plus what the sockets buffer before the client closed the connection.
    assert exchange.sent < 16 * 2**20, f"{exchange.sent} bytes went out: the body was read past the cap"
    assert BODY_CAP < 2**20
    assert rss_after - rss_before < 64 * 2**20

"""The alerts worker: reads the public decisions stream in its own group, delivers matching events.

Run: `minutes service alerts`, or `faststream run services.alerts.app:create_app --factory`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import FastStream
from faststream.redis import StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage, RedisStreamMessage
from faststream.specification import AsyncAPI

from services.alerts import bootstrap, handlers
from services.alerts.delivery import release_all
from services.alerts.worker import AlertsDeps, delivery_loop, send_digests
from services.store import db
from shared import streams
from shared.broker import consumer_name, make_broker, resolve_redis_url
from shared.consume import OutageGate
from shared.dead_letter import declare_dead_letter_publisher
from shared.health import Heartbeat
from shared.logging import get_logger
from shared.service import Periodic
from shared.settings import Settings, get_settings

VERSION = "0.1.0"
log = get_logger(__name__)


async def _raw_only(msg: Any) -> None:
    """The handler reads the raw entry (plain JSON in `json`, not FastStream's envelope)."""
    return None


async def _envelope_only(msg: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """FastStream's batch message built from one entry (its batch parser would decode every entry and
    re-encode the batch, which the handler never reads; as in the store)."""
    entries = msg["data"]
    msg["data"] = entries[:1]
    try:
        return await original(msg)
    finally:
        msg["data"] = entries


class _Runtime:
    """Holds the dependencies, created at startup (never at import or app construction)."""

    def __init__(self, settings: Settings, deps: AlertsDeps | None) -> None:
        self.settings = settings
        self._deps = deps
        self.injected = deps is not None
        self.gate = OutageGate(handlers.SERVICE)
        self.loop_task: asyncio.Task[None] | None = None

    @property
    def deps(self) -> AlertsDeps:
        if self._deps is None:
            raise RuntimeError("alerts dependencies not started")
        return self._deps

    def start(self) -> AlertsDeps:
        if self._deps is None:
            self._deps = bootstrap.bootstrap(self.settings)
        return self._deps


def create_app(settings: Settings | None = None, deps: AlertsDeps | None = None) -> FastStream:
    """The alerts app; pass `deps` to use your own engine / Redis client (tests)."""
    settings = settings or get_settings()
    broker = make_broker(resolve_redis_url(settings), "alerts")
    runtime = _Runtime(settings, deps)
    consumer = consumer_name("alerts")

    # Batches of entries: one transaction enqueues the deliveries of all of them.
    @broker.subscriber(
        stream=StreamSub(
            streams.DECISIONS,
            group=streams.ALERTS_GROUP,
            consumer=consumer,
            batch=True,
            max_records=settings.batch_size,
        ),
        title="alerts/decisions",
        description="Public DecisionMade and DecisionRevised events, matched against the subscriptions.",
        parser=_envelope_only,
        decoder=_raw_only,
    )
    async def on_decision(body: Any, msg: RedisBatchStreamMessage) -> None:
        deps = runtime.deps
        await handlers.handle_message(deps, handlers.consume_step(deps, runtime.gate), msg.raw_message)

    @broker.subscriber(
        stream=StreamSub(
            streams.DECISIONS, group=streams.ALERTS_GROUP, consumer=consumer, min_idle_time=settings.claim_idle_ms
        ),
        title="alerts/decisions-reclaim",
        description="Entries left pending by a dead alerts worker.",
        decoder=_raw_only,
    )
    async def on_reclaimed(body: Any, msg: RedisStreamMessage) -> None:
        deps = runtime.deps
        await handlers.handle_message(deps, handlers.consume_step(deps, runtime.gate), msg.raw_message)

    declare_dead_letter_publisher(broker)
    digests = Periodic("alert-digests", settings.alerts_digest_check_s, lambda: send_digests(runtime.deps))

    async def startup() -> None:
        await bootstrap.prepare(runtime.start())

    head = db.head_revision()

    async def not_ready() -> str | None:
        # Ready = Redis answers (the stream it reads) and the database it records deliveries in is migrated.
        deps = runtime.deps
        await asyncio.wait_for(deps.redis.ping(), 2)
        return await asyncio.wait_for(db.not_ready(deps.engine, head), 5)

    heartbeat = Heartbeat(settings.data_dir, "alerts", not_ready)

    async def after_startup() -> None:
        runtime.loop_task = asyncio.create_task(delivery_loop(runtime.deps), name="alert-deliveries")
        digests.start()
        heartbeat.start()

    async def after_shutdown() -> None:
        await heartbeat.stop()
        await digests.stop()
        if runtime.loop_task is not None:
            # The pass in progress finishes and records what it sent (a cancelled send would be sent again
            # by another worker); one that hangs is cancelled after a send's timeout.
            runtime.deps.stopping.set()
            runtime.deps.work.set()
            try:
                await asyncio.wait_for(asyncio.shield(runtime.loop_task), settings.webhook_timeout_s + 5)
            except (TimeoutError, asyncio.CancelledError):
                runtime.loop_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await runtime.loop_task
        try:  # another worker takes over this one's subscriptions at once, not when the leases expire
            await release_all(runtime.deps)
        except Exception as exc:
            log.warning("could not release the subscription leases", error=repr(exc)[:300])
        if not runtime.injected:
            await bootstrap.close(runtime.deps)

    return FastStream(
        broker,
        logger=logging.getLogger("minutes.alerts"),
        on_startup=[startup],
        after_startup=[after_startup],
        after_shutdown=[after_shutdown],
        specification=AsyncAPI(
            title="minutes alerts",
            version=VERSION,
            description=f"Reads {streams.DECISIONS} (group {streams.ALERTS_GROUP}) and delivers matching "
            "decisions to webhooks (Standard Webhooks) and Apprise notifications.",
        ),
    )

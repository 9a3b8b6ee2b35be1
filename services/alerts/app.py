"""The alerts worker: reads the public decisions stream in its own group, delivers matching events.

Run: `minutes service alerts`, or `faststream run services.alerts.app:create_app --factory`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from faststream import FastStream
from faststream.specification import AsyncAPI

from services.alerts import bootstrap, handlers
from services.alerts.delivery import release_all
from services.alerts.worker import AlertsDeps, delivery_loop, send_digests
from services.store import db
from shared import streams
from shared.broker import consumer_name, document_reader, make_broker, resolve_redis_url
from shared.consume import OutageGate
from shared.dead_letter import declare_dead_letter_publisher
from shared.health import Heartbeat
from shared.logging import get_logger
from shared.service import Periodic
from shared.settings import Settings, get_settings
from shared.stream_worker import Entry, GroupWorker

VERSION = "0.1.0"
log = get_logger(__name__)


class _Runtime:
    """Holds the dependencies, created at startup (never at import or app construction)."""

    def __init__(self, settings: Settings, deps: AlertsDeps | None) -> None:
        self.settings = settings
        self._deps = deps
        self.injected = deps is not None
        self.gate = OutageGate(handlers.SERVICE)
        self.loop_task: asyncio.Task[None] | None = None
        self.worker: GroupWorker | None = None

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

    # The AsyncAPI document: what the worker reads (with the stream worker) and writes.
    docs = make_broker(resolve_redis_url(settings), "alerts")
    document_reader(
        docs, streams.DECISIONS, streams.ALERTS_GROUP, consumer, batch=settings.batch_size,
        title="alerts/decisions",
        description="Public DecisionMade and DecisionRevised events, matched against the subscriptions "
        "(shared/stream_worker.py; entries left pending by a dead alerts worker reclaimed).",
    )
    declare_dead_letter_publisher(docs)
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
        deps = runtime.deps
        step = handlers.consume_step(deps, runtime.gate)

        async def handle(entries: list[Entry]) -> None:
            await handlers.handle_entries(deps, step, entries)

        # Batches of entries: one transaction enqueues the deliveries of all of them, one XACK.
        runtime.worker = GroupWorker(
            deps.redis, streams.DECISIONS, streams.ALERTS_GROUP, consumer, handle,
            batch=settings.batch_size, claim_idle_ms=settings.claim_idle_ms, gate=runtime.gate,
        )
        runtime.worker.start()
        runtime.loop_task = asyncio.create_task(delivery_loop(runtime.deps), name="alert-deliveries")
        digests.start()
        heartbeat.start()

    async def on_shutdown() -> None:
        # The batch in hand is finished (and acked) before the database and Redis are closed.
        if runtime.worker is not None:
            await runtime.worker.shutdown()

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
        on_shutdown=[on_shutdown],
        after_shutdown=[after_shutdown],
        specification=AsyncAPI(
            docs,
            title="minutes alerts",
            version=VERSION,
            description=f"Reads {streams.DECISIONS} (group {streams.ALERTS_GROUP}) and delivers matching "
            "decisions to webhooks (Standard Webhooks) and Apprise notifications.",
        ),
    )

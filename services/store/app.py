"""The store service: reads the items stream, persists meetings and decisions, relays the outbox.

Run: `python -m services.store`, or `faststream run services.store.app:create_app --factory`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from faststream import FastStream
from faststream.specification import AsyncAPI
from redis.asyncio import Redis

from services.store import bootstrap, db, handlers
from services.store.bootstrap import StoreDeps
from shared import streams
from shared.broker import consumer_name, document_reader, make_broker, resolve_redis_url
from shared.contracts.events import DecisionMade, DecisionRevised
from shared.dead_letter import declare_dead_letter_publisher
from shared.health import Heartbeat
from shared.inflight import report_in_flight
from shared.retention import DEAD_CONSUMER_IDLE_MS, prune_consumers, trim_acknowledged
from shared.service import Periodic
from shared.settings import Settings, get_settings
from shared.stream_worker import Entry, GroupWorker

VERSION = "0.1.0"


class _Runtime:
    """Holds the dependencies, created at startup (never at import or app construction)."""

    def __init__(self, settings: Settings, deps: StoreDeps | None) -> None:
        self.settings = settings
        self._deps = deps
        self.injected = deps is not None
        self.worker: GroupWorker | None = None

    @property
    def deps(self) -> StoreDeps:
        if self._deps is None:
            raise RuntimeError("store dependencies not started")
        return self._deps

    def start(self) -> StoreDeps:
        if self._deps is None:
            self._deps = bootstrap.bootstrap(self.settings)
        return self._deps


async def _prepared(runtime: _Runtime, consumer: str) -> StoreDeps:
    deps = runtime.start()
    await bootstrap.prepare(deps)
    return deps


def keepalive_for(client: Redis, consumer: str) -> Callable[[Sequence[str]], Awaitable[object]]:
    """XCLAIM to ourselves with JUSTID: resets the entries' idle time without counting a delivery."""

    async def keepalive(message_ids: Sequence[str]) -> None:
        await client.xclaim(streams.ITEMS, streams.STORE_GROUP, consumer, 0, list(message_ids), justid=True)

    return keepalive


def create_app(settings: Settings | None = None, deps: StoreDeps | None = None) -> FastStream:
    """The store app; pass `deps` to use your own engine / Redis client (tests)."""
    settings = settings or get_settings()
    broker = make_broker(resolve_redis_url(settings), "store")
    runtime = _Runtime(settings, deps)
    consumer = consumer_name("store")

    # The AsyncAPI document: what the store reads (with the stream worker) and writes.
    docs = make_broker(resolve_redis_url(settings), "store")
    document_reader(
        docs, streams.ITEMS, streams.STORE_GROUP, consumer, batch=settings.batch_size, title="store/items",
        description="MeetingParsed and AgendaItemParsed events, stored in batches (shared/stream_worker.py; "
        "entries pending longer than claim_idle_ms reclaimed with their delivery counts).",
    )
    # Documentation only: the relay writes this stream itself (plain JSON in one field `json`, not
    # FastStream's binary envelope), but the AsyncAPI document should show subscribers what it carries.
    docs.publisher(
        stream=streams.DECISIONS,
        title="decisions",
        description=f"Public DecisionMade and DecisionRevised events as plain JSON in the field "
        f"`{streams.PUBLIC_FIELD}`, told apart by `event`.",
        schema=DecisionMade | DecisionRevised,
    )
    declare_dead_letter_publisher(docs)

    async def trim() -> None:
        # Bounded stream: drop only item entries the store group has acknowledged; forget dead workers.
        client = await broker.connect()
        await trim_acknowledged(client, {streams.ITEMS: (streams.STORE_GROUP,)})
        await prune_consumers(client, streams.ITEMS, streams.STORE_GROUP, DEAD_CONSUMER_IDLE_MS)

    janitor = Periodic("trim-items", 30.0, trim)

    async def startup() -> None:
        # Groups at id 0 before the subscribers start (FastStream would create them at `$`).
        deps = await _prepared(runtime, consumer)
        await report_in_flight(deps.redis, streams.ITEMS, streams.STORE_GROUP, settings.claim_idle_ms)

    head = db.head_revision()

    async def not_ready() -> str | None:
        # Ready = Redis answers and the database is reachable at this version's schema.
        deps = runtime.deps
        await asyncio.wait_for(deps.redis.ping(), 2)
        return await asyncio.wait_for(db.not_ready(deps.engine, head), 5)

    heartbeat = Heartbeat(settings.data_dir, "store", not_ready)

    async def after_startup() -> None:
        deps = runtime.deps

        async def handle(entries: list[Entry]) -> None:
            await handlers.handle_entries(deps, entries)

        # New entries in batches (one transaction, one XACK per batch); entries left pending longer than
        # claim_idle_ms (a failed batch, a dead worker) reclaimed with their delivery counts.
        runtime.worker = GroupWorker(
            deps.redis, streams.ITEMS, streams.STORE_GROUP, consumer, handle,
            batch=settings.batch_size, claim_idle_ms=settings.claim_idle_ms, gate=deps.gate,
            keepalive_s=deps.keepalive_s,
        )
        runtime.worker.start()
        runtime.deps.relay.start()
        runtime.deps.indexer.start()
        janitor.start()
        heartbeat.start()

    async def on_shutdown() -> None:
        # The batch in hand is finished (stored and acked) before the relay's last flush.
        if runtime.worker is not None:
            await runtime.worker.shutdown()

    async def after_shutdown() -> None:
        # After the stream worker stopped, so the outbox rows of the last batches are flushed too.
        deps = runtime.deps
        await heartbeat.stop()
        await janitor.stop()
        await deps.relay.stop(flush=True)
        await deps.indexer.stop(flush=True)
        if not runtime.injected:
            await bootstrap.close(deps)

    return FastStream(
        broker,
        logger=logging.getLogger("minutes.store"),
        on_startup=[startup],
        after_startup=[after_startup],
        on_shutdown=[on_shutdown],
        after_shutdown=[after_shutdown],
        specification=AsyncAPI(
            docs,
            title="minutes store",
            version=VERSION,
            description="Persists parsed meetings and publishes DecisionMade (plain JSON) on "
            f"{streams.DECISIONS} through a transactional outbox.",
        ),
    )

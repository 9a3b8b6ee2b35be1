"""The store service: reads the items stream, persists meetings and decisions, relays the outbox.

Run: `python -m services.store`, or `faststream run services.store.app:create_app --factory`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from faststream import FastStream
from faststream.redis import StreamSub
from faststream.redis.annotations import RedisBatchStreamMessage, RedisStreamMessage
from faststream.specification import AsyncAPI
from redis.asyncio import Redis

from services.store import bootstrap, handlers
from services.store.bootstrap import StoreDeps
from shared import streams
from shared.broker import consumer_name, make_broker, resolve_redis_url
from shared.contracts.events import DecisionMade, DecisionRevised
from shared.dead_letter import declare_dead_letter_publisher
from shared.inflight import report_in_flight
from shared.retention import DEAD_CONSUMER_IDLE_MS, prune_consumers, trim_acknowledged
from shared.service import Periodic
from shared.settings import Settings, get_settings

VERSION = "0.1.0"


class _Runtime:
    """Holds the dependencies, created at startup (never at import or app construction)."""

    def __init__(self, settings: Settings, deps: StoreDeps | None) -> None:
        self.settings = settings
        self._deps = deps
        self.injected = deps is not None

    @property
    def deps(self) -> StoreDeps:
        if self._deps is None:
            raise RuntimeError("store dependencies not started")
        return self._deps

    def start(self) -> StoreDeps:
        if self._deps is None:
            self._deps = bootstrap.bootstrap(self.settings)
        return self._deps


async def _envelope_only(msg: Any, original: Callable[[Any], Awaitable[Any]]) -> Any:
    """Build FastStream's batch message without decoding its entries: its batch parser decodes every entry
    and re-encodes the batch as one JSON body (a tenth of the store's CPU), which the handler never reads."""
    entries = msg["data"]
    # One entry is enough for the message's headers (correlation id); the rest are skipped.
    msg["data"] = entries[:1]
    try:
        return await original(msg)
    finally:
        msg["data"] = entries  # the handler reads the entries (and FastStream acks the ids) from here


async def _raw_only(msg: Any) -> None:
    """Skip FastStream's body decoding: the handler validates each raw entry itself (so a bad one is
    dead-lettered alone), and decoding the batch twice cost a fifth of the store's CPU."""
    return None


async def _prepared(runtime: _Runtime, consumer: str) -> StoreDeps:
    deps = runtime.start()
    await bootstrap.prepare(deps)
    if deps.keepalive is None:
        deps.keepalive = keepalive_for(deps.redis, consumer)
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

    # Normal reader: new entries in batches, one transaction and one XACK per batch.
    @broker.subscriber(
        stream=StreamSub(
            streams.ITEMS,
            group=streams.STORE_GROUP,
            consumer=consumer,
            batch=True,
            max_records=settings.batch_size,
        ),
        title="store/items",
        description="MeetingParsed and AgendaItemParsed events, stored in batches.",
        parser=_envelope_only,
        decoder=_raw_only,
    )
    async def on_items(body: Any, msg: RedisBatchStreamMessage) -> None:
        await handlers.handle_entries(runtime.deps, handlers.entries_of(msg.raw_message))

    # Reclaimer: only XAUTOCLAIMs entries left pending (failed, or of a dead worker) for claim_idle_ms.
    @broker.subscriber(
        stream=StreamSub(
            streams.ITEMS,
            group=streams.STORE_GROUP,
            consumer=consumer,
            min_idle_time=settings.claim_idle_ms,
        ),
        title="store/items-reclaim",
        description="Entries pending longer than claim_idle_ms, retried one at a time.",
        decoder=_raw_only,
    )
    async def on_reclaimed(body: Any, msg: RedisStreamMessage) -> None:
        await handlers.handle_entries(runtime.deps, handlers.entries_of(msg.raw_message))

    # Documentation only: the relay writes this stream itself (plain JSON in one field `json`, not
    # FastStream's binary envelope), but the AsyncAPI document should show subscribers what it carries.
    broker.publisher(
        stream=streams.DECISIONS,
        title="decisions",
        description=f"Public DecisionMade and DecisionRevised events as plain JSON in the field "
        f"`{streams.PUBLIC_FIELD}`, told apart by `event`.",
        schema=DecisionMade | DecisionRevised,
    )
    declare_dead_letter_publisher(broker)

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

    async def after_startup() -> None:
        runtime.deps.relay.start()
        janitor.start()

    async def after_shutdown() -> None:
        # After the subscribers stopped, so the outbox rows of the last batches are flushed too.
        deps = runtime.deps
        await janitor.stop()
        await deps.relay.stop(flush=True)
        if not runtime.injected:
            await bootstrap.close(deps)

    return FastStream(
        broker,
        logger=logging.getLogger("minutes.store"),
        on_startup=[startup],
        after_startup=[after_startup],
        after_shutdown=[after_shutdown],
        specification=AsyncAPI(
            title="minutes store",
            version=VERSION,
            description="Persists parsed meetings and publishes DecisionMade (plain JSON) on "
            f"{streams.DECISIONS} through a transactional outbox.",
        ),
    )

"""The store service: reads the items stream, persists meetings and decisions, relays the outbox.

Run: `python -m services.store`, or `faststream run services.store.app:create_app --factory`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from faststream import FastStream
from faststream.specification import AsyncAPI
from redis.asyncio import Redis

from services.store import bootstrap
from services.store.bootstrap import StoreDeps
from shared import streams
from shared.broker import document_reader, make_broker, resolve_redis_url
from shared.contracts.events import DecisionMade, DecisionRevised
from shared.dead_letter import declare_dead_letter_publisher
from shared.settings import Settings, get_settings

VERSION = "0.1.0"


def keepalive_for(client: Redis, consumer: str) -> Callable[[Sequence[str]], Awaitable[object]]:
    """XCLAIM to ourselves with JUSTID: resets the entries' idle time without counting a delivery."""

    async def keepalive(message_ids: Sequence[str]) -> None:
        await client.xclaim(streams.ITEMS, streams.STORE_GROUP, consumer, 0, list(message_ids), justid=True)

    return keepalive


def create_app(settings: Settings | None = None, deps: StoreDeps | None = None) -> FastStream:
    """The store app; pass `deps` (from `bootstrap.bootstrap`) to use your own engine / Redis client (tests)."""
    settings = settings or get_settings()
    deps = deps or bootstrap.bootstrap(settings)
    broker = make_broker(resolve_redis_url(settings), "store")

    # The AsyncAPI document: what the store reads (with the stream worker) and writes.
    docs = make_broker(resolve_redis_url(settings), "store")
    document_reader(
        docs, streams.ITEMS, streams.STORE_GROUP, deps.consumer, batch=settings.batch_size, title="store/items",
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

    async def start() -> None:
        await bootstrap.start(deps)

    async def close() -> None:
        await bootstrap.close(deps)

    return FastStream(
        broker,
        logger=logging.getLogger("minutes.store"),
        after_startup=[start],
        on_shutdown=[close],
        specification=AsyncAPI(
            docs,
            title="minutes store",
            version=VERSION,
            description="Persists parsed meetings and publishes DecisionMade (plain JSON) on "
            f"{streams.DECISIONS} through a transactional outbox.",
        ),
    )

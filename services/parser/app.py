"""The parser service: a consumer group of workers turning DocumentReceived into meeting and item events."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faststream import FastStream
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.annotations import RedisStreamMessage
from faststream.specification import AsyncAPI

from services.parser.bootstrap import bootstrap
from services.parser.handlers import ParserDeps, handle_document
from services.parser.pool import ParsePool
from shared import streams
from shared.broker import consumer_name, ensure_groups, make_broker, resolve_redis_url
from shared.contracts.events import AgendaItemParsed, DocumentReceived, MeetingParsed
from shared.dead_letter import declare_dead_letter_publisher
from shared.health import Heartbeat
from shared.inflight import report_in_flight
from shared.logging import get_logger
from shared.retention import DEAD_CONSUMER_IDLE_MS, prune_consumers, trim_acknowledged
from shared.service import Periodic
from shared.settings import Settings

log = get_logger(__name__)

# Few entries per read: a worker should not hoard documents in its pending list while the others idle.
PREFETCH = 4


def register(broker: RedisBroker, settings: Settings, deps: ParserDeps, consumer: str) -> None:
    """Attach the reader and the reclaimer of the documents stream to the broker."""
    items = broker.publisher(
        stream=streams.ITEMS,
        title=streams.ITEMS,
        description="MeetingParsed, then one AgendaItemParsed per item of the document.",
        schema=MeetingParsed | AgendaItemParsed,
    )
    reader = StreamSub(streams.DOCUMENTS, group=streams.PARSER_GROUP, consumer=consumer, max_records=PREFETCH)
    # The reclaimer only runs XAUTOCLAIM: it finishes entries a dead worker left pending.
    reclaimer = StreamSub(
        streams.DOCUMENTS, group=streams.PARSER_GROUP, consumer=consumer, min_idle_time=settings.claim_idle_ms
    )

    async def on_new(body: Any, msg: RedisStreamMessage) -> None:
        # Read with `>`: never delivered before, so this is delivery 1 (no XPENDING round trip needed).
        ids = msg.raw_message.get("message_ids") or [b""]
        await handle_document(body, ids[0].decode(), 1, deps)

    async def on_reclaimed(body: Any, msg: RedisStreamMessage) -> None:
        ids = msg.raw_message.get("message_ids") or [b""]
        # Deliveries as Redis counts them (XPENDING), so restarts and reclaims all count toward the limit.
        deliveries = await msg.get_delivery_count()
        await handle_document(body, ids[0].decode(), deliveries, deps)

    async def keepalive(message_id: str) -> None:
        client = await broker.connect()
        await client.xclaim(streams.DOCUMENTS, streams.PARSER_GROUP, consumer, 0, [message_id], justid=True)

    assert deps.step is not None
    deps.step.keepalive = keepalive
    # Well inside the reclaim idle time: a message being handled is never taken for a dead worker's.
    deps.step.keepalive_s = max(0.2, settings.claim_idle_ms / 1000 / 4)
    description = "Documents to parse (DocumentReceived)."
    broker.subscriber(stream=reader, title=streams.DOCUMENTS, description=description)(on_new)
    broker.subscriber(stream=reclaimer, title=f"{streams.DOCUMENTS}#reclaim", description=description)(on_reclaimed)
    declare_dead_letter_publisher(broker)
    _ = items, DocumentReceived  # the publisher object documents the items stream in AsyncAPI


def create_app(settings: Settings, deps: ParserDeps | None = None, broker: RedisBroker | None = None) -> FastStream:
    """Build the parser app; nothing connects until it starts."""
    broker = broker or make_broker(resolve_redis_url(settings), "parser")
    deps = deps or bootstrap(settings, broker)
    register(broker, settings, deps, consumer_name("parser"))

    async def trim() -> None:
        client = await broker.connect()
        await trim_acknowledged(client, {streams.DOCUMENTS: (streams.PARSER_GROUP,)})
        await prune_consumers(client, streams.DOCUMENTS, streams.PARSER_GROUP, DEAD_CONSUMER_IDLE_MS)

    janitor = Periodic("trim-documents", 30.0, trim)

    async def not_ready() -> str | None:
        # Ready = the broker answers and a parse child is there to take the next document.
        client = await broker.connect()
        await asyncio.wait_for(client.ping(), 2)
        if isinstance(deps.parser, ParsePool):
            return await deps.parser.ensure_child()
        return None

    heartbeat = Heartbeat(settings.data_dir, "parser", not_ready)

    async def on_startup() -> None:
        if isinstance(deps.parser, ParsePool):
            deps.parser.start()
        client = await broker.connect()
        await ensure_groups(client)
        await report_in_flight(client, streams.DOCUMENTS, streams.PARSER_GROUP, settings.claim_idle_ms)

    async def after_startup() -> None:
        janitor.start()
        heartbeat.start()
        log.info("parser ready", max_deliveries=settings.max_deliveries, claim_idle_ms=settings.claim_idle_ms)

    async def on_shutdown() -> None:
        await heartbeat.stop()
        await janitor.stop()

    async def after_shutdown() -> None:
        # Only after the subscribers stopped: in-flight parses finish (or their handlers are cancelled after
        # the broker's graceful timeout); closing the pool earlier left handlers waiting on a closed pipe.
        if isinstance(deps.parser, ParsePool):
            deps.parser.close()

    return FastStream(
        broker,
        logger=logging.getLogger("minutes.parser.app"),
        on_startup=[on_startup],
        after_startup=[after_startup],
        on_shutdown=[on_shutdown],
        after_shutdown=[after_shutdown],
        specification=AsyncAPI(title="minutes parser", version="1.0.0", description=__doc__),
    )

"""The parser service: a consumer group of workers turning DocumentReceived into meeting and item events."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from faststream import FastStream
from faststream.redis import RedisBroker
from faststream.specification import AsyncAPI

from services.parser.bootstrap import bootstrap
from services.parser.handlers import ParserDeps, handle_document
from services.parser.pool import ParsePool
from shared import streams
from shared.broker import consumer_name, document_reader, ensure_groups, make_broker, resolve_redis_url
from shared.contracts.events import AgendaItemParsed, MeetingParsed
from shared.dead_letter import declare_dead_letter_publisher
from shared.health import Heartbeat
from shared.inflight import report_in_flight
from shared.logging import get_logger
from shared.retention import DEAD_CONSUMER_IDLE_MS, prune_consumers, trim_acknowledged
from shared.service import Periodic
from shared.settings import Settings
from shared.stream_worker import Entry, GroupWorker

log = get_logger(__name__)

# Few entries per read: a worker should not hoard documents in its pending list while the others idle.
PREFETCH = 4


def _body(entry: Entry) -> Any:
    """The entry's body as the handler takes it: the decoded JSON object, else the text (dead-lettered)."""
    try:
        return orjson.loads(entry.payload)
    except orjson.JSONDecodeError:
        return entry.text


class DocumentsReader:
    """The documents stream's reader (shared/stream_worker.py): a few entries per read, each parsed under
    the shared consume rule; entries a dead worker left pending are reclaimed with their delivery counts."""

    def __init__(self, broker: RedisBroker, settings: Settings, deps: ParserDeps, consumer: str) -> None:
        self.broker, self.settings, self.deps, self.consumer = broker, settings, deps, consumer
        self.worker: GroupWorker | None = None

    async def _handle(self, entries: list[Entry]) -> None:
        for entry in entries:
            # Deliveries as Redis counts them (a new entry: 1; reclaimed: XPENDING), so restarts and
            # reclaims all count toward the limit.
            await handle_document(_body(entry), entry.id, entry.deliveries, self.deps)

    async def start(self) -> None:
        """Start reading (the broker's connection is shared)."""
        client = await self.broker.connect()
        assert self.deps.step is not None
        # The worker keeps the entries in hand alive; the step's own per-message keepalive is not needed.
        self.deps.step.keepalive = None
        self.worker = GroupWorker(
            client, streams.DOCUMENTS, streams.PARSER_GROUP, self.consumer, self._handle,
            batch=PREFETCH, claim_idle_ms=self.settings.claim_idle_ms, gate=self.deps.step.gate,
        )
        self.worker.start()

    async def stop(self) -> None:
        """Finish the entries in hand (or be cancelled with them: they stay pending for a reclaim)."""
        if self.worker is not None:
            await self.worker.shutdown()


def register(
    broker: RedisBroker, settings: Settings, deps: ParserDeps, consumer: str, docs: RedisBroker | None = None
) -> DocumentsReader:
    """Declare the streams the parser reads and writes on `docs` (a broker for the AsyncAPI document only,
    never started) and return the reader of the documents stream."""
    if docs is not None:
        document_reader(
            docs, streams.DOCUMENTS, streams.PARSER_GROUP, consumer, batch=PREFETCH, title=streams.DOCUMENTS,
            one_at_a_time=True,
            description="Documents to parse (DocumentReceived); a few per read (shared/stream_worker.py), "
            "entries a dead worker left pending reclaimed.",
        )
        docs.publisher(
            stream=streams.ITEMS,
            title=streams.ITEMS,
            description="MeetingParsed, then one AgendaItemParsed per item of the document.",
            schema=MeetingParsed | AgendaItemParsed,
        )
        declare_dead_letter_publisher(docs)
    return DocumentsReader(broker, settings, deps, consumer)


def create_app(settings: Settings, deps: ParserDeps | None = None, broker: RedisBroker | None = None) -> FastStream:
    """Build the parser app; nothing connects until it starts."""
    broker = broker or make_broker(resolve_redis_url(settings), "parser")
    deps = deps or bootstrap(settings, broker)
    docs = make_broker(resolve_redis_url(settings), "parser")
    reader = register(broker, settings, deps, consumer_name("parser"), docs)

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
        await reader.start()
        janitor.start()
        heartbeat.start()
        log.info("parser ready", max_deliveries=settings.max_deliveries, claim_idle_ms=settings.claim_idle_ms)

    async def on_shutdown() -> None:
        await reader.stop()
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
        specification=AsyncAPI(docs, title="minutes parser", version="1.0.0", description=__doc__),
    )

"""The parser service: a consumer group of workers turning DocumentReceived into meeting and item events."""

from __future__ import annotations

import logging

from faststream import FastStream
from faststream.redis import RedisBroker
from faststream.specification import AsyncAPI

from services.parser import bootstrap
from services.parser.handlers import ParserDeps
from shared import streams
from shared.broker import document_reader, make_broker, resolve_redis_url
from shared.contracts.events import AgendaItemParsed, MeetingParsed
from shared.dead_letter import declare_dead_letter_publisher
from shared.settings import Settings, get_settings


def document(docs: RedisBroker, consumer: str) -> None:
    """Declare the streams the parser reads and writes on `docs`, a broker for the AsyncAPI document only
    (never started): the documents stream is read by the stream worker, not by a FastStream subscriber."""
    document_reader(
        docs, streams.DOCUMENTS, streams.PARSER_GROUP, consumer, batch=bootstrap.PREFETCH, title=streams.DOCUMENTS,
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


def create_app(settings: Settings | None = None, deps: ParserDeps | None = None) -> FastStream:
    """The parser app; pass `deps` (from `bootstrap.bootstrap`, with its broker) to use your own parser,
    blob store or broker (tests). Nothing connects until it starts."""
    settings = settings or get_settings()
    deps = deps or bootstrap.bootstrap(settings)
    assert deps.broker is not None
    docs = make_broker(resolve_redis_url(settings), "parser")
    document(docs, deps.consumer)

    async def start() -> None:
        await bootstrap.start(deps)

    async def close() -> None:
        await bootstrap.close(deps)

    return FastStream(
        deps.broker,
        logger=logging.getLogger("minutes.parser.app"),
        after_startup=[start],
        on_shutdown=[close],
        specification=AsyncAPI(docs, title="minutes parser", version="1.0.0", description=__doc__),
    )

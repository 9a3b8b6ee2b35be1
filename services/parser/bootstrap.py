"""Wires the parser's dependencies: real ones for the service, fakes or real ones for tests."""

from __future__ import annotations

from typing import Any

from faststream.redis import RedisBroker
from redis.asyncio import Redis

from services.parser.handlers import Parser, ParserDeps
from services.parser.pool import ParsePool
from shared import streams
from shared.blobs import BlobStore, open_blob_store
from shared.contracts.events import AgendaItemParsed, MeetingParsed
from shared.dead_letter import dead_letter
from shared.settings import Settings


class BrokerOutbox:
    """Publishes a document's events through FastStream in one pipelined round trip."""

    def __init__(self, broker: RedisBroker) -> None:
        self.broker = broker

    async def _client(self) -> Redis:
        client: Redis = await self.broker.connect()
        return client

    async def emit(self, events: list[MeetingParsed | AgendaItemParsed]) -> None:
        """XADD every event in one MULTI/EXEC; the message is acked only after this returns.

        A transaction, not a bare pipeline: Redis serves a blocked reader after each command, so a store
        waiting in XREADGROUP got a document's first event alone and paid a transaction for it before the
        rest; after EXEC it reads the whole document at once (and never half of one).
        """
        client = await self._client()
        async with client.pipeline(transaction=True) as pipe:
            for event in events:
                await self.broker.publish(event, stream=streams.ITEMS, pipeline=pipe)
            await pipe.execute()

    async def dead_letter(self, event: Any) -> None:
        """Append to the dead-letter stream."""
        await dead_letter(await self._client(), event)


def bootstrap(
    settings: Settings,
    broker: RedisBroker,
    *,
    parser: Parser | None = None,
    blobs: BlobStore | None = None,
    outbox: Any = None,
) -> ParserDeps:
    """The parser handler's dependencies; anything passed in replaces the real one."""
    return ParserDeps(
        blobs=blobs or open_blob_store(settings),
        parser=parser or ParsePool(settings.parse_timeout_s, settings.parse_memory_mb),
        outbox=outbox or BrokerOutbox(broker),
        max_deliveries=settings.max_deliveries,
    )

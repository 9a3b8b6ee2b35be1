"""Wires the parser's dependencies: real ones for the service, fakes or real ones for tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream.redis import RedisBroker
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from services.parser.handlers import Parser, ParserDeps
from services.parser.pool import ParsePool
from shared import streams
from shared.blobs import BlobStore, open_blob_store
from shared.broker import ENVELOPE_FIELD, correlation_id, stream_envelope
from shared.dead_letter import dead_letter
from shared.settings import Settings

# XADD of every body given, inside one script: atomic like MULTI/EXEC, one command and one reply instead
# of one queued command and one QUEUED reply per event (redis-py's per-command packing and parsing was a
# third of the worker's CPU). Redis checks OOM and refused writes before a script's first write and never
# between its writes, so a refusal never leaves half a document on the stream.
_XADD_ALL = f"""
for i = 1, #ARGV do
  redis.call('XADD', KEYS[1], '*', '{ENVELOPE_FIELD}', ARGV[i])
end
return #ARGV
"""


class BrokerOutbox:
    """Publishes a document's events on the items stream in one atomic round trip."""

    def __init__(self, broker: RedisBroker) -> None:
        self.broker = broker
        self._script: AsyncScript | None = None
        self._script_client: Redis | None = None

    async def _client(self) -> Redis:
        client: Redis = await self.broker.connect()
        return client

    async def emit(self, bodies: Sequence[bytes]) -> None:
        """XADD every event in one atomic script; the message is acked only after this returns.

        Atomic, not a bare pipeline: Redis serves a blocked reader after each command, so a store waiting
        in XREADGROUP got a document's first event alone and paid a transaction for it before the rest;
        after the script it reads the whole document at once (and never half of one).

        Each entry is what `broker.publish(event)` writes (FastStream's envelope around the event's JSON),
        framed here directly: FastStream's publish path re-serialised each event and cost more CPU than
        the document's parse took to serialise it.
        """
        client = await self._client()
        if self._script is None or self._script_client is not client:
            self._script, self._script_client = client.register_script(_XADD_ALL), client
        # One correlation id for the document's events: they belong together (and it is one uuid, not 30).
        correlation = correlation_id()
        await self._script(keys=[streams.ITEMS], args=[stream_envelope(body, correlation) for body in bodies])

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

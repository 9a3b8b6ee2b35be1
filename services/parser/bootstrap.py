"""The parser's one bootstrap shape (docs/services.md): `bootstrap` wires the dependencies (no I/O; tests pass
fakes or their own broker through it), `start` starts the parse process and reads the documents stream,
`close` finishes the documents in hand and stops what `start` started."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from faststream.redis import RedisBroker
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from services.parser.handlers import Parser, ParserDeps, handle_entries
from services.parser.pool import ParsePool
from shared import streams
from shared.blobs import BlobStore, open_blob_store
from shared.broker import (
    ENVELOPE_FIELD,
    correlation_id,
    ensure_groups,
    make_broker,
    resolve_redis_url,
    stream_envelope,
)
from shared.dead_letter import dead_letter
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
        args = []
        for i, body in enumerate(bodies):
            args.append(stream_envelope(body, correlation))
            if isinstance(bodies, list):  # let the body go once framed: a large document is not held twice
                bodies[i] = b""
        await self._script(keys=[streams.ITEMS], args=args)

    async def dead_letter(self, event: Any) -> None:
        """Append to the dead-letter stream."""
        await dead_letter(await self._client(), event)


def bootstrap(
    settings: Settings,
    *,
    broker: RedisBroker | None = None,
    parser: Parser | None = None,
    blobs: BlobStore | None = None,
    outbox: Any = None,
) -> ParserDeps:
    """The parser's dependencies; anything passed in replaces the real one. Nothing connects yet (the
    parse process starts in `start`). The broker is the app's: the outbox publishes through it."""
    broker = broker or make_broker(resolve_redis_url(settings), "parser")
    return ParserDeps(
        blobs=blobs or open_blob_store(settings),
        parser=parser or ParsePool(settings.parse_timeout_s, settings.parse_memory_mb),
        outbox=outbox or BrokerOutbox(broker),
        max_deliveries=settings.max_deliveries,
        settings=settings,
        broker=broker,
    )


async def start(deps: ParserDeps) -> None:
    """Start the parse process, create the groups at id 0, then read the documents stream a few entries at
    a time (entries a dead worker left pending reclaimed with their delivery counts), trim it, beat."""
    assert deps.settings is not None and deps.broker is not None and deps.step is not None
    settings, broker = deps.settings, deps.broker
    if isinstance(deps.parser, ParsePool):
        deps.parser.start()
    client = await broker.connect()
    await ensure_groups(client)
    await report_in_flight(client, streams.DOCUMENTS, streams.PARSER_GROUP, settings.claim_idle_ms)

    async def handle(entries: list[Entry]) -> None:
        await handle_entries(deps, entries)

    async def trim() -> None:
        await trim_acknowledged(client, {streams.DOCUMENTS: (streams.PARSER_GROUP,)})
        await prune_consumers(client, streams.DOCUMENTS, streams.PARSER_GROUP, DEAD_CONSUMER_IDLE_MS)

    async def not_ready() -> str | None:
        # Ready = the broker answers and a parse child is there to take the next document.
        await asyncio.wait_for(client.ping(), 2)
        if isinstance(deps.parser, ParsePool):
            return await deps.parser.ensure_child()
        return None

    # The worker keeps the entries in hand alive; the step's own per-message keepalive is not needed.
    deps.step.keepalive = None
    deps.worker = GroupWorker(
        client, streams.DOCUMENTS, streams.PARSER_GROUP, deps.consumer, handle,
        batch=PREFETCH, claim_idle_ms=settings.claim_idle_ms, gate=deps.step.gate,
    )
    deps.worker.start()
    deps.janitor = Periodic("trim-documents", 30.0, trim)
    deps.janitor.start()
    deps.heartbeat = Heartbeat(settings.data_dir, "parser", not_ready)
    deps.heartbeat.start()
    log.info("parser ready", max_deliveries=settings.max_deliveries, claim_idle_ms=settings.claim_idle_ms)


async def close(deps: ParserDeps) -> None:
    """Finish the documents in hand (or be cancelled with them: they stay pending for a reclaim), stop the
    trimming and the heartbeat, then close the parse process."""
    if deps.worker is not None:
        await deps.worker.shutdown()
    if deps.heartbeat is not None:
        await deps.heartbeat.stop()
    if deps.janitor is not None:
        await deps.janitor.stop()
    # Only after the reader stopped: in-flight parses finish first; closing the pool earlier left handlers
    # waiting on a closed pipe.
    if isinstance(deps.parser, ParsePool):
        deps.parser.close()

"""Wiring: the broker with its declared DocumentReceived publisher, the Redis-backed seen set, the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream.redis import RedisBroker, StreamSub
from faststream.redis.publisher.usecase import StreamPublisher
from redis.asyncio import Redis

from services.ingest.handlers import IngestDeps
from shared import streams
from shared.blobs import BlobStore, HashFactory, open_blob_store
from shared.broker import make_broker
from shared.contracts.events import DeadLettered, DocumentReceived
from shared.dead_letter import dead_letter, declare_dead_letter_publisher
from shared.settings import Settings

# Spelled in shared/streams.py; kept here under their old names for the modules that import them from here.
SEEN_KEY = streams.SEEN_KEY
REJECTED_KEY = streams.REJECTED_KEY


def declare_publisher(broker: RedisBroker) -> StreamPublisher:
    """The DocumentReceived publisher, declared so the AsyncAPI document shows it."""
    return broker.publisher(
        stream=StreamSub(streams.DOCUMENTS),
        schema=DocumentReceived,
        title=f"{streams.DOCUMENTS}:DocumentReceived",
        description="A complete file from the inbox; its bytes are in the blob store under blob_ref.",
    )


def build_broker(redis_url: str) -> tuple[RedisBroker, StreamPublisher]:
    """The ingest broker (nothing connects yet) and its DocumentReceived publisher."""
    broker = make_broker(redis_url, "ingest")
    declare_dead_letter_publisher(broker)
    return broker, declare_publisher(broker)


class RedisSeenStore:
    """The seen set as Redis hashes; one round trip per batch."""

    def __init__(self, client: Redis) -> None:
        self.client = client

    async def known(self, document_ids: Sequence[str]) -> list[bool]:
        """For each id, whether it was published before."""
        if not document_ids:
            return []
        values = await self.client.hmget(SEEN_KEY, list(document_ids))
        return [value is not None for value in values]

    async def mark(self, names_by_id: dict[str, str]) -> None:
        """HSETNX each id: the first name a document arrived under is kept."""
        async with self.client.pipeline(transaction=False) as pipe:
            for document_id, name in names_by_id.items():
                pipe.hsetnx(SEEN_KEY, document_id, name)
            await pipe.execute()

    async def reported(self, keys_and_markers: dict[str, str]) -> set[str]:
        """The paths whose rejection was already dead-lettered for this version of the file."""
        keys = list(keys_and_markers)
        if not keys:
            return set()
        values = await self.client.hmget(REJECTED_KEY, keys)
        return {
            key
            for key, value in zip(keys, values, strict=True)
            if value is not None and _text(value) == keys_and_markers[key]
        }

    async def mark_reported(self, keys_and_markers: dict[str, str]) -> None:
        """Remember the rejections just reported."""
        if keys_and_markers:
            await self.client.hset(REJECTED_KEY, mapping=keys_and_markers)  # type: ignore[arg-type]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class StreamOutbox:
    """Publishes with the FastStream publisher; pipelined through `client` when there is one.

    Under `TestRedisBroker` pass `client=None` (its fake producer ignores pipelines) and a `dead_letters`
    callable; otherwise DeadLettered goes to the dead-letter stream as plain JSON via `shared.dead_letter`.
    """

    def __init__(self, publisher: Any, client: Redis | None, dead_letters: Any = None) -> None:
        self.publisher = publisher
        self.client = client
        self._dead_letters = dead_letters

    async def emit(self, events: Sequence[DocumentReceived]) -> None:
        """Publish the events in one round trip (no MAXLEN: trimming unread entries would lose documents)."""
        if self.client is None:
            for event in events:
                await self.publisher.publish(event)
            return
        async with self.client.pipeline(transaction=False) as pipe:
            for event in events:
                await self.publisher.publish(event, pipeline=pipe)
            await pipe.execute()

    async def dead_letter(self, event: DeadLettered) -> None:
        """Append a DeadLettered event."""
        if self._dead_letters is not None:
            await self._dead_letters(event)
        elif self.client is not None:
            await dead_letter(self.client, event)
        else:
            raise RuntimeError("StreamOutbox needs a Redis client or a dead_letters callable")


def bootstrap(
    settings: Settings,
    publisher: Any,
    client: Redis,
    blobs: BlobStore | None = None,
    *,
    watch_inbox: bool = True,
    hash_factory: HashFactory | None = None,
) -> IngestDeps:
    """The ingest handlers' dependencies on a Redis client (the same shape as the parser's and the store's
    `bootstrap`); a `blobs` passed in replaces the real store; `watch_inbox=False` (backfill) never moves
    files; a `hash_factory` passed in replaces sha256's (a test counts the hashing with it)."""
    store = blobs or open_blob_store(settings)
    seen = RedisSeenStore(client)
    outbox = StreamOutbox(publisher, client)
    if watch_inbox:
        deps = IngestDeps.from_settings(settings, store, seen, outbox)
    else:
        deps = IngestDeps(blobs=store, seen=seen, outbox=outbox, max_file_mb=settings.max_file_mb)
    if hash_factory is not None:
        deps.hash_factory = hash_factory
    return deps

"""The ingest service's one bootstrap shape (docs/services.md): `bootstrap` wires the dependencies — the broker
with its declared DocumentReceived publisher, the Redis-backed seen set, the outbox — with no I/O (backfill and
tests pass their own client, publisher or blob store through it); `start` watches the inbox (and the bucket
and the followed portals); `close` stops watching and releases what `bootstrap` created."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from faststream.redis import RedisBroker, StreamSub
from faststream.redis.publisher.usecase import StreamPublisher
from redis.asyncio import Redis

from services.ingest.handlers import IngestDeps
from shared import streams
from shared.blobs import BlobStore, HashFactory, open_blob_store
from shared.broker import ensure_groups, make_broker, resolve_redis_url
from shared.contracts.events import DeadLettered, DocumentReceived
from shared.dead_letter import dead_letter, declare_dead_letter_publisher
from shared.health import Heartbeat
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

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
    *,
    redis: Redis | None = None,
    publisher: Any = None,
    blobs: BlobStore | None = None,
    watch_inbox: bool = True,
    hash_factory: HashFactory | None = None,
) -> IngestDeps:
    """The ingest dependencies; anything passed in replaces the real one, nothing connects yet. Without a
    `publisher` the broker and its publisher are made here (the app runs that broker); `watch_inbox=False`
    (backfill) never moves files; a `hash_factory` replaces sha256's (a test counts the hashing with it)."""
    broker = None
    if publisher is None:
        broker, publisher = build_broker(resolve_redis_url(settings))
    client = redis or Redis.from_url(resolve_redis_url(settings))
    store = blobs or open_blob_store(settings)
    seen = RedisSeenStore(client)
    outbox = StreamOutbox(publisher, client)
    if watch_inbox:
        deps = IngestDeps.from_settings(settings, store, seen, outbox)
    else:
        deps = IngestDeps(blobs=store, seen=seen, outbox=outbox, max_file_mb=settings.max_file_mb)
    if hash_factory is not None:
        deps.hash_factory = hash_factory
    deps.settings, deps.redis, deps.broker, deps.owns_redis = settings, client, broker, redis is None
    return deps


async def start(deps: IngestDeps) -> None:
    """Make sure the parser's group exists from the start, then watch the inbox, the bucket (when one is
    configured) and the followed portals. Returns once the start-up scan is done, so "started" means
    "watching" (and a crash shows at once)."""
    # Here, not at the top: a backfill (`minutes ingest`) wires its deps through `bootstrap` and needs none
    # of the watching (watchfiles, the bucket's boto3, the portals' HTTP client).
    from services.ingest.bucket import start_bucket_source
    from services.ingest.rejections import ParserRejections
    from services.ingest.sources.runner import SourcesLoop
    from services.ingest.watcher import InboxWatcher, run_watcher

    settings, client = deps.settings, deps.redis
    assert settings is not None and client is not None
    await ensure_groups(client)
    if settings.move_rejected:
        deps.rejections = ParserRejections(client, settings.inbox.resolve())
        await deps.rejections.start()
        deps.on_published = deps.rejections.published
    deps.watcher = InboxWatcher(
        settings.inbox,
        settle_s=settings.settle_s,
        stable_s=settings.stable_s,
        rescan_interval_s=settings.rescan_interval_s,
        force_polling=settings.force_polling,
    )
    deps.watcher.inbox.mkdir(parents=True, exist_ok=True)
    watching = asyncio.create_task(run_watcher(deps.watcher, deps), name="ingest-watcher")
    deps.tasks["inbox watcher"] = watching
    if settings.s3_bucket:
        # The bucket is a second source beside the inbox: same deps, same seen set, same events.
        deps.tasks["bucket source"] = start_bucket_source(settings, client, deps, deps.bucket_stop)
        log.info("watching bucket", bucket=settings.s3_bucket, prefix=settings.s3_prefix)
    ready = asyncio.create_task(deps.watcher.ready.wait())
    await asyncio.wait({ready, watching}, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if watching.done():
        watching.result()
    # The agenda portals followed (`minutes sources`): a third source beside the inbox and the bucket.
    deps.sources = SourcesLoop(settings, deps)
    deps.tasks["sources"] = asyncio.create_task(deps.sources.run(), name="ingest-sources")
    log.info("watching inbox", inbox=str(deps.watcher.inbox))

    async def not_ready() -> str | None:
        return await _not_ready(deps)

    deps.heartbeat = Heartbeat(settings.data_dir, "ingest", not_ready)
    deps.heartbeat.start()


async def _not_ready(deps: IngestDeps) -> str | None:
    """Why ingest cannot take files now (None: it is watching and Redis answers); the health check's view."""
    for what, task in deps.tasks.items():
        if task.done():
            return f"the {what} has stopped"
    assert deps.redis is not None
    await asyncio.wait_for(deps.redis.ping(), 2)
    return None


async def close(deps: IngestDeps) -> None:
    """Stop watching (the batch in hand is finished first), then release what `bootstrap` created."""
    if deps.heartbeat is not None:
        await deps.heartbeat.stop()
    if deps.watcher is not None:
        deps.watcher.stop()
    deps.bucket_stop.set()
    sources, bucket, watching = (deps.tasks.get(k) for k in ("sources", "bucket source", "inbox watcher"))
    if deps.sources is not None and sources is not None:
        deps.sources.stop()
        # A poll in hand is cut short: the meeting being fetched is fetched again next time.
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(sources, 5)
    if bucket is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(bucket, 15)
    if watching is not None:
        try:
            await asyncio.wait_for(watching, 30)
        except TimeoutError:
            # wait_for has cancelled the task: the files in hand come back on the next start-up scan.
            log.warning("watcher did not stop in time; cancelled")
        except Exception:
            log.exception("watcher task failed")
    if deps.rejections is not None:
        await deps.rejections.stop()
    if deps.owns_redis and deps.redis is not None:
        await deps.redis.aclose()

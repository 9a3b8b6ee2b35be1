"""The ingest service as a FastStream app: the inbox watcher runs as a background task of the broker's app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Sequence
from pathlib import Path

from faststream import FastStream
from faststream.specification import AsyncAPI
from redis.asyncio import Redis

from services.ingest.bootstrap import bootstrap, build_broker
from services.ingest.bucket import start_bucket_source
from services.ingest.handlers import IngestDeps, ingest_many
from services.ingest.rejections import ParserRejections
from services.ingest.sources.runner import SourcesLoop
from services.ingest.watcher import InboxWatcher
from shared.blobs import BlobStore
from shared.broker import ensure_groups, resolve_redis_url
from shared.consume import OutageGate, redis_outage
from shared.health import Heartbeat
from shared.logging import get_logger
from shared.retry import HANDLER, Backoff
from shared.settings import Settings, get_settings

log = get_logger(__name__)

# Files handled per pipeline round trip: big enough to amortise Redis, small enough to show progress.
CHUNK = 200
MAX_BACKOFF_S = 30.0


class IngestService:
    """Owns the Redis client, the watcher and its task between `start` (after startup) and `stop`."""

    def __init__(self, settings: Settings, publisher: object, redis_url: str, blobs: BlobStore | None) -> None:
        self.settings = settings
        self.publisher = publisher
        self.redis_url = redis_url
        self.blobs = blobs
        self.client: Redis | None = None
        self.watcher: InboxWatcher | None = None
        self.task: asyncio.Task[None] | None = None
        self.bucket_task: asyncio.Task[None] | None = None
        self.bucket_stop = asyncio.Event()
        self.rejections: ParserRejections | None = None
        self.sources: SourcesLoop | None = None
        self.sources_task: asyncio.Task[None] | None = None
        self.heartbeat = Heartbeat(settings.data_dir, "ingest", self.not_ready)

    async def start(self) -> None:
        """Connect, make sure the parser's group exists from the start, and begin watching."""
        self.client = Redis.from_url(self.redis_url)
        await ensure_groups(self.client)
        deps = bootstrap(self.settings, self.publisher, self.client, self.blobs)
        if self.settings.move_rejected:
            self.rejections = ParserRejections(self.client, self.settings.inbox.resolve())
            await self.rejections.start()
            deps.on_published = self.rejections.published
        self.watcher = InboxWatcher(
            self.settings.inbox,
            settle_s=self.settings.settle_s,
            stable_s=self.settings.stable_s,
            rescan_interval_s=self.settings.rescan_interval_s,
            force_polling=self.settings.force_polling,
        )
        self.watcher.inbox.mkdir(parents=True, exist_ok=True)
        self.task = asyncio.create_task(run_watcher(self.watcher, deps), name="ingest-watcher")
        if self.settings.s3_bucket:
            # The bucket is a second source beside the inbox: same deps, same seen set, same events.
            self.bucket_task = start_bucket_source(self.settings, self.client, deps, self.bucket_stop)
            log.info("watching bucket", bucket=self.settings.s3_bucket, prefix=self.settings.s3_prefix)
        # Return once the start-up scan is done, so "started" means "watching" (and a crash shows at once).
        ready = asyncio.create_task(self.watcher.ready.wait())
        await asyncio.wait({ready, self.task}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if self.task.done():
            self.task.result()
        # The agenda portals followed (`minutes sources`): a third source beside the inbox and the bucket.
        self.sources = SourcesLoop(self.settings, deps)
        self.sources_task = asyncio.create_task(self.sources.run(), name="ingest-sources")
        log.info("watching inbox", inbox=str(self.watcher.inbox))
        self.heartbeat.start()

    async def not_ready(self) -> str | None:
        """Why ingest cannot take files now (None: it is watching and Redis answers); the health check's view."""
        tasks = ((self.task, "inbox watcher"), (self.bucket_task, "bucket source"), (self.sources_task, "sources"))
        for task, what in tasks:
            if task is not None and task.done():
                return f"the {what} has stopped"
        if self.client is None:
            return "not connected to Redis"
        await asyncio.wait_for(self.client.ping(), 2)
        return None

    async def stop(self) -> None:
        """Stop watching (the batch in hand is finished first), then close the client."""
        await self.heartbeat.stop()
        if self.watcher is not None:
            self.watcher.stop()
        self.bucket_stop.set()
        if self.sources is not None and self.sources_task is not None:
            self.sources.stop()
            # A poll in hand is cut short: the meeting being fetched is fetched again next time.
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self.sources_task, 5)
        if self.bucket_task is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.bucket_task, 15)
        if self.task is not None:
            try:
                await asyncio.wait_for(self.task, 30)
            except TimeoutError:
                # wait_for has cancelled the task: the files in hand come back on the next start-up scan.
                log.warning("watcher did not stop in time; cancelled")
            except Exception:
                log.exception("watcher task failed")
        if self.rejections is not None:
            await self.rejections.stop()
        if self.client is not None:
            await self.client.aclose()


async def run_watcher(watcher: InboxWatcher, deps: IngestDeps) -> None:
    """Ingest every batch of complete files the watcher yields; on failure retry them with backoff."""
    # The shared retry policy (shared/retry.py), capped higher for a watcher that has nothing else to do.
    policy = Backoff(HANDLER.initial_s, MAX_BACKOFF_S)
    retry = 1
    gate = OutageGate("ingest", cap_s=MAX_BACKOFF_S)
    async for batch in watcher.batches():
        for start in range(0, len(batch), CHUNK):
            chunk = batch[start : start + CHUNK]
            error = await _ingest_chunk(chunk, deps)
            if error is None:
                gate.up()
                retry = 1
                continue
            # Everything not yet done comes back through the watcher after the pause.
            watcher.retry(batch[start:])
            if redis_outage(error):
                # Said once per outage (the gate logs state changes), not once per retried chunk.
                await _pause_for(watcher, gate.wait(error))
            else:
                backoff = policy.delay(retry)
                log.warning("ingest failed, will retry", files=len(chunk), error=f"{type(error).__name__}: "
                            f"{str(error)[:300]}", retry_in_s=backoff)
                await _pause(watcher, backoff)
                retry += 1
            break


async def _ingest_chunk(chunk: Sequence[Path], deps: IngestDeps) -> Exception | None:
    try:
        await ingest_many(chunk, deps)
    except Exception as exc:
        # Redis or the blob store is down: nothing was marked seen, so the retry cannot lose a document.
        return exc
    return None


async def _pause_for(watcher: InboxWatcher, waiting: Awaitable[None]) -> None:
    """Wait for `waiting` (a backoff), or less if the watcher is stopped meanwhile."""
    task = asyncio.ensure_future(waiting)
    stop = asyncio.create_task(watcher.stopped.wait())
    await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    task.cancel()
    stop.cancel()


async def _pause(watcher: InboxWatcher, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(watcher.stopped.wait(), seconds)


def create_app(settings: Settings | None = None, *, blobs: BlobStore | None = None) -> FastStream:
    """The ingest app; nothing connects until it starts (`faststream run --factory ...:create_app`)."""
    settings = settings or get_settings()
    redis_url = resolve_redis_url(settings)
    broker, publisher = build_broker(redis_url)
    service = IngestService(settings, publisher, redis_url, blobs)
    return FastStream(
        broker,
        logger=logging.getLogger("minutes.ingest"),
        after_startup=[service.start],
        on_shutdown=[service.stop],
        specification=AsyncAPI(
            title="minutes ingest",
            version="1.0.0",
            description="Watches the inbox and publishes one DocumentReceived per new document (sha256).",
        ),
    )

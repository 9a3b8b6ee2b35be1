"""The store's one bootstrap shape (docs/services.md): `bootstrap` wires the dependencies (no I/O; tests pass
their own engine or Redis client through it), `start` prepares the database and Redis and starts reading,
`close` stops what `start` started and releases what `bootstrap` created."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store import db, handlers
from services.store.indexer import SearchIndexer
from services.store.indexer_process import IndexerProcess
from services.store.lost_documents import broker_publish, recover_lost_documents
from services.store.outbox import OutboxRelay
from services.store.sqlite_writer import SqliteWriter, sync_url
from services.store.state_check import reconcile_outbox, refuse_if_corrupt
from shared import streams
from shared.blobs import BlobCatalog, open_blob_store
from shared.broker import consumer_name, ensure_groups, resolve_redis_url
from shared.consume import OutageGate
from shared.contracts.events import DocumentReceived
from shared.health import Heartbeat
from shared.inflight import report_in_flight
from shared.logging import get_logger
from shared.retention import DEAD_CONSUMER_IDLE_MS, prune_consumers, trim_acknowledged
from shared.service import Periodic
from shared.settings import Settings
from shared.stream_worker import Entry, GroupWorker

log = get_logger(__name__)


@dataclass
class StoreDeps:
    """Everything a store handler needs, and what `start` starts."""

    settings: Settings
    engine: AsyncEngine
    redis: Redis
    relay: OutboxRelay
    # Makes stored items searchable after the commit, in large batches (services/store/indexer.py).
    indexer: SearchIndexer | IndexerProcess
    # SQLite: the store's transactions on a plain connection, one thread hop per batch (see `sqlite_writer`).
    writer: SqliteWriter | None = None
    writer_of: AsyncEngine | None = None  # the engine `writer` was made for
    # One per process: a database or Redis outage is waited out here (capped backoff, logged once per
    # state change), never counted as a delivery, however long it lasts.
    gate: OutageGate = field(default_factory=lambda: OutageGate("store"))
    # Resets the idle time of entries being handled (XCLAIM JUSTID to this consumer), so entries held
    # through an outage are not reclaimed — and counted — as a dead worker's. Set by the app.
    keepalive: Callable[[Sequence[str]], Awaitable[object]] | None = None
    keepalive_s: float = 10.0
    owns_engine: bool = True
    owns_redis: bool = True
    consumer: str = field(default_factory=lambda: consumer_name("store"))
    # What `start` starts: the items stream's reader, the trimming of the stream, the readiness heartbeat.
    worker: GroupWorker | None = None
    janitor: Periodic = field(init=False)
    heartbeat: Heartbeat = field(init=False)
    # The schema revision this version stores into (read from the migrations by `start`).
    head: str | None = None
    # Set by `close`: a `start` still waiting for the schema gives up; `lifecycle` keeps the two apart.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    lifecycle: asyncio.Lock = field(default_factory=asyncio.Lock)
    started: bool = False

    def sqlite_writer(self) -> SqliteWriter | None:
        """The writer of `engine`'s SQLite file, made on first use (and again for an engine swapped in);
        None for PostgreSQL or an in-memory database, written through `engine` itself."""
        if self.writer_of is not self.engine:
            if self.writer is not None:
                self.writer.close()
            url = sync_url(self.engine.url.render_as_string(hide_password=False))
            self.writer, self.writer_of = (SqliteWriter(url) if url else None), self.engine
        return self.writer

    def __post_init__(self) -> None:
        self.janitor = Periodic("trim-items", 30.0, self.trim)
        self.heartbeat = Heartbeat(self.settings.data_dir, "store", self.not_ready)

    async def trim(self) -> None:
        """Bounded stream: drop only item entries the store group has acknowledged; forget dead workers."""
        await trim_acknowledged(self.redis, {streams.ITEMS: (streams.STORE_GROUP,)})
        await prune_consumers(self.redis, streams.ITEMS, streams.STORE_GROUP, DEAD_CONSUMER_IDLE_MS)

    async def not_ready(self) -> str | None:
        """Ready = Redis answers and the database is reachable at this version's schema."""
        await asyncio.wait_for(self.redis.ping(), 2)
        return await asyncio.wait_for(db.not_ready(self.engine, self.head), 5)


def bootstrap(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    redis: Redis | None = None,
    gate: OutageGate | None = None,
    relay_poll_s: float = 1.0,
) -> StoreDeps:
    """The store's dependencies; anything passed in replaces the real one. Nothing connects yet."""
    eng = engine or db.create_engine(settings.effective_database_url)
    client = redis or Redis.from_url(resolve_redis_url(settings))
    relay = OutboxRelay(eng, client, maxlen=settings.stream_maxlen, poll_interval_s=relay_poll_s)
    deps = StoreDeps(
        settings=settings,
        engine=eng,
        redis=client,
        relay=relay,
        indexer=_indexer(settings, eng, own_engine=engine is None),
        gate=gate or OutageGate("store"),
        # Well inside the reclaim idle time: an entry being handled is never taken for a dead worker's.
        keepalive_s=max(0.2, settings.claim_idle_ms / 1000 / 4),
        owns_engine=engine is None,
        owns_redis=redis is None,
    )
    # SQLite: the relay's and the indexer's transactions on the store's writer too (one thread hop each),
    # as long as they use the store's engine (a test may swap either).
    deps.relay.sqlite_writer = _writer_for(deps, deps.relay.engine)
    if isinstance(deps.indexer, SearchIndexer):
        deps.indexer.sqlite_writer = _writer_for(deps, deps.indexer.engine)
    return deps


def _indexer(settings: Settings, engine: AsyncEngine, *, own_engine: bool) -> SearchIndexer | IndexerProcess:
    """The search indexer in a child process (services/store/indexer_process.py), unless asked otherwise or the
    database is one only this process can open (an engine passed in, an in-memory SQLite)."""
    url = settings.effective_database_url
    parsed = make_url(url)
    private = parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")
    if settings.search_indexer == "process" and own_engine and not private:
        return IndexerProcess(url, max_chars=settings.index_max_chars, log_level=settings.log_level,
                              log_format=settings.log_format)
    return SearchIndexer(engine, max_chars=settings.index_max_chars)


def _writer_for(deps: StoreDeps, engine: AsyncEngine) -> Callable[[], SqliteWriter | None]:
    return lambda: deps.sqlite_writer() if deps.engine is engine else None


async def start(deps: StoreDeps) -> None:
    """Prepare (below), then read the items stream in batches and start the relay, the indexer, the trimming
    and the heartbeat. Returns early, having started nothing, when `close` comes first."""
    async with deps.lifecycle:
        if not await prepare(deps):
            log.info("stopped while waiting for the schema; started nothing")
            return
        settings = deps.settings
        await report_in_flight(deps.redis, streams.ITEMS, streams.STORE_GROUP, settings.claim_idle_ms)

        async def handle(entries: list[Entry]) -> None:
            await handlers.handle_entries(deps, entries)

        # New entries in batches (one transaction, one XACK per batch); entries left pending longer than
        # claim_idle_ms (a failed batch, a dead worker) reclaimed with their delivery counts.
        deps.worker = GroupWorker(
            deps.redis, streams.ITEMS, streams.STORE_GROUP, deps.consumer, handle,
            batch=settings.batch_size, claim_idle_ms=settings.claim_idle_ms, gate=deps.gate,
            keepalive_s=deps.keepalive_s,
        )
        deps.worker.start()
        deps.relay.start()
        deps.indexer.start()
        deps.started = True
        deps.janitor.start()
        deps.heartbeat.start()


async def prepare(deps: StoreDeps) -> bool:
    """Refuse a corrupt database; wait until `minutes migrate` has brought the schema to this version's
    head (never migrating: readiness says why meanwhile, one log line per change); create the items group
    at id 0; re-announce decisions the public stream lost (a truncated AOF); re-publish accepted documents
    Redis lost before their parse. False when `close` came while it waited for the schema."""
    refuse_if_corrupt(deps.engine.url.render_as_string(hide_password=False))
    deps.head = db.head_revision()
    if not await db.await_schema(deps.engine, deps.head, deps.heartbeat.record, stop=deps.stopping):
        return False
    await ensure_groups(deps.redis, {streams.ITEMS: (streams.STORE_GROUP,)})
    await reconcile_outbox(deps.engine, deps.redis, deps.relay, deps.settings.stream_maxlen)
    await _recover_lost_documents(deps)
    return True


async def _recover_lost_documents(deps: StoreDeps) -> None:
    catalog = open_blob_store(deps.settings)
    assert isinstance(catalog, BlobCatalog)

    async def publish(events: Sequence[DocumentReceived]) -> None:
        # The URL only when there is something to publish: tests hand the store a client, not always a URL.
        await broker_publish(resolve_redis_url(deps.settings))(events)

    try:
        await recover_lost_documents(
            deps.engine, deps.redis, catalog, publish, grace_s=deps.settings.lost_documents_grace_s
        )
    except Exception as exc:
        # A store that cannot see the blob store (S3 down, not configured for it) still stores: this pass is
        # a repair `minutes check` can run again, not a condition of storing.
        log.warning("could not compare the blob store with the pipeline", error=str(exc))


async def close(deps: StoreDeps) -> None:
    """Stop what `start` started — the batch in hand stored and acked first, then the relay's and the
    indexer's last flush, so the outbox rows of the last batches go out too — and release what `bootstrap`
    created (an engine or client passed in stays open)."""
    deps.stopping.set()
    async with deps.lifecycle:
        if deps.worker is not None:
            await deps.worker.shutdown()
        await deps.heartbeat.stop()
        await deps.janitor.stop()
        await deps.relay.stop(flush=deps.started)
        await deps.indexer.stop(flush=deps.started)
        if deps.writer is not None:
            await asyncio.to_thread(deps.writer.close)  # a transaction still in hand finishes first
        if deps.owns_redis:
            await deps.redis.aclose()
        if deps.owns_engine:
            await deps.engine.dispose()

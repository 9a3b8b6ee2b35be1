"""Wiring of the store's dependencies (engine, Redis client, relay); tests pass their own through here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.db import create_engine, migrate
from services.store.indexer import SearchIndexer
from services.store.lost_documents import broker_publish, recover_lost_documents
from services.store.outbox import OutboxRelay
from services.store.state_check import reconcile_outbox, refuse_if_corrupt
from shared import streams
from shared.blobs import BlobCatalog, open_blob_store
from shared.broker import ensure_groups, resolve_redis_url
from shared.consume import OutageGate
from shared.contracts.events import DocumentReceived
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)


@dataclass
class StoreDeps:
    """Everything a store handler needs."""

    settings: Settings
    engine: AsyncEngine
    redis: Redis
    relay: OutboxRelay
    # Makes stored items searchable after the commit, in large batches (services/store/indexer.py).
    indexer: SearchIndexer
    # One per process: a database or Redis outage is waited out here (capped backoff, logged once per
    # state change), never counted as a delivery, however long it lasts.
    gate: OutageGate = field(default_factory=lambda: OutageGate("store"))
    # Resets the idle time of entries being handled (XCLAIM JUSTID to this consumer), so entries held
    # through an outage are not reclaimed — and counted — as a dead worker's. Set by the app.
    keepalive: Callable[[Sequence[str]], Awaitable[object]] | None = None
    keepalive_s: float = 10.0
    owns_engine: bool = True
    owns_redis: bool = True


def bootstrap(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    redis: Redis | None = None,
    gate: OutageGate | None = None,
    relay_poll_s: float = 1.0,
) -> StoreDeps:
    """The store handler's dependencies; anything passed in replaces the real one. Nothing connects yet."""
    eng = engine or create_engine(settings.effective_database_url)
    client = redis or Redis.from_url(resolve_redis_url(settings))
    relay = OutboxRelay(eng, client, maxlen=settings.stream_maxlen, poll_interval_s=relay_poll_s)
    return StoreDeps(
        settings=settings,
        engine=eng,
        redis=client,
        relay=relay,
        indexer=SearchIndexer(eng),
        gate=gate or OutageGate("store"),
        # Well inside the reclaim idle time: an entry being handled is never taken for a dead worker's.
        keepalive_s=max(0.2, settings.claim_idle_ms / 1000 / 4),
        owns_engine=engine is None,
        owns_redis=redis is None,
    )


async def prepare(deps: StoreDeps) -> None:
    """Refuse a corrupt database; migrate it to head; create the items group at id 0; re-announce decisions
    the public stream lost (a truncated AOF); re-publish accepted documents Redis lost before their parse."""
    url = deps.engine.url.render_as_string(hide_password=False)
    refuse_if_corrupt(url)
    await migrate(url, engine=deps.engine)
    await ensure_groups(deps.redis, {streams.ITEMS: (streams.STORE_GROUP,)})
    await reconcile_outbox(deps.engine, deps.redis, deps.relay, deps.settings.stream_maxlen)
    await _recover_lost_documents(deps)


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
    """Release what `bootstrap` created."""
    if deps.owns_redis:
        await deps.redis.aclose()
    if deps.owns_engine:
        await deps.engine.dispose()

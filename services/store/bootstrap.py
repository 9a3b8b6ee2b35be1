"""Wiring of the store's dependencies (engine, Redis client, relay); tests pass their own through here."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.db import create_engine, migrate
from services.store.outbox import OutboxRelay
from services.store.state_check import reconcile_outbox, refuse_if_corrupt
from shared import streams
from shared.broker import ensure_groups, resolve_redis_url
from shared.settings import Settings


@dataclass
class StoreDeps:
    """Everything a store handler needs."""

    settings: Settings
    engine: AsyncEngine
    redis: Redis
    relay: OutboxRelay
    # Database outage: retry one delivery for at most this long, then leave it pending. Kept below the
    # reclaim idle time so a handler waiting for the database is not reclaimed by another worker meanwhile.
    retry_budget_s: float = 30.0
    retry_initial_s: float = 0.2
    retry_max_wait_s: float = 5.0
    owns_engine: bool = True
    owns_redis: bool = True


def build_deps(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    redis: Redis | None = None,
    retry_budget_s: float | None = None,
    relay_poll_s: float = 1.0,
) -> StoreDeps:
    """Create (or adopt) the engine and Redis client; nothing connects until first use."""
    eng = engine or create_engine(settings.effective_database_url)
    client = redis or Redis.from_url(resolve_redis_url(settings))
    relay = OutboxRelay(eng, client, maxlen=settings.stream_maxlen, poll_interval_s=relay_poll_s)
    budget = retry_budget_s if retry_budget_s is not None else settings.claim_idle_ms / 1000 / 2
    return StoreDeps(
        settings=settings,
        engine=eng,
        redis=client,
        relay=relay,
        retry_budget_s=budget,
        owns_engine=engine is None,
        owns_redis=redis is None,
    )


async def prepare(deps: StoreDeps) -> None:
    """Refuse a corrupt database; migrate it to head; create the items group at id 0; re-announce decisions
    the public stream lost (a truncated AOF)."""
    url = deps.engine.url.render_as_string(hide_password=False)
    refuse_if_corrupt(url)
    await migrate(url, engine=deps.engine)
    await ensure_groups(deps.redis, {streams.ITEMS: (streams.STORE_GROUP,)})
    await reconcile_outbox(deps.engine, deps.redis, deps.relay, deps.settings.stream_maxlen)


async def close(deps: StoreDeps) -> None:
    """Release what `build_deps` created."""
    if deps.owns_redis:
        await deps.redis.aclose()
    if deps.owns_engine:
        await deps.engine.dispose()

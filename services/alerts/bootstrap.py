"""Wiring of the alerts worker's dependencies; tests pass their own engine or Redis client through here."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.send import webhook_client
from services.alerts.urls import Resolver, system_resolver
from services.alerts.worker import AlertsDeps
from services.store.db import create_engine, migrate
from shared import streams
from shared.broker import ensure_groups, resolve_redis_url
from shared.settings import Settings


def bootstrap(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    redis: Redis | None = None,
    http: httpx.AsyncClient | None = None,
    resolver: Resolver = system_resolver,
) -> AlertsDeps:
    """The alerts worker's dependencies; anything passed in replaces the real one. Nothing connects yet.

    `resolver` is what the webhook client looks hosts up with (tests pass one they control)."""
    return AlertsDeps(
        settings=settings,
        engine=engine or create_engine(settings.effective_database_url),
        redis=redis or Redis.from_url(resolve_redis_url(settings)),
        http=http
        or webhook_client(
            settings.webhook_timeout_s,
            allow_private=settings.allow_private_urls,
            resolver=resolver,
            concurrency=settings.alerts_concurrency,
        ),
        owns_engine=engine is None,
        owns_redis=redis is None,
    )


async def prepare(deps: AlertsDeps) -> None:
    """Migrate the database to head (the subscriptions tables) and create the alerts group at id 0: an
    event published before the worker first ran still reaches the subscriptions older than it."""
    await migrate(deps.engine.url.render_as_string(hide_password=False), engine=deps.engine)
    await ensure_groups(deps.redis, {streams.DECISIONS: (streams.ALERTS_GROUP,)})


async def close(deps: AlertsDeps) -> None:
    """Release what `bootstrap` created."""
    await deps.http.aclose()
    if deps.owns_redis:
        await deps.redis.aclose()
    if deps.owns_engine:
        await deps.engine.dispose()

"""The alerts worker's one bootstrap shape (docs/services.md): `bootstrap` wires the dependencies (no I/O;
tests pass their own engine, Redis client or resolver through it), `start` waits for the schema and starts
reading and delivering, `close` stops what `start` started and releases what `bootstrap` created."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.delivery import release_all
from services.alerts.positions import adopt_positions
from services.alerts.send import webhook_client
from services.alerts.urls import Resolver, system_resolver
from services.alerts.worker import AlertsDeps, delivery_loop, send_digests
from services.store import db
from shared.broker import resolve_redis_url
from shared.consume import redis_outage
from shared.logging import get_logger
from shared.service import Periodic
from shared.settings import Settings

log = get_logger(__name__)


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
        engine=engine or db.create_engine(settings.effective_database_url),
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
        owns_http=http is None,
    )


async def start(deps: AlertsDeps) -> None:
    """Wait until `minutes migrate` has brought the schema to this version's head (never migrating:
    readiness says why meanwhile, one log line per change); give a subscription stored before the cursors
    (revision 0013) its position in the public stream (services/alerts/positions.py); then start the
    delivery loop (the stream's follower and the dispatcher), the digests and the heartbeat. Returns early,
    having started nothing, when `close` comes first."""
    settings = deps.settings
    async with deps.lifecycle:
        deps.head = db.head_revision()
        if not await db.await_schema(deps.engine, deps.head, deps.heartbeat.record, stop=deps.stopping):
            log.info("stopped while waiting for the schema; started nothing")
            return
        await deps.gate.through(
            lambda: adopt_positions(deps.engine, deps.redis),
            lambda exc: redis_outage(exc) or db.is_db_unavailable(exc),
            stop=deps.stopping,
        )
        deps.loop_task = asyncio.create_task(delivery_loop(deps), name="alert-deliveries")
        deps.digests = Periodic("alert-digests", settings.alerts_digest_check_s, lambda: send_digests(deps))
        deps.digests.start()
        deps.heartbeat.start()


async def close(deps: AlertsDeps) -> None:
    """Stop what `start` started — each subscription in flight finishing its send and recording it, the
    subscription leases released — and release what `bootstrap` created."""
    deps.stopping.set()
    async with deps.lifecycle:
        await deps.heartbeat.stop()
        if deps.digests is not None:
            await deps.digests.stop()
        if deps.loop_task is not None:
            # Each subscription in flight finishes its send and records it (a cancelled send would be sent
            # again by another worker); one that hangs is cancelled after a send's deadline.
            deps.work.set()
            try:
                await asyncio.wait_for(asyncio.shield(deps.loop_task), deps.settings.webhook_timeout_s + 5)
            except (TimeoutError, asyncio.CancelledError):
                deps.loop_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await deps.loop_task
            try:  # another worker takes over this one's subscriptions at once, not when the leases expire
                await release_all(deps)
            except Exception as exc:
                log.warning("could not release the subscription leases", error=repr(exc)[:300])
        if deps.owns_http:
            await deps.http.aclose()
        if deps.owns_redis:
            await deps.redis.aclose()
        if deps.owns_engine:
            await deps.engine.dispose()

"""The alerts worker's entry points: the delivery loop, digests, replay.

Each subscription keeps a cursor in the public stream (services/alerts/models.py): the dispatcher
(services/alerts/dispatch.py) serves the subscriptions with work, each on its own (services/alerts/serve.py),
each in stream order by one worker at a time (a lease, services/alerts/delivery.py). A failed delivery
becomes a row whose `next_attempt_at` follows an exponential backoff with jitter, so retries survive a
restart; while it waits nothing newer overtakes it. Consecutive failed attempts are counted on the
subscription, which is disabled at `MINUTES_ALERTS_DISABLE_AFTER` with the reason. Several alerts workers
may share a database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import sqlalchemy as sa
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.alerts import messages, send
from services.alerts.delivery import backoff_s, lease_s, record_rows
from services.alerts.deps import AlertsDeps
from services.alerts.dispatch import delivery_loop
from services.alerts.fanout import Pending, SubscriptionCache, replay_batch, stream_time
from services.alerts.handlers import PUBLIC
from services.alerts.models import deliveries, subscriptions
from shared import streams
from shared.contracts.events import utcnow
from shared.logging import get_logger
from shared.stream_worker import millis_at
from shared.stream_worker import page as stream_page

__all__ = [
    "PUBLIC",
    "AlertsDeps",
    "backoff_s",
    "delivery_loop",
    "replay",
    "send_digests",
    "stream_time",
]

log = get_logger(__name__)

DIGEST_PERIODS = {"hourly": dt.timedelta(hours=1), "daily": dt.timedelta(days=1)}


async def _claim_digest(deps: AlertsDeps, subscription_id: str) -> bool:
    """Lease one digest subscription (so two workers never send the same summary)."""
    now = utcnow()

    async def take(conn: AsyncConnection) -> bool:
        done = await conn.execute(
            subscriptions.update()
            .where(
                subscriptions.c.id == subscription_id,
                subscriptions.c.enabled.is_(True),
                sa.or_(
                    subscriptions.c.leased_until.is_(None),
                    subscriptions.c.leased_until < now,
                    subscriptions.c.leased_by == deps.worker_id,
                ),
            )
            .values(leased_by=deps.worker_id, leased_until=now + dt.timedelta(seconds=lease_s(deps)))
        )
        return bool(done.rowcount)

    return bool(await deps.write(take))


def _digest_sent(subscription_id: str, at: dt.datetime) -> Any:
    async def write(conn: AsyncConnection) -> None:
        await conn.execute(
            subscriptions.update().where(subscriptions.c.id == subscription_id).values(last_digest_at=at)
        )

    return write


async def send_digests(deps: AlertsDeps, now: dt.datetime | None = None) -> int:
    """Send each digest subscription's summary when its period has passed and decisions wait; returns how
    many summaries went out."""
    now = now or utcnow()
    async with deps.engine.connect() as conn:
        subs = (
            await conn.execute(
                sa.select(subscriptions).where(
                    subscriptions.c.enabled.is_(True),
                    subscriptions.c.channel == "apprise",
                    subscriptions.c.digest.in_(list(DIGEST_PERIODS)),
                )
            )
        ).all()
    sent = 0
    for sub in subs:
        since = sub.last_digest_at or sub.created_at
        if now - since < DIGEST_PERIODS[sub.digest] or not await _claim_digest(deps, sub.id):
            continue
        async with deps.engine.connect() as conn:
            waiting = (
                await conn.execute(
                    sa.select(deliveries.c.id, deliveries.c.payload)
                    .where(deliveries.c.subscription_id == sub.id, deliveries.c.status == "digest")
                    .order_by(deliveries.c.id)
                )
            ).all()
        if not waiting:
            await record_rows(deps, sub, [], release=True)
            continue
        events = [PUBLIC.validate_json(w.payload) for w in waiting]
        title, body = messages.digest_message(events, sub.digest, deps.settings.page_url, sub.language)
        result = await send.notify(sub.url, title, body, allow_private=deps.settings.allow_private_urls)
        if result.ok:
            await record_rows(deps, sub, [(w.id, result) for w in waiting], release=True, digest=True)
            await deps.write(_digest_sent(sub.id, now))
            sent += 1
        else:
            await record_rows(deps, sub, [], ([w.id for w in waiting], result), release=True, digest=True)
    return sent


async def replay(
    engine: AsyncEngine, redis: Redis, since: dt.datetime, *, subscription_id: str | None = None, page: int = 500
) -> int:
    """Add a delivery again of every event the public stream holds from `since` on, for the subscriptions
    (or the one) it matches; returns how many were added (the workers find them at their next poll; they go
    before anything newer). Older events than the stream's retention are gone from it (the database keeps
    the decisions, not the events)."""
    start = f"{millis_at(since)}-0"  # OutOfStreamTime (a ValueError) for a time before 1970
    added = 0
    cache = SubscriptionCache()
    batch: list[Pending] = []
    async for entry in stream_page(redis, streams.DECISIONS, start=start, count=page):
        # An event type this version does not know is skipped, as the contract says.
        with contextlib.suppress(ValueError):
            if entry.known:
                batch.append(Pending(PUBLIC.validate_json(entry.payload), entry.text, entry.id))
        if len(batch) >= page:
            added += await replay_batch(engine, cache, batch, only=subscription_id)
            batch = []
    return added + await replay_batch(engine, cache, batch, only=subscription_id)

"""The alerts worker's loops and entry points: enqueue matching deliveries, the delivery loop, digests, replay.

Deliveries are rows (services/alerts/models.py), so retries survive a restart: a failed attempt sets the
delivery's `next_attempt_at` (exponential backoff with jitter) and the loop picks it up then. Fan-out is in
services/alerts/fanout.py (a batch of stream entries per transaction, the subscriptions cached), sending in
services/alerts/delivery.py: each subscription is served in stream order by one worker at a time (a lease),
and while its oldest delivery fails nothing newer overtakes it; consecutive failed attempts are counted on
the subscription, which is disabled at `MINUTES_ALERTS_DISABLE_AFTER` with the reason. Several alerts
workers may share a database.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Any

import sqlalchemy as sa
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.alerts import send
from services.alerts.delivery import PUBLIC, backoff_s, deliver_due, lease_s, record
from services.alerts.deps import AlertsDeps
from services.alerts.fanout import Pending, SubscriptionCache, enqueue_batch, stream_time
from services.alerts.matching import Event
from services.alerts.models import deliveries, subscriptions
from shared import streams
from shared.contracts.events import utcnow
from shared.logging import get_logger
from shared.stream_worker import page as stream_page

__all__ = [
    "PUBLIC",
    "AlertsDeps",
    "backoff_s",
    "deliver_due",
    "delivery_loop",
    "enqueue",
    "replay",
    "send_digests",
    "stream_time",
]

log = get_logger(__name__)

DIGEST_PERIODS = {"hourly": dt.timedelta(hours=1), "daily": dt.timedelta(days=1)}


async def enqueue(
    engine: AsyncEngine,
    event: Event,
    payload: str,
    stream_id: str | None,
    *,
    replay: bool = False,
    only: str | None = None,
) -> int:
    """Add a delivery of one event for each enabled subscription it matches; returns how many (see
    fanout.enqueue_batch, which the worker uses for a batch of entries)."""
    return await enqueue_batch(
        engine, SubscriptionCache(), [Pending(event, payload, stream_id)], replay=replay, only=only
    )


async def delivery_loop(deps: AlertsDeps) -> None:
    """Deliver due work whenever some is enqueued, and at least every `alerts_poll_s` (retries, and the
    deliveries another worker enqueued), until `deps.stopping` is set (then the pass in progress finishes)."""
    while not deps.stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deps.work.wait(), deps.settings.alerts_poll_s)
        deps.work.clear()
        if deps.stopping.is_set():
            return
        try:
            await deliver_due(deps)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database away: the rows wait, the next pass tries again
            log.warning("delivery pass failed; retrying", error=f"{type(exc).__name__}: {str(exc)[:300]}")
            await asyncio.sleep(deps.settings.alerts_poll_s)


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
            await record(deps, sub, [], release=True)
            continue
        title, body = send.digest_message([PUBLIC.validate_json(w.payload) for w in waiting], sub.digest)
        result = await send.notify(sub.url, title, body, allow_private=deps.settings.allow_private_urls)
        if result.ok:
            await record(deps, sub, [(w.id, result) for w in waiting], release=True, digest=True)
            await deps.write(_digest_sent(sub.id, now))
            sent += 1
        else:
            await record(deps, sub, [], ([w.id for w in waiting], result), release=True, digest=True)
    return sent


async def replay(
    engine: AsyncEngine, redis: Redis, since: dt.datetime, *, subscription_id: str | None = None, page: int = 500
) -> int:
    """Enqueue again every event the public stream holds from `since` on, for the subscriptions (or the
    one) it matches; returns how many deliveries were added. Older events than the stream's retention
    are gone from it (the database keeps the decisions, not the events)."""
    start = f"{int(since.timestamp() * 1000)}-0"
    added = 0
    cache = SubscriptionCache()
    batch: list[Pending] = []
    async for entry in stream_page(redis, streams.DECISIONS, start=start, count=page):
        # An event type this version does not know is skipped, as the contract says.
        with contextlib.suppress(ValueError):
            if entry.known:
                batch.append(Pending(PUBLIC.validate_json(entry.payload), entry.text, entry.id))
        if len(batch) >= page:
            added += await enqueue_batch(engine, cache, batch, replay=True, only=subscription_id)
            batch = []
    return added + await enqueue_batch(engine, cache, batch, replay=True, only=subscription_id)

"""The alerts worker's core: enqueue matching deliveries for an event, send what is due, digests, replay.

Deliveries are rows (services/alerts/models.py), so retries survive a restart: a failed attempt sets the
delivery's `next_attempt_at` (exponential backoff with jitter) and the loop picks it up then. Each
subscription is served in order, one delivery at a time (a receiver sees events in stream order, and
while its oldest delivery fails nothing newer overtakes it); consecutive failed attempts are counted on the
subscription, which is disabled at `MINUTES_ALERTS_DISABLE_AFTER` with the reason.

One alerts worker per database: two would send the same due delivery twice (receivers dedupe on
`webhook-id`, but it is not the intent).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import httpx
import sqlalchemy as sa
from pydantic import TypeAdapter
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts import send
from services.alerts.matching import Event, Filter, compiled, event_stems, matches
from services.alerts.models import attempts, deliveries, subscriptions
from services.store.models import meetings
from shared import streams
from shared.contracts.events import PublicEvent, utcnow
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

PUBLIC: TypeAdapter[Event] = TypeAdapter(PublicEvent)
DIGEST_PERIODS = {"hourly": dt.timedelta(hours=1), "daily": dt.timedelta(days=1)}


@dataclass
class AlertsDeps:
    """What the alerts handlers and loops need."""

    settings: Settings
    engine: AsyncEngine
    redis: Redis
    http: httpx.AsyncClient
    # Set when deliveries were enqueued: the delivery loop wakes at once instead of at its next poll.
    work: asyncio.Event = field(default_factory=asyncio.Event)
    # This process's writes one at a time: the concurrent senders would otherwise contend for SQLite's one
    # writer lock (PostgreSQL would not mind, and the cost there is small: writes are short).
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    owns_engine: bool = True
    owns_redis: bool = True


def stream_time(stream_id: str | None) -> dt.datetime | None:
    """When an entry entered the stream (its id's milliseconds)."""
    if not stream_id:
        return None
    return dt.datetime.fromtimestamp(int(stream_id.split("-", 1)[0]) / 1000, dt.UTC)


def _filter(row: Any) -> Filter:
    return compiled(row.municipality, row.region, row.committee, row.outcome, row.case_number, row.phrase)


async def _region(conn: Any, document_id: str) -> str | None:
    found = (await conn.execute(sa.select(meetings.c.region).where(meetings.c.document_id == document_id))).scalar()
    return str(found) if found is not None else None


async def enqueue(
    engine: AsyncEngine,
    event: Event,
    payload: str,
    stream_id: str | None,
    *,
    replay: bool = False,
    only: str | None = None,
) -> int:
    """Add a delivery of `event` for each enabled subscription it matches; returns how many.

    A subscription gets events that entered the stream after it was created; a replay ignores that and
    adds a delivery even when the event was delivered before (same `webhook-id`: receivers dedupe). Outside a
    replay an event already enqueued for a subscription (a redelivered stream entry) is not added again.
    """
    published = stream_time(stream_id) or utcnow()
    now = utcnow()
    async with engine.begin() as conn:
        stmt = sa.select(subscriptions).where(subscriptions.c.enabled.is_(True))
        if only is not None:
            stmt = stmt.where(subscriptions.c.id == only)
        subs = (await conn.execute(stmt)).all()
        if not replay:
            subs = [s for s in subs if s.created_at <= published]
        if not subs:
            return 0
        region = await _region(conn, event.document_id) if any(s.region for s in subs) else None
        text = event_stems(event)
        hits = [s for s in subs if matches(_filter(s), event, region=region, text_stems=text)]
        if hits and not replay:
            known = set(
                (
                    await conn.execute(
                        sa.select(deliveries.c.subscription_id).where(
                            deliveries.c.event_id == event.event_id,
                            deliveries.c.subscription_id.in_([s.id for s in hits]),
                        )
                    )
                ).scalars()
            )
            hits = [s for s in hits if s.id not in known]
        if not hits:
            return 0
        rows = [
            {
                "subscription_id": s.id,
                "event_id": event.event_id,
                "stream_id": None if replay else stream_id,
                "payload": payload,
                "status": "digest" if s.channel == "apprise" and s.digest != "none" else "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "replay": replay,
            }
            for s in hits
        ]
        await conn.execute(_insert_once(conn.dialect.name), rows)
    return len(rows)


def _insert_once(dialect: str) -> Any:
    """INSERT that skips a delivery already there (the unique (subscription, event, stream entry))."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(deliveries).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(deliveries).on_conflict_do_nothing()


def backoff_s(settings: Settings, attempt: int) -> float:
    """Delay before retry `attempt` (1-based): doubling from the initial delay to the cap, the upper half
    jittered so receivers coming back are not hit by every sender at once."""
    ceiling = min(settings.alerts_backoff_cap_s, settings.alerts_backoff_initial_s * 2 ** (attempt - 1))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


async def _record(
    deps: AlertsDeps, sub: Any, delivery_ids: Sequence[int], result: send.Sent, *, digest: bool = False
) -> None:
    """Store the attempt(s) and their consequences: delivered, or retried later, or the subscription disabled."""
    async with deps.write_lock:
        await _record_locked(deps, sub, delivery_ids, result, digest=digest)


async def _record_locked(
    deps: AlertsDeps, sub: Any, delivery_ids: Sequence[int], result: send.Sent, *, digest: bool
) -> None:
    now = utcnow()
    settings = deps.settings
    async with deps.engine.begin() as conn:
        await conn.execute(
            attempts.insert(),
            [
                {
                    "delivery_id": d,
                    "subscription_id": sub.id,
                    "attempted_at": now,
                    "ok": result.ok,
                    "status_code": result.status_code,
                    "error": result.error,
                    "duration_ms": result.duration_ms,
                }
                for d in delivery_ids
            ],
        )
        chosen = deliveries.c.id.in_(list(delivery_ids))
        if result.ok:
            await conn.execute(
                deliveries.update().where(chosen)
                .values(status="delivered", delivered_at=now, attempts=deliveries.c.attempts + 1, last_error=None)
            )
            await conn.execute(
                subscriptions.update().where(subscriptions.c.id == sub.id).values(consecutive_failures=0)
            )
            return
        failures = sub.consecutive_failures + 1
        tries = (
            await conn.execute(sa.select(sa.func.max(deliveries.c.attempts)).where(chosen))
        ).scalar() or 0
        values: dict[str, Any] = {"attempts": deliveries.c.attempts + 1, "last_error": result.error}
        if not digest:
            values["next_attempt_at"] = now + dt.timedelta(seconds=backoff_s(settings, tries + 1))
        await conn.execute(deliveries.update().where(chosen).values(**values))
        change: dict[str, Any] = {"consecutive_failures": failures}
        if failures >= settings.alerts_disable_after:
            reason = f"{failures} consecutive failed deliveries; last: {result.error or 'failed'}"
            change.update(enabled=False, disabled_at=now, disabled_reason=reason[:500])
            log.warning("subscription disabled after repeated failures", subscription=sub.id,
                        channel=sub.channel, failures=failures, last_error=(result.error or "")[:300])
        await conn.execute(subscriptions.update().where(subscriptions.c.id == sub.id).values(**change))


async def _due_batch(deps: AlertsDeps, subscription_id: str, limit: int = 50) -> tuple[Any, list[Any]]:
    """The subscription (if still enabled) and its oldest pending deliveries, from the head on while due."""
    async with deps.engine.connect() as conn:
        sub = (
            await conn.execute(
                sa.select(subscriptions).where(subscriptions.c.id == subscription_id, subscriptions.c.enabled.is_(True))
            )
        ).first()
        if sub is None:
            return None, []
        rows = (
            await conn.execute(
                sa.select(deliveries)
                .where(deliveries.c.subscription_id == subscription_id, deliveries.c.status == "pending")
                .order_by(deliveries.c.id)
                .limit(limit)
            )
        ).all()
    now = utcnow()
    due = []
    for row in rows:
        if row.next_attempt_at > now:
            break  # in order: nothing overtakes a delivery waiting for its retry
        due.append(row)
    return sub, due


async def _record_delivered(deps: AlertsDeps, sub: Any, done: Sequence[tuple[int, send.Sent]]) -> None:
    """Successful attempts of a run of deliveries, in one transaction."""
    if not done:
        return
    now = utcnow()
    async with deps.write_lock, deps.engine.begin() as conn:
        await conn.execute(
            attempts.insert(),
            [
                {"delivery_id": d, "subscription_id": sub.id, "attempted_at": now, "ok": True,
                 "status_code": r.status_code, "error": None, "duration_ms": r.duration_ms}
                for d, r in done
            ],
        )
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.id.in_([d for d, _ in done]))
            .values(status="delivered", delivered_at=now, attempts=deliveries.c.attempts + 1, last_error=None)
        )
        await conn.execute(subscriptions.update().where(subscriptions.c.id == sub.id).values(consecutive_failures=0))


async def _send_one(deps: AlertsDeps, sub: Any, delivery: Any) -> send.Sent:
    if sub.channel == "webhook":
        # deps.http checks the host as it connects (send.webhook_client), with the settings' allow_private.
        return await send.post_webhook(deps.http, sub.url, sub.secret, delivery.event_id, delivery.payload)
    title, body = send.notification(PUBLIC.validate_json(delivery.payload))
    return await send.notify(sub.url, title, body)


async def _drain(deps: AlertsDeps, subscription_id: str) -> int:
    """Send a subscription's due deliveries in order until one fails or none is due; returns how many went.

    Successes are recorded per run of up to 50 (a crash in between re-sends them after a restart, with the
    same `webhook-id`: at least once, as the receiver's dedupe expects)."""
    sent = 0
    while True:
        sub, batch = await _due_batch(deps, subscription_id)
        if not batch:
            return sent
        done: list[tuple[int, send.Sent]] = []
        for delivery in batch:
            result = await _send_one(deps, sub, delivery)
            if not result.ok:
                await _record_delivered(deps, sub, done)
                if done:  # the run before this failure reset the count
                    sub = SimpleNamespace(**{**sub._mapping, "consecutive_failures": 0})
                await _record(deps, sub, [delivery.id], result)
                return sent + len(done)
            done.append((delivery.id, result))
        await _record_delivered(deps, sub, done)
        sent += len(done)


async def deliver_due(deps: AlertsDeps) -> int:
    """One pass of the delivery loop: every subscription with a due delivery, concurrently (bounded)."""
    now = utcnow()
    async with deps.engine.connect() as conn:
        ids = list(
            (
                await conn.execute(
                    sa.select(deliveries.c.subscription_id)
                    .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
                    .where(
                        deliveries.c.status == "pending",
                        deliveries.c.next_attempt_at <= now,
                        subscriptions.c.enabled.is_(True),
                    )
                    .distinct()
                )
            ).scalars()
        )
    if not ids:
        return 0
    limit = asyncio.Semaphore(deps.settings.alerts_concurrency)

    async def bounded(sid: str) -> int:
        async with limit:
            return await _drain(deps, sid)

    return sum(await asyncio.gather(*(bounded(s) for s in ids)))


async def delivery_loop(deps: AlertsDeps) -> None:
    """Deliver due work whenever some is enqueued, and at least every `alerts_poll_s` (retries)."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(deps.work.wait(), deps.settings.alerts_poll_s)
        deps.work.clear()
        try:
            await deliver_due(deps)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database away: the rows wait, the next pass tries again
            log.warning("delivery pass failed; retrying", error=f"{type(exc).__name__}: {str(exc)[:300]}")
            await asyncio.sleep(deps.settings.alerts_poll_s)


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
        if now - since < DIGEST_PERIODS[sub.digest]:
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
            continue
        title, body = send.digest_message([PUBLIC.validate_json(w.payload) for w in waiting], sub.digest)
        result = await send.notify(sub.url, title, body)
        await _record(deps, sub, [w.id for w in waiting], result, digest=True)
        if result.ok:
            async with deps.engine.begin() as conn:
                await conn.execute(
                    subscriptions.update().where(subscriptions.c.id == sub.id).values(last_digest_at=now)
                )
            sent += 1
    return sent


async def replay(
    engine: AsyncEngine, redis: Redis, since: dt.datetime, *, subscription_id: str | None = None, page: int = 500
) -> int:
    """Enqueue again every event the public stream holds from `since` on, for the subscriptions (or the
    one) it matches; returns how many deliveries were added. Older events than the stream's retention
    are gone from it (the database keeps the decisions, not the events)."""
    start = f"{int(since.timestamp() * 1000)}-0"
    added = 0
    while True:
        rows: list[Any] = list(await redis.xrange(streams.DECISIONS, min=start, max="+", count=page) or [])
        for entry_id, fields in rows:
            raw = fields.get(streams.PUBLIC_FIELD.encode()) or fields.get(streams.PUBLIC_FIELD)
            if raw is None:
                continue
            payload = raw.decode() if isinstance(raw, bytes) else str(raw)
            try:
                event = PUBLIC.validate_json(payload)
            except ValueError:
                continue  # an event type this version does not know: skipped, as the contract says
            sid = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            added += await enqueue(engine, event, payload, sid, replay=True, only=subscription_id)
        if len(rows) < page:
            return added
        last = rows[-1][0]
        last_id = last.decode() if isinstance(last, bytes) else str(last)
        start = "(" + last_id

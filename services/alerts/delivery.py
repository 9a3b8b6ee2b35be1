"""Sending what is due: subscriptions claimed with a lease, each served in stream order by one worker.

Several alerts workers may share a database. A worker claims a subscription with a lease (one atomic
UPDATE … RETURNING; on PostgreSQL its candidates are picked FOR UPDATE SKIP LOCKED) and alone sends that
subscription's deliveries until none is due, renewing the lease while it works and releasing it in the
transaction that records the last results. A worker that dies leaves its leases to expire
(`MINUTES_ALERTS_LEASE_S`); what it sent but did not record is sent again (same `webhook-id`).

Order: deliveries are sent by their entry's stream position, from the head while due (nothing overtakes a
delivery waiting for its retry), and only below the ordering watermark — the oldest entry the alerts group
still has pending. An entry that a worker is still enqueueing (or that waits for a reclaim) may hold
events for the same subscription older than those already enqueued by another worker; they wait for it.
Up to `MINUTES_ALERTS_CONCURRENCY` subscriptions are served at once; each sends its due deliveries one after
another and records a run of them in one (group-committed) transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from redis import exceptions as redis_errors
from sqlalchemy.ext.asyncio import AsyncConnection

from services.alerts import send
from services.alerts.deps import AlertsDeps
from services.alerts.fanout import bump_version, position
from services.alerts.matching import Event
from services.alerts.models import attempts, deliveries, subscriptions
from shared import streams
from shared.contracts.events import PublicEvent, utcnow
from shared.logging import get_logger

log = get_logger(__name__)

PUBLIC: TypeAdapter[Event] = TypeAdapter(PublicEvent)
RUN = 50  # deliveries read, sent and recorded per run
NO_LIMIT = (2**62, 0)


def backoff_s(settings: Any, attempt: int) -> float:
    """Delay before retry `attempt` (1-based): doubling from the initial delay to the cap, the upper half
    jittered so receivers coming back are not hit by every sender at once."""
    ceiling = min(settings.alerts_backoff_cap_s, settings.alerts_backoff_initial_s * 2 ** (attempt - 1))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def lease_s(deps: AlertsDeps) -> float:
    """How long a claim holds: long enough for a few sends at their timeout between renewals."""
    return max(deps.settings.alerts_lease_s, 3 * deps.settings.webhook_timeout_s)


async def watermark(deps: AlertsDeps) -> tuple[int, int]:
    """Deliveries at or after this stream position wait: the oldest entry the alerts group has read and not
    acknowledged (one being enqueued may carry older events of a subscription than those enqueued), or,
    when none is pending, the entry after the last one the group has read (anything newer may be being
    enqueued by the time this pass sends)."""
    try:
        async with deps.redis.pipeline(transaction=True) as pipe:
            pipe.xinfo_groups(streams.DECISIONS)
            pipe.xpending(streams.DECISIONS, streams.ALERTS_GROUP)
            groups, summary = await pipe.execute()
    except Exception as exc:
        if not (isinstance(exc, redis_errors.ResponseError) and ("NOGROUP" in str(exc) or "no such key" in str(exc))):
            # Redis away: the last watermark still holds (it only ever grows).
            log.debug("watermark unavailable", error=repr(exc)[:200])
            return deps.last_watermark or (0, 0)
        # No group (nor stream): no worker reads the stream, so no enqueue can be in progress.
        deps.last_watermark = NO_LIMIT
        return NO_LIMIT
    group = next((g for g in groups if _text(g.get("name")) == streams.ALERTS_GROUP), None)
    read = position(_text(group.get("last-delivered-id"))) if group is not None else (0, 0)
    mark = (read[0], read[1] + 1)
    if int(summary.get("pending") or 0):
        mark = min(mark, position(_text(summary.get("min"))))
    deps.last_watermark = mark
    return mark


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _before(mark: tuple[int, int]) -> Any:
    ms, seq = mark
    return sa.or_(deliveries.c.stream_ms < ms, sa.and_(deliveries.c.stream_ms == ms, deliveries.c.stream_seq < seq))


_QUEUE = (deliveries.c.stream_ms, deliveries.c.stream_seq, deliveries.c.id)


async def claim(deps: AlertsDeps, limit: int, mark: tuple[int, int], busy: Sequence[str] = ()) -> list[str]:
    """Lease up to `limit` enabled subscriptions whose oldest waiting delivery is due, not leased by another
    worker (this worker's own leases, but those it is serving now (`busy`), are taken again: a pass that
    failed leaves them behind)."""
    now = utcnow()
    until = now + dt.timedelta(seconds=lease_s(deps))
    head = (
        sa.select(deliveries.c.next_attempt_at)
        .where(deliveries.c.subscription_id == subscriptions.c.id, deliveries.c.status == "pending", _before(mark))
        .order_by(*_QUEUE)
        .limit(1)
        .scalar_subquery()
    )
    free = sa.or_(
        subscriptions.c.leased_until.is_(None),
        subscriptions.c.leased_until < now,
        subscriptions.c.leased_by == deps.worker_id,
    )
    if busy:
        free = sa.and_(free, subscriptions.c.id.not_in(list(busy)))

    async def take(conn: AsyncConnection) -> list[str]:
        candidates = (
            sa.select(subscriptions.c.id).where(subscriptions.c.enabled.is_(True), free, head <= now).limit(limit)
        )
        if conn.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True, of=subscriptions)
        stmt = (
            subscriptions.update()
            .where(subscriptions.c.id.in_(candidates.scalar_subquery()), free)
            .values(leased_by=deps.worker_id, leased_until=until)
            .returning(subscriptions.c.id)
        )
        return list((await conn.execute(stmt)).scalars())

    return list(await deps.write(take))


async def release_all(deps: AlertsDeps) -> None:
    """Give up every lease of this worker (at shutdown: another worker takes over at once)."""

    async def release(conn: AsyncConnection) -> None:
        await conn.execute(
            subscriptions.update()
            .where(subscriptions.c.leased_by == deps.worker_id)
            .values(leased_by=None, leased_until=None)
        )

    await deps.write(release)


def _mine(deps: AlertsDeps, subscription_id: str) -> Any:
    return sa.and_(subscriptions.c.id == subscription_id, subscriptions.c.leased_by == deps.worker_id)


async def _renew(deps: AlertsDeps, subscription_id: str) -> dt.datetime | None:
    """Extend the lease; None when it was lost (expired and taken by another worker)."""
    until = utcnow() + dt.timedelta(seconds=lease_s(deps))

    async def renew(conn: AsyncConnection) -> int:
        done = await conn.execute(subscriptions.update().where(_mine(deps, subscription_id)).values(leased_until=until))
        return int(done.rowcount or 0)

    return until if await deps.write(renew) else None


async def record(
    deps: AlertsDeps,
    sub: Any,
    done: Sequence[tuple[int, send.Sent]],
    failed: tuple[Sequence[int], send.Sent] | None = None,
    *,
    release: bool,
    digest: bool = False,
) -> None:
    """Store a run's attempts and their consequences in one transaction: delivered, or retried later, or
    the subscription disabled; with `release`, the lease given up in the same transaction."""
    settings = deps.settings

    async def write(conn: AsyncConnection) -> None:
        now = utcnow()
        rows = [(d, r) for d, r in done] + ([(d, failed[1]) for d in failed[0]] if failed else [])
        if rows:
            await conn.execute(
                attempts.insert(),
                [
                    {
                        "delivery_id": d,
                        "subscription_id": sub.id,
                        "attempted_at": now,
                        "ok": r.ok,
                        "status_code": r.status_code,
                        "error": r.error,
                        "duration_ms": r.duration_ms,
                    }
                    for d, r in rows
                ],
            )
        change: dict[str, Any] = {}
        if done:
            await conn.execute(
                deliveries.update()
                .where(deliveries.c.id.in_([d for d, _ in done]))
                .values(status="delivered", delivered_at=now, attempts=deliveries.c.attempts + 1, last_error=None)
            )
            change["consecutive_failures"] = 0
        if failed:
            await _failed(conn, sub, failed[0], failed[1], now, digest=digest)
        if release:
            change.update(leased_by=None, leased_until=None)
        if change:
            await conn.execute(
                subscriptions.update()
                .where(_mine(deps, sub.id) if release else subscriptions.c.id == sub.id)
                .values(**change)
            )

    async def _failed(
        conn: AsyncConnection, sub: Any, ids: Sequence[int], result: send.Sent, now: dt.datetime, *, digest: bool
    ) -> None:
        chosen = deliveries.c.id.in_(list(ids))
        tries = (await conn.execute(sa.select(sa.func.max(deliveries.c.attempts)).where(chosen))).scalar() or 0
        values: dict[str, Any] = {"attempts": deliveries.c.attempts + 1, "last_error": result.error}
        if not digest:
            values["next_attempt_at"] = now + dt.timedelta(seconds=backoff_s(settings, tries + 1))
        await conn.execute(deliveries.update().where(chosen).values(**values))
        failures = (
            await conn.execute(
                subscriptions.update()
                .where(subscriptions.c.id == sub.id)
                .values(consecutive_failures=subscriptions.c.consecutive_failures + 1)
                .returning(subscriptions.c.consecutive_failures)
            )
        ).scalar() or 0
        if failures >= settings.alerts_disable_after:
            reason = f"{failures} consecutive failed deliveries; last: {result.error or 'failed'}"
            await conn.execute(
                subscriptions.update()
                .where(subscriptions.c.id == sub.id)
                .values(enabled=False, disabled_at=now, disabled_reason=reason[:500])
            )
            await bump_version(conn)
            log.warning(
                "subscription disabled after repeated failures",
                subscription=sub.id,
                channel=sub.channel,
                failures=failures,
                last_error=(result.error or "")[:300],
            )

    await deps.write(write)


async def _due_runs(deps: AlertsDeps, ids: Sequence[str], mark: tuple[int, int]) -> dict[str, tuple[Any, list[Any]]]:
    """For each still enabled subscription of `ids`: its row and its oldest waiting deliveries, from the head
    on while due; one read for all of them."""
    ranked = (
        sa.select(
            deliveries,
            sa.func.row_number().over(partition_by=deliveries.c.subscription_id, order_by=_QUEUE).label("rank"),
        )
        .where(deliveries.c.subscription_id.in_(list(ids)), deliveries.c.status == "pending")
        .subquery()
    )
    async with deps.engine.connect() as conn:
        subs = (
            await conn.execute(
                sa.select(subscriptions).where(subscriptions.c.id.in_(list(ids)), subscriptions.c.enabled.is_(True))
            )
        ).all()
        rows = (
            await conn.execute(
                sa.select(ranked).where(ranked.c.rank <= RUN).order_by(ranked.c.subscription_id, ranked.c.rank)
            )
        ).all()
    now = utcnow()
    runs: dict[str, tuple[Any, list[Any]]] = {s.id: (s, []) for s in subs}
    stopped: set[str] = set()
    for row in rows:
        if row.subscription_id not in runs or row.subscription_id in stopped:
            continue
        if row.next_attempt_at > now or (row.stream_ms, row.stream_seq) >= mark:
            stopped.add(row.subscription_id)  # in order: nothing overtakes a delivery waiting for its retry
            continue  # (or for an older entry)
        runs[row.subscription_id][1].append(row)
    return runs


async def send_one(deps: AlertsDeps, sub: Any, delivery: Any) -> send.Sent:
    """One attempt of one delivery over the subscription's channel."""
    if sub.channel == "webhook":
        # deps.http checks the host as it connects (send.webhook_client), under MINUTES_ALLOW_PRIVATE_URLS.
        return await send.post_webhook(deps.http, sub.url, sub.secret, delivery.event_id, delivery.payload)
    title, body = send.notification(PUBLIC.validate_json(delivery.payload))
    return await send.notify(sub.url, title, body, allow_private=deps.settings.allow_private_urls)


async def serve(deps: AlertsDeps, sub: Any, run: Sequence[Any], lease_end: dt.datetime) -> tuple[int, bool]:
    """Send a leased subscription's run in order until one fails, and record it (releasing the lease unless
    the run was full: more may wait); returns how many went and whether the lease is kept. A crash between a
    send and its record re-sends it after the lease expired, with the same `webhook-id` (at least once, as
    the receiver's dedupe expects)."""
    half = dt.timedelta(seconds=lease_s(deps) / 2)
    done: list[tuple[int, send.Sent]] = []
    for delivery in run:
        if lease_end - utcnow() < half:
            renewed = await _renew(deps, sub.id)
            if renewed is None:  # another worker has it now: record what went, send no more
                log.warning("subscription lease lost", subscription=sub.id)
                await record(deps, sub, done, release=False)
                return len(done), False
            lease_end = renewed
        result = await send_one(deps, sub, delivery)
        if not result.ok:
            await record(deps, sub, done, ([delivery.id], result), release=True)
            return len(done), False
        done.append((delivery.id, result))
    keep = len(run) >= RUN
    await record(deps, sub, done, release=not keep)
    return len(done), keep


async def _release(deps: AlertsDeps, ids: Sequence[str]) -> None:
    if not ids:
        return

    async def release(conn: AsyncConnection) -> None:
        await conn.execute(
            subscriptions.update()
            .where(subscriptions.c.id.in_(list(ids)), subscriptions.c.leased_by == deps.worker_id)
            .values(leased_by=None, leased_until=None)
        )

    await deps.write(release)


async def deliver_due(deps: AlertsDeps) -> int:
    """One pass: claim subscriptions with due deliveries as slots free up (at most `alerts_concurrency`
    served at once), read their runs together, until none is left; returns how many deliveries went."""
    mark = await watermark(deps)
    limit = deps.settings.alerts_concurrency
    running: dict[asyncio.Task[tuple[int, bool]], str] = {}
    again: list[str] = []  # leased, served a full run: read again
    failed: set[str] = set()  # not claimed again in this pass (failed, or had nothing to send)
    sent = 0
    more = True
    try:
        while True:
            free = limit - len(running)
            # Claim when half the slots are free (or all work is done): fewer, larger claims and reads.
            if deps.stopping.is_set() and (more or again):  # shutting down: finish what is in flight
                await _release(deps, again)
                more, again = False, []
            if (more or again) and (free * 2 >= limit or not running):
                wanted = max(free - len(again), 0)
                claimed = (
                    await claim(deps, wanted, mark, busy=[*running.values(), *failed, *again])
                    if more and wanted
                    else []
                )
                more = more and len(claimed) == wanted
                ids, again = [*again, *claimed], []
                lease_end = utcnow() + dt.timedelta(seconds=lease_s(deps))
                runs = await _due_runs(deps, ids, mark) if ids else {}
                idle = [i for i in ids if not runs.get(i, (None, []))[1]]
                failed.update(idle)  # nothing to send after all (disabled meanwhile): not claimed again now
                await _release(deps, idle)
                for sid, (sub, run) in runs.items():
                    if run:
                        running[asyncio.create_task(serve(deps, sub, run, lease_end))] = sid
            if not running:
                return sent
            finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                sid = running.pop(task)
                try:
                    went, keep = task.result()
                except Exception as exc:  # the database away: its rows and lease wait for the next pass
                    failed.add(sid)
                    log.warning(
                        "serving a subscription failed; retrying later",
                        subscription=sid,
                        error=f"{type(exc).__name__}: {str(exc)[:300]}",
                    )
                    continue
                sent += went
                if keep:
                    again.append(sid)
    finally:
        for task in running:
            task.cancel()

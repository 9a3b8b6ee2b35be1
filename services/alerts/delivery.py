"""Claims and records: which worker serves a subscription now, and what its runs leave in the database.

Several alerts workers may share a database. A worker claims a subscription with a lease (a read of the
candidates, then one atomic UPDATE … RETURNING that re-checks the lease is free) and alone serves it until
nothing is left, renewing the lease while it works and releasing it in the transaction that records the
last results. A worker that dies leaves its leases to expire (`MINUTES_ALERTS_LEASE_S`); what it sent but
did not record is sent again (same `webhook-id`).

A subscription has work when its cursor is at or before the newest entry of the public stream, or when the
oldest of its waiting rows is due. A run from the stream is recorded with one UPDATE of the subscription
(cursor, counters), guarded by the lease: a worker that lost its lease records nothing, and the next holder
sends from the cursor again. Rows are written only for what must keep state (services/alerts/fanout.py).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.alerts import send
from services.alerts.deps import AlertsDeps
from services.alerts.fanout import bump_version, keep
from services.alerts.models import attempts, deliveries, subscriptions
from services.alerts.window import Item, Position
from shared.contracts.events import utcnow
from shared.logging import get_logger

log = get_logger(__name__)

RUN = 50  # waiting rows read, sent and recorded per run
QUEUE = (deliveries.c.stream_ms, deliveries.c.stream_seq, deliveries.c.id)


def backoff_s(settings: Any, attempt: int) -> float:
    """Delay before retry `attempt` (1-based): doubling from the initial delay to the cap, the upper half
    jittered so receivers coming back are not hit by every sender at once."""
    ceiling = min(settings.alerts_backoff_cap_s, settings.alerts_backoff_initial_s * 2 ** (attempt - 1))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def lease_s(deps: AlertsDeps) -> float:
    """How long a claim holds: long enough for a few sends at their deadline between renewals."""
    return max(deps.settings.alerts_lease_s, 3 * deps.settings.webhook_timeout_s)


def _free(deps: AlertsDeps, now: dt.datetime) -> Any:
    return sa.or_(
        subscriptions.c.leased_until.is_(None),
        subscriptions.c.leased_until < now,
        subscriptions.c.leased_by == deps.worker_id,
    )


def _at_or_before(head: Position) -> Any:
    ms, seq = head
    return sa.or_(
        subscriptions.c.next_ms < ms, sa.and_(subscriptions.c.next_ms == ms, subscriptions.c.next_seq <= seq)
    )


async def claim(deps: AlertsDeps, limit: int, head: Position | None, busy: Sequence[str] = ()) -> list[str]:
    """Lease up to `limit` enabled subscriptions with work (their cursor at or before `head`, the newest
    entry, or their oldest waiting row due) that no other worker holds. This worker's own leases are taken
    again, but not those of `busy` (served or resting now)."""
    now = utcnow()
    oldest_due = (
        sa.select(deliveries.c.next_attempt_at)
        .where(deliveries.c.subscription_id == subscriptions.c.id, deliveries.c.status == "pending")
        .order_by(*QUEUE)
        .limit(1)
        .scalar_subquery()
    )
    work = oldest_due <= now if head is None else sa.or_(_at_or_before(head), oldest_due <= now)
    free = sa.and_(subscriptions.c.enabled.is_(True), _free(deps, now))
    if busy:
        free = sa.and_(free, subscriptions.c.id.not_in(list(busy)))
    # A read first: most wake-ups find nothing to do, and a read takes no write lock (SQLite has one).
    async with deps.engine.connect() as conn:
        found = list((await conn.execute(sa.select(subscriptions.c.id).where(free, work).limit(limit))).scalars())
    if not found:
        return []
    until = now + dt.timedelta(seconds=lease_s(deps))

    async def take(conn: AsyncConnection) -> list[str]:
        # The lease re-checked in the UPDATE (another worker may have taken one since the read): on
        # PostgreSQL the row is locked and the condition evaluated again on its newest version.
        stmt = (
            subscriptions.update()
            .where(subscriptions.c.id.in_(found), free)
            .values(leased_by=deps.worker_id, leased_until=until)
            .returning(subscriptions.c.id)
        )
        return list((await conn.execute(stmt)).scalars())

    return list(await deps.write(take))


async def any_enabled(deps: AlertsDeps) -> bool:
    """Whether any subscription is enabled at all."""
    async with deps.engine.connect() as conn:
        stmt = sa.select(sa.exists().where(subscriptions.c.enabled.is_(True)))
        return bool((await conn.execute(stmt)).scalar())


async def waiting_runs(deps: AlertsDeps, ids: Sequence[str]) -> dict[str, tuple[Any, list[Any]]]:
    """For each still enabled subscription of `ids`: its row and its oldest waiting rows (up to RUN, in
    stream order); one read for all of them."""
    if not ids:
        return {}
    ranked = (
        sa.select(
            deliveries,
            sa.func.row_number().over(partition_by=deliveries.c.subscription_id, order_by=QUEUE).label("rank"),
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
    runs: dict[str, tuple[Any, list[Any]]] = {s.id: (s, []) for s in subs}
    for row in rows:
        if row.subscription_id in runs:
            runs[row.subscription_id][1].append(row)
    return runs


async def release(deps: AlertsDeps, ids: Sequence[str]) -> None:
    """Give up this worker's leases of `ids`."""
    if not ids:
        return

    async def write(conn: AsyncConnection) -> None:
        await conn.execute(
            subscriptions.update()
            .where(subscriptions.c.id.in_(list(ids)), subscriptions.c.leased_by == deps.worker_id)
            .values(leased_by=None, leased_until=None)
        )

    await deps.write(write)


async def release_all(deps: AlertsDeps) -> None:
    """Give up every lease of this worker (at shutdown: another worker takes over at once)."""

    async def write(conn: AsyncConnection) -> None:
        await conn.execute(
            subscriptions.update()
            .where(subscriptions.c.leased_by == deps.worker_id)
            .values(leased_by=None, leased_until=None)
        )

    await deps.write(write)


def _mine(deps: AlertsDeps, subscription_id: str) -> Any:
    return sa.and_(subscriptions.c.id == subscription_id, subscriptions.c.leased_by == deps.worker_id)


async def renew(deps: AlertsDeps, subscription_id: str) -> dt.datetime | None:
    """Extend the lease; None when it was lost (expired and taken by another worker)."""
    until = utcnow() + dt.timedelta(seconds=lease_s(deps))

    async def write(conn: AsyncConnection) -> int:
        done = await conn.execute(subscriptions.update().where(_mine(deps, subscription_id)).values(leased_until=until))
        return int(done.rowcount or 0)

    return until if await deps.write(write) else None


def _attempt(sub_id: str, delivery_id: int, result: send.Sent, now: dt.datetime) -> dict[str, Any]:
    return {
        "delivery_id": delivery_id,
        "subscription_id": sub_id,
        "attempted_at": now,
        "ok": result.ok,
        "status_code": result.status_code,
        "error": result.error,
        "duration_ms": result.duration_ms,
    }


async def _count_failure(
    deps: AlertsDeps, conn: AsyncConnection, sub: Any, result: send.Sent, now: dt.datetime
) -> None:
    """One more consecutive failure of the subscription; disabled (with the reason) at the limit."""
    failures = (
        await conn.execute(
            subscriptions.update()
            .where(subscriptions.c.id == sub.id)
            .values(consecutive_failures=subscriptions.c.consecutive_failures + 1)
            .returning(subscriptions.c.consecutive_failures)
        )
    ).scalar() or 0
    if failures < deps.settings.alerts_disable_after:
        return
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


async def record_stream(
    deps: AlertsDeps,
    sub: Any,
    until: Position,
    *,
    sent: int = 0,
    kept: Sequence[Item] = (),
    status: str = "pending",
    failed: send.Sent | None = None,
    release: bool,
) -> bool:
    """Record a run read from the stream, in one transaction: the cursor moved to `until` (everything before
    it sent or kept), `sent` deliveries counted, `kept` written as rows (with `failed`, the first of them is
    the delivery that just failed: its attempt recorded, its retry scheduled). Guarded by the lease: returns
    False, recording nothing, when another worker holds it now."""
    settings = deps.settings

    async def write(conn: AsyncConnection) -> bool:
        now = utcnow()
        values: dict[str, Any] = {"next_ms": until[0], "next_seq": until[1]}
        if sent:
            values.update(
                delivered=subscriptions.c.delivered + sent, last_delivered_at=now, consecutive_failures=0
            )
        if release:
            values.update(leased_by=None, leased_until=None)
        done = await conn.execute(subscriptions.update().where(_mine(deps, sub.id)).values(**values))
        if not done.rowcount:
            return False
        first = None
        if failed is not None:
            first = (1, now + dt.timedelta(seconds=backoff_s(settings, 1)), failed.error)
        ids = await keep(conn, sub.id, kept, status=status, now=now, first=first)
        if failed is not None and kept:
            row = ids.get(kept[0].event.event_id if kept[0].event is not None else "")
            if row is not None:  # None: kept already (a run sent again after a lost lease)
                await conn.execute(attempts.insert(), [_attempt(sub.id, row, failed, now)])
            await _count_failure(deps, conn, sub, failed, now)
        return True

    return bool(await deps.write(write))


async def record_rows(
    deps: AlertsDeps,
    sub: Any,
    done: Sequence[tuple[int, send.Sent]],
    failed: tuple[Sequence[int], send.Sent] | None = None,
    *,
    release: bool,
    digest: bool = False,
) -> None:
    """Record sends of waiting rows in one transaction: their attempts, delivered, or retried later, or the
    subscription disabled; with `release`, the lease given up in the same transaction."""
    settings = deps.settings

    async def write(conn: AsyncConnection) -> None:
        now = utcnow()
        rows = [(d, r) for d, r in done] + ([(d, failed[1]) for d in failed[0]] if failed else [])
        if rows:
            await conn.execute(attempts.insert(), [_attempt(sub.id, d, r, now) for d, r in rows])
        change: dict[str, Any] = {}
        if done:
            await conn.execute(
                deliveries.update()
                .where(deliveries.c.id.in_([d for d, _ in done]))
                .values(status="delivered", delivered_at=now, attempts=deliveries.c.attempts + 1, last_error=None)
            )
            change.update(
                delivered=subscriptions.c.delivered + len(done), last_delivered_at=now, consecutive_failures=0
            )
        if release:
            change.update(leased_by=None, leased_until=None)
        if change:
            await conn.execute(
                subscriptions.update()
                .where(_mine(deps, sub.id) if release else subscriptions.c.id == sub.id)
                .values(**change)
            )
        if failed:
            chosen = deliveries.c.id.in_(list(failed[0]))
            tries = (await conn.execute(sa.select(sa.func.max(deliveries.c.attempts)).where(chosen))).scalar() or 0
            values: dict[str, Any] = {"attempts": deliveries.c.attempts + 1, "last_error": failed[1].error}
            if not digest:
                values["next_attempt_at"] = now + dt.timedelta(seconds=backoff_s(settings, tries + 1))
            await conn.execute(deliveries.update().where(chosen).values(**values))
            await _count_failure(deps, conn, sub, failed[1], now)

    await deps.write(write)

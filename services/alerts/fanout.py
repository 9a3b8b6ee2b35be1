"""Fan-out: the deliveries a batch of events makes, for every enabled subscription each event matches.

The subscriptions are cached between batches with their compiled filters, grouped by filter (many
subscriptions share one: each distinct filter is evaluated once per event), and read again only when
`alerts_state.subscriptions_version` changed (every change of a subscription increments it in the same
transaction): one small read per batch instead of every subscription per event. A batch is one transaction
with one multi-row insert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.alerts.matching import Event, Filter, compiled, event_stems, matches
from services.alerts.models import alerts_state, deliveries, subscriptions
from services.store.models import meetings
from shared.contracts.events import utcnow


@dataclass(frozen=True)
class Pending:
    """One event to fan out: the event, its JSON as published, its public-stream entry id."""

    event: Event
    payload: str
    stream_id: str | None


@dataclass(frozen=True)
class _Sub:
    id: str
    created_at: dt.datetime
    status: str  # what its deliveries start as: "pending", or "digest" for a digest subscription


@dataclass
class SubscriptionCache:
    """The enabled subscriptions by filter, as of `version` (None: not read yet)."""

    version: int | None = None
    groups: list[tuple[Filter, list[_Sub]]] = field(default_factory=list)
    needs_region: bool = False

    async def current(self, conn: AsyncConnection) -> SubscriptionCache:
        """This cache, read again first if the subscriptions changed since."""
        version = await subscriptions_version(conn)
        if version is None or version != self.version:
            await self._load(conn)
            self.version = version
        return self

    async def _load(self, conn: AsyncConnection) -> None:
        rows = (await conn.execute(sa.select(subscriptions).where(subscriptions.c.enabled.is_(True)))).all()
        by_filter: dict[Filter, list[_Sub]] = {}
        for r in rows:
            flt = compiled(r.municipality, r.region, r.committee, r.outcome, r.case_number, r.phrase)
            status = "digest" if r.channel == "apprise" and r.digest != "none" else "pending"
            by_filter.setdefault(flt, []).append(_Sub(r.id, r.created_at, status))
        self.groups = list(by_filter.items())
        self.needs_region = any(f.region for f in by_filter)


async def subscriptions_version(conn: AsyncConnection) -> int | None:
    """The subscriptions' change counter (None on a database without the row: never cached)."""
    found = (await conn.execute(sa.select(alerts_state.c.subscriptions_version).where(alerts_state.c.id == 1))).scalar()
    return int(found) if found is not None else None


async def bump_version(conn: AsyncConnection) -> None:
    """Count a change of the subscriptions (call inside the changing transaction)."""
    await conn.execute(
        alerts_state.update()
        .where(alerts_state.c.id == 1)
        .values(subscriptions_version=alerts_state.c.subscriptions_version + 1)
    )


def stream_time(stream_id: str | None) -> dt.datetime | None:
    """When an entry entered the stream (its id's milliseconds)."""
    if not stream_id:
        return None
    return dt.datetime.fromtimestamp(int(stream_id.split("-", 1)[0]) / 1000, dt.UTC)


def position(stream_id: str | None) -> tuple[int, int]:
    """An entry id as (milliseconds, sequence), the order of the stream; (0, 0) without one."""
    if not stream_id:
        return 0, 0
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


async def _regions(conn: AsyncConnection, document_ids: set[str]) -> dict[str, str]:
    stmt = sa.select(meetings.c.document_id, meetings.c.region).where(meetings.c.document_id.in_(document_ids))
    return {r.document_id: r.region for r in (await conn.execute(stmt)).all() if r.region is not None}


async def enqueue_batch(
    engine: AsyncEngine,
    cache: SubscriptionCache,
    batch: Sequence[Pending],
    *,
    replay: bool = False,
    only: str | None = None,
) -> int:
    """Add a delivery of each event for each enabled subscription it matches, in one transaction; returns
    how many. Rows go in in stream order (and carry their position, which the sender orders by).

    A subscription gets events that entered the stream after it was created; a replay ignores that and
    adds a delivery even when the event was delivered before (same `webhook-id`: receivers dedupe). Outside
    a replay an event already enqueued for a subscription (a redelivered entry) is not added again.
    """
    if not batch:
        return 0
    now = utcnow()
    async with engine.begin() as conn:
        subs = await cache.current(conn)
        if not subs.groups:
            return 0
        regions = await _regions(conn, {p.event.document_id for p in batch}) if subs.needs_region else {}
        rows: list[dict[str, Any]] = []
        for item in batch:
            published = stream_time(item.stream_id) or now
            ms, seq = position(item.stream_id)
            text = event_stems(item.event) if any(f.query is not None for f, _ in subs.groups) else None
            region = regions.get(item.event.document_id)
            for flt, members in subs.groups:
                if not matches(flt, item.event, region=region, text_stems=text):
                    continue
                for s in members:
                    if (only is not None and s.id != only) or (not replay and s.created_at > published):
                        continue
                    rows.append(
                        {
                            "subscription_id": s.id,
                            "event_id": item.event.event_id,
                            "stream_id": None if replay else item.stream_id,
                            "stream_ms": ms,
                            "stream_seq": seq,
                            "payload": item.payload,
                            "status": s.status,
                            "attempts": 0,
                            "next_attempt_at": now,
                            "created_at": now,
                            "replay": replay,
                        }
                    )
        if rows and not replay:
            rows = await _not_enqueued(conn, rows, {p.event.event_id for p in batch})
        if rows:
            await conn.execute(_insert_once(conn.dialect.name), rows)
    return len(rows)


async def _not_enqueued(conn: AsyncConnection, rows: list[dict[str, Any]], event_ids: set[str]) -> list[dict[str, Any]]:
    """The rows whose event is not already a delivery of their subscription (an entry read again, or one
    event published twice by the outbox relay's at-least-once)."""
    known = {
        (r.subscription_id, r.event_id)
        for r in (
            await conn.execute(
                sa.select(deliveries.c.subscription_id, deliveries.c.event_id).where(
                    deliveries.c.event_id.in_(event_ids)
                )
            )
        ).all()
    }
    fresh = []
    for r in rows:
        key = (r["subscription_id"], r["event_id"])
        if key not in known:
            known.add(key)  # the same event twice in one batch: once
            fresh.append(r)
    return fresh


def _insert_once(dialect: str) -> Any:
    """INSERT that skips a delivery already there (the unique (subscription, event, stream entry))."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(deliveries).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(deliveries).on_conflict_do_nothing()

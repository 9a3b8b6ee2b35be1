"""Delivery rows: the deliveries that keep state of their own, written in bulk.

A healthy subscription needs no row per delivery: it reads the stream from its cursor (services/alerts/
window.py, services/alerts/serve.py). Rows are written here only for
- the matching events a subscription keeps while it cannot send them (`keep`): behind a failed delivery
  waiting for its retry, or for a digest; one multi-row INSERT per run, a delivery already kept skipped;
- a replay (`replay_batch`): the events of a batch again for each enabled subscription they match (or the
  one), whatever was sent before (the same `webhook-id`: receivers dedupe).

The subscriptions a replay matches are cached with their compiled filters, grouped by filter (each distinct
filter evaluated once per event), and read again only when `alerts_state.subscriptions_version` changed
(every change of a subscription increments it in the same transaction).
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
from services.alerts.window import Item, position
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
            by_filter.setdefault(flt, []).append(_Sub(r.id, r.created_at))
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


async def _regions(conn: AsyncConnection, document_ids: set[str]) -> dict[str, str]:
    stmt = sa.select(meetings.c.document_id, meetings.c.region).where(meetings.c.document_id.in_(document_ids))
    return {r.document_id: r.region for r in (await conn.execute(stmt)).all() if r.region is not None}


async def replay_batch(
    engine: AsyncEngine, cache: SubscriptionCache, batch: Sequence[Pending], *, only: str | None = None
) -> int:
    """Add a replayed delivery of each event for each enabled subscription it matches (or only `only`), in
    one transaction; returns how many. A replay ignores when the subscription was created, and adds a
    delivery even when the event was delivered before."""
    if not batch:
        return 0
    now = utcnow()
    added = 0
    async with engine.begin() as conn:
        subs = await cache.current(conn)
        if not subs.groups:
            return 0
        regions = await _regions(conn, {p.event.document_id for p in batch}) if subs.needs_region else {}
        phrases = any(f.query is not None for f, _ in subs.groups)
        for item in batch:
            text = event_stems(item.event) if phrases else None
            region = regions.get(item.event.document_id)
            ids = [
                s.id
                for flt, members in subs.groups
                if matches(flt, item.event, region=region, text_stems=text)
                for s in members
                if only is None or s.id == only
            ]
            for at in range(0, len(ids), _CHUNK):
                done = await conn.execute(_replay_rows(item, ids[at : at + _CHUNK], now))
                added += max(done.rowcount or 0, 0)
    return added


# Subscription ids per statement (bound parameters: far below SQLite's and PostgreSQL's limits).
_CHUNK = 500


def _replay_rows(item: Pending, ids: Sequence[str], now: dt.datetime) -> Any:
    """INSERT … SELECT of one event's replayed deliveries for the subscriptions `ids`: the database repeats
    the row (one set of parameters per event, not per delivery)."""
    ms, seq = position(item.stream_id)
    digest = sa.and_(subscriptions.c.channel == "apprise", subscriptions.c.digest != "none")
    when = sa.bindparam("now", now, type_=deliveries.c.created_at.type)
    columns = {
        "subscription_id": subscriptions.c.id,
        "event_id": sa.literal(item.event.event_id, deliveries.c.event_id.type),
        "stream_id": sa.literal(None, deliveries.c.stream_id.type),
        "stream_ms": sa.literal(ms, sa.BigInteger),
        "stream_seq": sa.literal(seq, sa.BigInteger),
        "payload": sa.literal(item.payload, sa.Text),
        "status": sa.case((digest, "digest"), else_="pending"),
        "attempts": sa.literal(0, sa.Integer),
        "next_attempt_at": when,
        "created_at": when,
        "replay": sa.literal(True, sa.Boolean),
    }
    rows = sa.select(*columns.values()).where(subscriptions.c.id.in_(list(ids)))
    return deliveries.insert().from_select(list(columns), rows)


async def keep(
    conn: AsyncConnection,
    subscription_id: str,
    items: Sequence[Item],
    *,
    status: str,
    now: dt.datetime,
    first: tuple[int, dt.datetime, str | None] | None = None,
) -> dict[str, int]:
    """Keep a subscription's items as rows (`status` "pending" or "digest"), in one multi-row INSERT; one
    already kept (the same stream entry) is skipped. `first` = (attempts, next attempt, error) of the first
    item: a delivery that just failed. Returns the new rows' ids by event id."""
    if not items:
        return {}
    rows = [
        {
            "subscription_id": subscription_id,
            "event_id": it.event.event_id if it.event is not None else "",
            "stream_id": it.id,
            "stream_ms": it.pos[0],
            "stream_seq": it.pos[1],
            "payload": it.text,
            "status": status,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
            "last_error": None,
            "replay": False,
        }
        for it in items
    ]
    if first is not None:
        rows[0].update(attempts=first[0], next_attempt_at=first[1], last_error=first[2])
    insert = _insert(conn.dialect.name).values(rows).on_conflict_do_nothing()
    done = await conn.execute(insert.returning(deliveries.c.id, deliveries.c.event_id))
    return {r.event_id: r.id for r in done.all()}


def _insert(dialect: str) -> Any:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(deliveries)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(deliveries)

"""Where a subscription starts reading the public stream.

- A new subscription starts at the moment it was created (`created_position`): it gets the events published
  after it.
- A subscription stored before revision 0013_alerts_cursors has no cursor yet. The worker's start gives it
  the position the old consumer group `alerts` had reached — its oldest unacknowledged entry, else the one
  after the last it read: every entry before that was enqueued as rows, which are kept and sent first — and
  never one before the subscription's creation. The old group is then removed (nothing reads it any more).
  Without a group (no alerts worker ever read this stream) it starts at its creation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.models import subscriptions
from services.alerts.window import Position, following, position
from shared import streams
from shared.logging import get_logger

log = get_logger(__name__)

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def created_position(at: dt.datetime) -> Position:
    """The first stream position at or after `at` (an entry's id is its millisecond): the entries published
    from then on."""
    micros = (at - _EPOCH) // dt.timedelta(microseconds=1)
    return -(-micros // 1000), 0


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


async def old_group_position(client: Redis) -> Position | None:
    """Where the pre-0012 consumer group had got to (None: there is no such group)."""
    try:
        async with client.pipeline(transaction=True) as pipe:
            pipe.xinfo_groups(streams.DECISIONS)
            pipe.xpending(streams.DECISIONS, streams.ALERTS_GROUP)
            groups, summary = await pipe.execute()
    except redis_errors.ResponseError as exc:
        if "NOGROUP" in str(exc) or "no such key" in str(exc):
            return None
        raise
    group = next((g for g in groups if _text(g.get("name")) == streams.ALERTS_GROUP), None)
    if group is None:
        return None
    mark = following(position(_text(group.get("last-delivered-id"))))
    if int(summary.get("pending") or 0):
        mark = min(mark, position(_text(summary.get("min"))))
    return mark


async def adopt_positions(engine: AsyncEngine, client: Redis) -> int:
    """Give every subscription without a cursor its position (see the module's docstring); returns how many
    were given one. Safe when several workers start at once: a cursor is only ever set where there is none."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(subscriptions.c.id, subscriptions.c.created_at).where(subscriptions.c.next_ms.is_(None))
            )
        ).all()
    if not rows:
        return 0
    mark = await old_group_position(client)
    given = 0
    async with engine.begin() as conn:
        for row in rows:
            start = created_position(row.created_at)
            if mark is not None:
                start = max(start, mark)
            done = await conn.execute(
                subscriptions.update()
                .where(subscriptions.c.id == row.id, subscriptions.c.next_ms.is_(None))
                .values(next_ms=start[0], next_seq=start[1])
            )
            given += int(done.rowcount or 0)
    if mark is not None:
        await client.xgroup_destroy(streams.DECISIONS, streams.ALERTS_GROUP)
    log.info("subscriptions given their stream position", count=given, from_old_group=mark is not None)
    return given

"""Outbox relay: publishes unsent outbox rows to the public decisions stream exactly once, then marks them sent.

A Lua script makes "publish" atomic with a dedupe key (`SET key NX EX` then XADD), so a relay that crashed
after publishing but before marking the rows sent skips them next time, and two relays (two store workers)
never publish one event twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis
from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.store.db import is_db_unavailable
from services.store.models import outbox
from shared import streams
from shared.consume import OutageGate, redis_outage
from shared.contracts.events import utcnow
from shared.logging import get_logger
from shared.retry import Backoff

if TYPE_CHECKING:
    from services.store.sqlite_writer import SqliteWriter

log = get_logger(__name__)


DEDUPE_PREFIX = streams.DEDUPE_PREFIX
# Must outlive any gap between publishing and marking sent (a crashed worker restarted days later).
DEDUPE_TTL_S = 14 * 24 * 3600

# KEYS: the stream, then one dedupe key per event. ARGV: ttl seconds, maxlen, field, then the payloads in the
# keys' order. Each event is published only if its dedupe key was new; returns how many were. One script
# call for a batch (not one per event): redis-py's packing of a command per event was most of the relay's
# CPU, and the batch is now atomic as a whole, not only each event.
PUBLISH_LUA = """
local added = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', ARGV[3], ARGV[i + 2])
    added = added + 1
  end
end
return added
"""


@dataclass(frozen=True)
class PendingEvent:
    """One unsent outbox row."""

    id: int
    event_id: str
    stream: str
    payload: str


@functools.cache
def _statements() -> tuple[Any, Any]:
    """Built once (services/store/repository.py says why): the oldest unsent rows; rows marked sent."""
    unsent = (
        select(outbox.c.id, outbox.c.event_id, outbox.c.stream, outbox.c.payload)
        .where(outbox.c.sent_at.is_(None))
        .order_by(outbox.c.id)
        .limit(bindparam("limit"))
    )
    sent = update(outbox).where(outbox.c.id.in_(bindparam("ids", expanding=True))).values(sent_at=bindparam("at"))
    return unsent, sent


class OutboxRelay:
    """Background task publishing the outbox; `wake()` after each commit, polls as a safety net."""

    def __init__(
        self,
        engine: AsyncEngine,
        redis: Redis,
        *,
        maxlen: int,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        dedupe_ttl_s: int = DEDUPE_TTL_S,
    ) -> None:
        self.engine = engine
        self.redis = redis
        self.maxlen = maxlen
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.dedupe_ttl_s = dedupe_ttl_s
        self._script = redis.register_script(PUBLISH_LUA)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._gate = OutageGate("store-relay")
        # SQLite: the relay's two transactions of a pass in one thread hop each on the store's plain connection
        # (services/store/sqlite_writer.py) instead of one per statement; set by the bootstrap. None: `engine`.
        self.sqlite_writer: Callable[[], SqliteWriter | None] | None = None

    def _writer(self) -> SqliteWriter | None:
        return self.sqlite_writer() if self.sqlite_writer is not None else None

    def wake(self) -> None:
        """Ask the relay to publish now (called right after a commit that wrote outbox rows)."""
        self._wake.set()

    async def fetch_unsent(self, limit: int | None = None) -> list[PendingEvent]:
        """The oldest unsent rows."""
        # A read-only transaction of its own: on SQLite a read that later writes could fail to upgrade.
        params = {"limit": limit or self.batch_size}

        async def read(conn: AsyncConnection) -> list[PendingEvent]:
            rows = (await conn.execute(_statements()[0], params)).all()
            return [PendingEvent(r.id, r.event_id, r.stream, r.payload) for r in rows]

        writer = self._writer()
        if writer is not None:
            return await writer.run(read)
        async with self.engine.connect() as conn:
            return await read(conn)

    async def publish(self, events: Sequence[PendingEvent]) -> int:
        """Publish events (one script call per stream, in order); returns how many were new to the stream."""
        added = 0
        start = 0
        while start < len(events):
            stream = events[start].stream
            end = start
            while end < len(events) and events[end].stream == stream:
                end += 1
            run = events[start:end]
            added += int(await self._script(
                keys=[stream, *(DEDUPE_PREFIX + ev.event_id for ev in run)],
                args=[self.dedupe_ttl_s, self.maxlen, streams.PUBLIC_FIELD, *(ev.payload for ev in run)],
            ))
            start = end
        return added

    async def mark_sent(self, ids: Sequence[int], at: dt.datetime | None = None) -> None:
        """Mark rows sent in one UPDATE."""
        if not ids:
            return
        params = {"ids": list(ids), "at": at or utcnow()}

        async def write(conn: AsyncConnection) -> None:
            await conn.execute(_statements()[1], params)

        writer = self._writer()
        if writer is not None:
            await writer.run(write)
            return
        async with self.engine.begin() as conn:
            await write(conn)

    async def run_once(self) -> int:
        """Publish every unsent row, batch by batch; returns how many entries were added to the stream."""
        added = 0
        async with self._lock:  # one pass at a time per process; other processes are safe through the script
            while True:
                events = await self.fetch_unsent()
                if not events:
                    return added
                added += await self.publish(events)
                await self.mark_sent([ev.id for ev in events])
                if len(events) < self.batch_size:
                    return added

    async def _loop(self) -> None:
        # Failed passes (not outages) back off by the shared policy (shared/retry.py), from the poll interval.
        policy = Backoff(self.poll_interval_s, 30.0)
        failures = 0
        backoff = self.poll_interval_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
            self._wake.clear()
            try:
                added = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Redis or the database is away: keep the rows unsent and try again, slower; said once.
                if is_db_unavailable(exc) or redis_outage(exc):
                    await self._gate.wait(exc)
                else:
                    log.exception("outbox relay pass failed")
                    failures += 1
                    backoff = policy.delay(failures + 1)
                continue
            self._gate.up()
            failures, backoff = 0, self.poll_interval_s
            if added:
                log.debug("outbox relay published", count=added)

    def start(self) -> None:
        """Start the background task."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="outbox-relay")

    async def stop(self, flush: bool = True) -> None:
        """Stop the background task, then publish what is still unsent (best effort)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if flush:
            try:
                await self.run_once()
            except Exception:
                log.exception("outbox flush at shutdown failed; rows stay unsent for the next start")

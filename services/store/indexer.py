"""The search indexer: makes stored items searchable, in large batches, after the store committed them.

**Why a queue table.** The store writes one `search_queue` row (an integer key and the item id) per stored
item in the transaction that stores the item; the indexer takes the oldest rows, reads those items' current
title, decision and sections, writes their index entries (`search.index_items`) and deletes exactly the rows
it took — all in one transaction. Cheaper and sturdier than the alternatives:
- a consumer group on a stream cannot say "stored": the items stream carries what the parser made (a
  consumer could index an item the store then dead-letters), and the public decisions stream carries only
  decided items (an item without a decision is searchable too) — and either way the indexer would need the
  texts again, from the database or by re-validating the events;
- the queue row commits with the item or not at all, so nothing stored is ever left unindexed: a crash of
  the indexer (or of the process) before its commit leaves the rows queued, and the next pass indexes them
  again; indexing is idempotent (one FTS5 row / one tsvector row per item, replaced), so a repeat adds none;
- the rows deleted are the ones read, by key: an item stored again while a pass runs queues a new row,
  which the pass does not delete, so its new text is indexed by the next one;
- it works the same on SQLite and PostgreSQL and with any number of store processes (SQLite serialises
  passes with `BEGIN IMMEDIATE`; PostgreSQL takes rows with `FOR UPDATE SKIP LOCKED`).

**Where it runs.** In every store service process, as a task of its own beside the outbox relay (started
and stopped with the store app, so `minutes up` and compose run it wherever they run a store): woken after
each stored batch, and polling as a safety net (rows queued by another process, or left by a crash).

**How soon.** Searchable within N seconds of being stored: see the Guarantees table in docs/architecture.md (measured by
`tests/integration/store/test_indexer.py`). Tests and tools wait for it with `wait_indexed`, which awaits
the queue's watermark: every row queued before the call has been indexed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.store import search
from services.store.db import is_db_unavailable
from services.store.models import agenda_items, decisions, search_queue
from shared.consume import OutageGate
from shared.logging import get_logger

if TYPE_CHECKING:
    from services.store.sqlite_writer import SqliteWriter

log = get_logger(__name__)

# Items per transaction: large batches make few FTS5 segments (fewer merges) and few statements per item.
BATCH = 2000
# A woken pass starts at most this long after the previous one began: the store commits a batch every few
# tens of milliseconds under load, and a pass per batch would be the small transactions this replaced.
# It is most of the "searchable within N s" figure.
PASS_INTERVAL_S = 0.5
# At most this long indexing what is queued when the store stops.
FLUSH_S = 3.0


class SearchIndexer:
    """Background task indexing queued items; `wake()` after a commit that queued some, polls meanwhile."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        batch_size: int = BATCH,
        poll_interval_s: float = 1.0,
        min_interval_s: float = PASS_INTERVAL_S,
        max_chars: int = search.INDEX_MAX_CHARS,
    ) -> None:
        self.engine = engine
        self.max_chars = max_chars
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self.min_interval_s = min_interval_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._gate = OutageGate("store-indexer")
        # SQLite: a pass's transaction in one thread hop on the store's plain connection
        # (services/store/sqlite_writer.py) instead of one per statement; set by the bootstrap. None: `engine`.
        self.sqlite_writer: Callable[[], SqliteWriter | None] | None = None

    def wake(self) -> None:
        """Ask for a pass now (called after a commit that queued items)."""
        self._wake.set()

    async def index_batch(self) -> int:
        """One transaction: index the items of the oldest queued rows and delete those rows; how many rows."""
        writer = self.sqlite_writer() if self.sqlite_writer is not None else None
        if writer is not None:
            # BEGIN IMMEDIATE there too (see below), then everything on the writer's thread in one hop.
            return await writer.run(self._index_taken, immediate=True)
        async with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # Take the write lock first: a read snapshot that later writes fails to upgrade in WAL mode
                # when another writer committed in between.
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            done = await self._index_taken(conn)
            await conn.commit()
        return done

    async def _index_taken(self, conn: AsyncConnection) -> int:
        """Take the oldest queued rows, index their items, delete those rows (the caller commits)."""
        taken = select(search_queue.c.id, search_queue.c.item_id).order_by(search_queue.c.id).limit(self.batch_size)
        if conn.dialect.name != "sqlite":
            taken = taken.with_for_update(skip_locked=True)
        rows = (await conn.execute(taken)).all()
        if rows:
            ids = sorted({r.item_id for r in rows})
            await search.index_items(conn, await _index_rows(conn, ids, self.max_chars))
            await conn.execute(delete(search_queue).where(search_queue.c.id.in_([r.id for r in rows])))
        return len(rows)

    async def run_once(self) -> int:
        """Index everything queued, batch by batch; returns how many queue rows were done."""
        done = 0
        if not await queue_watermark(self.engine):
            return 0  # a read, without taking SQLite's write lock every poll
        async with self._lock:
            while True:
                n = await self.index_batch()
                done += n
                if n < self.batch_size:
                    return done

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval_s)
            started = time.monotonic()
            self._wake.clear()
            try:
                done = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # The rows stay queued: nothing is lost, the next pass takes them. An outage is said once.
                if is_db_unavailable(exc):
                    await self._gate.wait(exc)
                else:
                    log.exception("search indexing pass failed")
                    await asyncio.sleep(self.poll_interval_s)
                continue
            self._gate.up()
            if done:
                log.debug("indexed for search", items=done)
            # Let the store commit more before the next pass (see PASS_INTERVAL_S).
            await asyncio.sleep(max(0.0, started + self.min_interval_s - time.monotonic()))

    def start(self) -> None:
        """Start the background task."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._loop(), name="search-indexer")

    async def stop(self, flush: bool = True) -> None:
        """Stop the background task, then index what is still queued (best effort: else the next start does)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if flush:
            try:
                # Bounded: a graceful stop must not wait on a backlog (or a hung database); what is left
                # stays queued and the next start indexes it.
                await asyncio.wait_for(self.run_once(), timeout=FLUSH_S)
            except TimeoutError:
                log.warning("search indexing at shutdown took too long; the rest stays queued for the next start")
            except Exception:
                log.exception("search indexing at shutdown failed; the items stay queued for the next start")


async def _index_rows(conn: AsyncConnection, item_ids: Sequence[str], max_chars: int) -> list[search.IndexRow]:
    """The three searchable texts of these items as stored now, each cut to `max_chars` by the database (an
    item no longer stored is skipped): a huge item costs the indexer `max_chars`, not its size."""
    stmt = (
        select(
            agenda_items.c.id,
            func.substr(agenda_items.c.title, 1, max_chars).label("title"),
            func.substr(decisions.c.text, 1, max_chars).label("text"),
        )
        .select_from(agenda_items.outerjoin(decisions, decisions.c.item_id == agenda_items.c.id))
        .where(agenda_items.c.id.in_(item_ids))
    )
    found = (await conn.execute(stmt)).all()
    bodies = await search.bounded_sections(conn, [r.id for r in found], max_chars)
    return [search.IndexRow(r.id, r.title, r.text or "", bodies.get(r.id, "")) for r in found]


async def queue_watermark(engine: AsyncEngine) -> int:
    """The key of the newest queued row (0: nothing queued)."""
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.max(search_queue.c.id)))).scalar_one() or 0)


async def wait_indexed(engine: AsyncEngine, timeout_s: float = 60.0, poll_s: float = 0.02) -> float:
    """Wait until every item stored before this call is searchable (its queue row and all older ones are
    gone); returns the seconds waited. TimeoutError after `timeout_s`: no indexer is running, or it fails."""
    started = time.monotonic()
    watermark = await queue_watermark(engine)
    if not watermark:
        return 0.0
    oldest = select(func.min(search_queue.c.id))
    while True:
        async with engine.connect() as conn:
            first = (await conn.execute(oldest)).scalar_one()
        if first is None or first > watermark:
            return time.monotonic() - started
        if time.monotonic() - started > timeout_s:
            raise TimeoutError(f"items queued up to {watermark} not indexed within {timeout_s} s")
        await asyncio.sleep(poll_s)

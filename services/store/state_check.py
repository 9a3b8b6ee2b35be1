"""State checked at start and on demand (`minutes check`): is what the pipeline remembers still whole?

- the SQLite database passes `PRAGMA quick_check` (a corrupt one refuses to start, saying what to do);
- Redis persistence: the AOF was not loaded truncated, the last write / rewrite / save succeeded;
- pending entries per consumer group, dead-lettered messages;
- the public stream against the outbox: a decision marked sent whose event is missing from the stream
  (within the stream's retention) is re-announced with the same `event_id`, once;
- the blob store against the pipeline: an accepted document nothing covers any more is published again
  (`lost_documents.py`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from redis.asyncio import Redis
from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.models import outbox
from services.store.outbox import DEDUPE_PREFIX, OutboxRelay
from shared import streams
from shared.logging import get_logger
from shared.stream_worker import page

log = get_logger(__name__)

# Only one checker re-announces at a time (two store workers start together).
RECONCILE_LOCK = streams.RECONCILE_LOCK
# Lines redis-server writes when it loaded an AOF whose tail was cut off.
_TRUNCATED_MARKS = ("AOF loaded anyway because aof-load-truncated", "short read while loading the AOF")
_START_MARKS = ("Server initialized", "oO0OoO0OoO0Oo Redis is starting")


class DatabaseCorrupt(RuntimeError):
    """The SQLite database failed its integrity check: the store must not start on it."""


@dataclass
class Report:
    """What `minutes check` found; `problems` are the lines a person should act on."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reannounced: int = 0
    # Accepted documents (bytes in the blob store) that Redis lost before they were parsed: published again.
    republished: int = 0
    # Stored documents whose original file `minutes check` found missing or corrupt (blob_integrity.py).
    blob_faults: int = 0

    @property
    def ok(self) -> bool:
        """True when nothing needs a person."""
        return not self.problems


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL, or None (PostgreSQL, in-memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def check_sqlite(path: Path) -> str | None:
    """Why the SQLite file is not sound (quick_check's first complaint), or None when it is (or is absent)."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchmany(5)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    answers = [str(row[0]) for row in rows]
    return None if answers == ["ok"] else " ".join(" ".join(answers).split())[:500]


def refuse_if_corrupt(database_url: str) -> None:
    """Raise DatabaseCorrupt, with what to do, when the configured SQLite database fails quick_check."""
    path = sqlite_path(database_url)
    if path is None:
        return
    problem = check_sqlite(path)
    if problem:
        raise DatabaseCorrupt(
            f"database {path} is corrupt (PRAGMA quick_check: {problem}). Not starting on it. "
            f"Stop minutes, then restore it from a backup, or move it aside (keeping it for "
            f"recovery, e.g. `sqlite3 {path.name} .recover`) and start again: the store rebuilds from the "
            f"inbox when its files are dropped in again (`minutes ingest`)."
        )


def aof_truncated(redis_log: Path) -> bool:
    """Whether the latest start of redis-server (per its log) loaded a truncated AOF."""
    try:
        text = redis_log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    starts = [text.rfind(mark) for mark in _START_MARKS]
    since = max(starts) if max(starts) >= 0 else 0
    # The load is logged after "Server initialized": look from the last start on.
    tail = text[max(0, since - 200):]
    return any(mark in tail for mark in _TRUNCATED_MARKS)


async def check_redis(client: Redis, report: Report, redis_log: Path | None) -> None:
    """Persistence status, pending entries per group and dead letters, into the report."""
    info: dict[str, Any] = await client.info("persistence")
    for key in ("aof_last_write_status", "aof_last_bgrewrite_status", "rdb_last_bgsave_status"):
        value = info.get(key)
        if value not in (None, "ok"):
            report.problems.append(f"redis {key}: {value} (disk full, or a permission problem)")
    if redis_log is not None and aof_truncated(redis_log):
        report.problems.append(
            f"redis loaded a truncated append-only file at its last start ({redis_log}): writes of the "
            "last moments before it stopped were lost; announcements missing from the public stream are "
            "published again (see below), documents still in the inbox are picked up again"
        )
    for stream, groups in streams.GROUPS_BY_STREAM.items():
        for group in groups:
            try:
                pending = await client.xpending(stream, group)
            except Exception:  # no such stream or group yet
                continue
            report.notes.append(f"{stream} group {group}: {pending['pending']} pending")
    dead = await client.xlen(streams.DEAD_LETTER)
    report.notes.append(f"{streams.DEAD_LETTER}: {dead} dead-lettered (`minutes dlq list`)")


async def _event_ids_in_stream(client: Redis) -> tuple[set[str], int | None, int]:
    """Event ids on the public stream, the ms time of its oldest entry, and its length."""
    ids: set[str] = set()
    oldest: int | None = None
    async for entry in page(client, streams.DECISIONS, count=2000):
        if oldest is None:
            oldest = int(entry.id.split("-")[0])
        if entry.known:
            event_id = orjson.loads(entry.payload).get("event_id")
            if isinstance(event_id, str):
                ids.add(event_id)
    return ids, oldest, int(await client.xlen(streams.DECISIONS))


async def reconcile_outbox(engine: AsyncEngine, client: Redis, relay: OutboxRelay, maxlen: int) -> int:
    """Re-announce decisions marked sent whose events are not on the public stream; returns how many.

    Within the stream's retention only: when the stream is at its MAXLEN, events older than its oldest
    entry were trimmed on purpose and are not re-announced.
    """
    async with engine.connect() as conn:
        has_outbox = await conn.run_sync(lambda sync: sa_inspect(sync).has_table("outbox"))
    if not has_outbox:
        return 0
    if not await client.set(RECONCILE_LOCK, "1", nx=True, ex=120):
        return 0  # another worker is at it
    try:
        present, oldest_ms, length = await _event_ids_in_stream(client)
        trimmed = length >= maxlen * 0.9
        async with engine.connect() as conn:
            rows = (await conn.execute(
                select(outbox.c.id, outbox.c.event_id, outbox.c.sent_at).where(outbox.c.sent_at.is_not(None))
            )).all()
        missing = [
            row for row in rows
            if row.event_id not in present
            and not (trimmed and oldest_ms is not None and row.sent_at.timestamp() * 1000 < oldest_ms)
        ]
        if not missing:
            return 0
        # The dedupe keys went with the lost entries, or may not have: drop them so the relay publishes.
        async with client.pipeline(transaction=False) as pipe:
            for row in missing:
                pipe.delete(DEDUPE_PREFIX + row.event_id)
            await pipe.execute()
        async with engine.begin() as conn:
            ids = [row.id for row in missing]
            for start in range(0, len(ids), 500):
                await conn.execute(update(outbox).where(outbox.c.id.in_(ids[start:start + 500])).values(sent_at=None))
        await relay.run_once()
        log.warning("re-announced decisions missing from the public stream", count=len(missing))
        return len(missing)
    finally:
        await client.delete(RECONCILE_LOCK)

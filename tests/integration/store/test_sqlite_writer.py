"""The store's SQLite writer (services/store/sqlite_writer.py): a batch's transaction on a plain connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from services.store import bootstrap, handlers
from services.store.bootstrap import StoreDeps
from services.store.db import create_engine, migrate
from services.store.repository import store_events
from services.store.sqlite_writer import SqliteWriter, run_to_end, sync_url
from shared.contracts.events import utcnow
from shared.settings import Settings
from tests.unit.store.dump import totals
from tests.unit.store.factories import meeting


@pytest.fixture
async def sqlite_deps(tmp_path: Path, redis_client: aioredis.Redis) -> AsyncIterator[StoreDeps]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}"
    await migrate(url)
    settings = Settings(redis_url="redis://unused", database_url=url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    deps = bootstrap.bootstrap(settings, engine=create_engine(url), redis=redis_client)
    yield deps
    if deps.writer is not None:
        deps.writer.close()
    await deps.engine.dispose()


def _count_inserts(engine: Any, into: list[str]) -> None:
    def seen(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if sql.lstrip().upper().startswith("INSERT"):
            into.append(sql)

    event.listen(engine, "before_cursor_execute", seen)


async def test_a_batch_is_written_on_the_plain_connection_and_readable_through_the_async_engine(
    sqlite_deps: StoreDeps,
) -> None:
    m, items = meeting("plain", 3)
    async_inserts: list[str] = []
    _count_inserts(sqlite_deps.engine.sync_engine, async_inserts)
    writer = sqlite_deps.sqlite_writer()
    assert writer is not None
    plain_inserts: list[str] = []
    _count_inserts(writer.engine, plain_inserts)

    result = await handlers.store_once(sqlite_deps, [m, *items])

    assert result.items == 3 and result.decisions == 3
    assert async_inserts == []  # nothing of the batch went through aiosqlite
    assert any("INTO decisions" in sql for sql in plain_inserts)
    stored = await totals(sqlite_deps.engine)
    assert (stored.complete_meetings, stored.items, stored.decisions) == (1, 3, 3)


async def test_a_batch_that_raises_leaves_nothing_behind(sqlite_deps: StoreDeps) -> None:
    writer = sqlite_deps.sqlite_writer()
    assert writer is not None
    m, items = meeting("rolled-back", 2)

    async def store_then_fail(conn: AsyncConnection) -> None:
        await store_events(conn, [m, *items], now=utcnow(), public_base_url="x/")
        raise ValueError("after the writes")

    with pytest.raises(ValueError, match="after the writes"):
        await writer.run(store_then_fail)
    stored = await totals(sqlite_deps.engine)
    assert (stored.documents, stored.meetings, stored.items) == (0, 0, 0)


async def test_another_engine_swapped_in_gets_its_own_writer(sqlite_deps: StoreDeps, tmp_path: Path) -> None:
    first = sqlite_deps.sqlite_writer()
    other = f"sqlite+aiosqlite:///{tmp_path / 'other.db'}"
    await migrate(other)
    old = sqlite_deps.engine
    sqlite_deps.engine = create_engine(other)
    try:
        second = sqlite_deps.sqlite_writer()
        assert second is not None and second is not first
        m, items = meeting("moved", 1)
        await handlers.store_once(sqlite_deps, [m, *items])
        assert (await totals(sqlite_deps.engine)).meetings == 1
        assert (await totals(old)).meetings == 0
    finally:
        await old.dispose()


def test_a_write_that_suspends_is_refused_not_lost() -> None:
    async def suspends() -> int:
        await asyncio.sleep(0)
        return 1

    with pytest.raises(RuntimeError, match="awaited something other than its connection"):
        run_to_end(suspends())


def test_only_sqlite_files_get_a_writer(tmp_path: Path) -> None:
    assert sync_url("postgresql+asyncpg://postgres@127.0.0.1:5432/test") is None
    assert sync_url("sqlite+aiosqlite:///:memory:") is None
    assert sync_url(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}") == f"sqlite+pysqlite:///{tmp_path / 'a.db'}"
    SqliteWriter(f"sqlite+pysqlite:///{tmp_path / 'a.db'}").close()  # made without touching the file
    assert not (tmp_path / "a.db").exists()

"""The store's search indexer in a child process: what the store stores becomes searchable through it, a child
that dies is started again and indexing goes on, and stopping the store leaves no child behind."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
from pathlib import Path

import psutil
import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa

from services.store import bootstrap
from services.store.app import create_app
from services.store.db import migrate
from services.store.indexer import wait_indexed
from services.store.indexer_process import IndexerProcess
from services.store.models import search_queue
from shared import streams
from shared.broker import make_broker
from shared.settings import Settings
from tests.unit.store.factories import header, meeting

pytestmark = pytest.mark.integration


def _children() -> list[psutil.Process]:
    found = []
    for proc in psutil.Process().children(recursive=True):
        with_args = " ".join(proc.cmdline()) if proc.is_running() else ""
        if "services.store.indexer_process" in with_args and proc.status() != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


async def _indexed_items(engine: sa.ext.asyncio.AsyncEngine) -> int:
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            return int((await conn.execute(sa.text("SELECT count(*) FROM item_search_ids"))).scalar_one())
        return int((await conn.execute(sa.text("SELECT count(*) FROM item_search"))).scalar_one())


async def _queued(engine: sa.ext.asyncio.AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(search_queue))).scalar_one())


async def _until(predicate, limit_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + limit_s
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_the_child_indexes_what_the_store_stores_survives_a_kill_and_leaves_with_the_store(
    redis_url: str, redis_client: aioredis.Redis, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(redis_url=redis_url, database_url=database_url, data_dir=tmp_path,
                        _env_file=None)  # type: ignore[call-arg]
    await migrate(database_url)
    producer = make_broker(redis_url, "parser-test")
    await producer.connect()
    deps = bootstrap.bootstrap(settings, redis=redis_client)
    assert isinstance(deps.indexer, IndexerProcess)  # the store owns its engine: the default is a child
    app = create_app(settings, deps=deps)
    await app.start()
    try:
        m, items = meeting("proc-1", 6)
        for ev in (m, *items):
            await producer.publish(ev, stream=streams.ITEMS)
        await _until(lambda: _indexed_items(deps.engine), 60)
        await wait_indexed(deps.engine, timeout_s=60)
        assert await _indexed_items(deps.engine) == 6
        [child] = _children()
        assert child.pid != os.getpid()

        # Killed outright: the store starts another, which indexes what is stored next.
        child.send_signal(signal.SIGKILL)
        await _until(lambda: _restarted(deps.indexer), 30)
        m2, items2 = meeting("proc-2", 4, hdr=header(day=dt.date(2025, 4, 7)))
        for ev in (m2, *items2):
            await producer.publish(ev, stream=streams.ITEMS)

        async def ten() -> bool:
            return await _indexed_items(deps.engine) == 10 and await _queued(deps.engine) == 0

        await _until(ten, 60)
        [second] = _children()
        assert second.pid != child.pid
    finally:
        await app.stop()
        await producer.stop()
        await deps.engine.dispose()
    assert _children() == []


async def _restarted(indexer: IndexerProcess) -> bool:
    return indexer.starts == 2 and len(_children()) == 1


async def test_an_engine_passed_in_or_inline_indexes_in_the_store_process(
    redis_url: str, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    """A caller's engine (tests, tools) may be a database no other process can open: indexing stays inline,
    as it does when `MINUTES_SEARCH_INDEXER=inline` asks for it."""
    from services.store.db import create_engine
    from services.store.indexer import SearchIndexer

    url = f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}"
    settings = Settings(redis_url=redis_url, database_url=url, _env_file=None)  # type: ignore[call-arg]
    engine = create_engine(url)
    try:
        assert isinstance(bootstrap.bootstrap(settings, engine=engine, redis=redis_client).indexer, SearchIndexer)
    finally:
        await engine.dispose()
    inline = settings.model_copy(update={"search_indexer": "inline"})
    deps = bootstrap.bootstrap(inline, redis=redis_client)
    try:
        assert isinstance(deps.indexer, SearchIndexer)
    finally:
        await deps.engine.dispose()

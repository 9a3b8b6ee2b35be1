"""Fixtures of the store integration tests: a migrated database and wired dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store import bootstrap
from services.store.bootstrap import StoreDeps
from services.store.db import create_engine, migrate
from shared.settings import Settings


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database migrated to head (SQLite and PostgreSQL)."""
    await migrate(database_url)
    eng = create_engine(database_url)
    yield eng
    await eng.dispose()


@pytest.fixture
def store_settings(redis_url: str, database_url: str, tmp_path: Path) -> Settings:
    """Settings pointing at the test Redis and database."""
    return Settings(
        redis_url=redis_url,
        database_url=database_url,
        data_dir=tmp_path,
        public_base_url="https://minutes.test/items/",
        _env_file=None,
    )  # type: ignore[call-arg]


@pytest.fixture
async def deps(store_settings: Settings, engine: AsyncEngine, redis_client: aioredis.Redis) -> AsyncIterator[StoreDeps]:
    """Store dependencies on the test engine and Redis, groups created, short DB retry budget."""
    d = bootstrap.bootstrap(store_settings, engine=engine, redis=redis_client)
    await bootstrap.prepare(d)
    yield d
    await d.relay.stop(flush=False)

"""Migrations run only in the migrate step: the alerts worker on an unmigrated database creates nothing, says
why and waits; once the schema is migrated (by `minutes migrate`'s function) it starts reading the stream."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa

from services.alerts import bootstrap
from services.alerts.app import create_app
from services.store.db import create_engine, migrate
from shared import streams
from shared.health import read_beat, reason_path
from shared.settings import Settings
from tests.integration.alerts.conftest import wait_for

pytestmark = pytest.mark.integration


async def _tables(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    finally:
        await engine.dispose()


async def test_the_alerts_worker_waits_for_the_schema_without_creating_it(
    alerts_settings: Settings, redis_client: aioredis.Redis, database_url: str
) -> None:
    data = alerts_settings.data_dir
    deps = bootstrap.bootstrap(alerts_settings, redis=redis_client)
    app = create_app(alerts_settings, deps=deps)
    starting = asyncio.create_task(app.start())
    try:
        await wait_for(lambda: reason_path(data, "alerts").exists(), what="the reason it is not ready")
        assert "run `minutes migrate`" in str(read_beat(data, "alerts"))
        assert not starting.done()
        assert await _tables(database_url) == []
        assert await redis_client.exists(streams.DECISIONS) == 0  # it reads nothing yet

        await migrate(database_url)
        await asyncio.wait_for(starting, 60)
        await wait_for(lambda: read_beat(data, "alerts") is None, what="ready")
        # Started: it follows the stream without a group (a cursor per subscription), creating nothing there.
        assert deps.loop_task is not None and not deps.loop_task.done()
        assert await redis_client.exists(streams.DECISIONS) == 0
    finally:
        await app.stop()

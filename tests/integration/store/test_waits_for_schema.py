"""Migrations run only in the migrate step: a store started on an unmigrated database creates nothing, says
why (readiness, one log line) and waits; once `minutes migrate` has run it starts and stores."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
from structlog.testing import capture_logs

from services.store import bootstrap
from services.store.app import create_app
from services.store.db import create_engine, head_revision
from shared import streams
from shared.broker import make_broker
from shared.health import read_beat, reason_path
from shared.settings import Settings
from tests.integration.cli.helpers import run_cli
from tests.unit.store.factories import meeting

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]


async def _tables(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    finally:
        await engine.dispose()


async def _until(predicate, limit_s: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + limit_s
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_store_on_an_unmigrated_database_waits_says_why_and_starts_once_migrated(
    redis_url: str, redis_client: aioredis.Redis, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(redis_url=redis_url, database_url=database_url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    deps = bootstrap.bootstrap(settings, redis=redis_client)
    # Each attempt that finds the schema missing reports it to the heartbeat; count them to know the store
    # has looked again (and still migrated nothing) before the migration runs.
    reports: list[str] = []
    looked_twice = asyncio.Event()
    record = deps.heartbeat.record

    def counted(reason: str | None) -> str | None:
        reports.append(str(reason))
        if len(reports) >= 2:
            looked_twice.set()
        return record(reason)

    deps.heartbeat.record = counted  # type: ignore[method-assign]
    app = create_app(settings, deps=deps)
    producer = make_broker(redis_url, "parser-test")
    await producer.connect()
    try:
        with capture_logs() as logs:
            starting = asyncio.create_task(app.start())
            await asyncio.wait_for(looked_twice.wait(), 120)
            assert not starting.done()  # waiting, not crashed
            assert await _tables(database_url) == []  # no schema created, not even Alembic's version table
            why = read_beat(tmp_path, "store")  # what `minutes health store` reads
            assert why is not None and "run `minutes migrate`" in why and "not migrated" in why
            assert await redis_client.exists(streams.ITEMS) == 0  # nothing prepared before the schema
            waiting = list(reports)

            migrated = await asyncio.to_thread(
                run_cli, ["migrate", "--data", str(tmp_path)], tmp_path, 300, MINUTES_DATABASE_URL=database_url
            )
            assert migrated.returncode == 0, migrated.stderr
            await asyncio.wait_for(starting, 120)  # the start completes once the schema is at head

            m, items = meeting("waited-1", 2)
            for event in (m, *items):
                await producer.publish(event, stream=streams.ITEMS)

            async def announced() -> bool:
                return int(await redis_client.xlen(streams.DECISIONS)) == 2

            await _until(announced)
            assert read_beat(tmp_path, "store") is None  # ready
    finally:
        await app.stop()
        await producer.stop()
    assert len(waiting) >= 2 and all("run `minutes migrate`" in r for r in waiting)
    # One line when it became not ready, one when ready: never one per attempt.
    said = [(e["event"], e.get("reason")) for e in logs if e.get("service") == "store" and "ready" in e["event"]]
    assert said == [("not ready", waiting[0]), ("ready", None)]
    assert f"not {head_revision()}" in waiting[0]
    assert "alembic_version" in await _tables(database_url)


async def test_a_store_stopped_while_it_waits_for_the_schema_stops_at_once_having_started_nothing(
    redis_url: str, redis_client: aioredis.Redis, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(redis_url=redis_url, database_url=database_url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    deps = bootstrap.bootstrap(settings, redis=redis_client)
    app = create_app(settings, deps=deps)
    starting = asyncio.create_task(app.start())

    async def said_why() -> bool:
        return reason_path(tmp_path, "store").exists()

    await _until(said_why)
    assert "run `minutes migrate`" in str(read_beat(tmp_path, "store"))
    # The outage policy's waits grow to 8 s; a stop must not sit them out, nor start anything after.
    with capture_logs() as logs:
        await asyncio.wait_for(app.stop(), 5)
        await asyncio.wait_for(starting, 5)
    assert "stopped while waiting for the schema; started nothing" in [e["event"] for e in logs]
    assert deps.worker is None and not deps.started
    assert await _tables(database_url) == []
    assert await redis_client.exists(streams.ITEMS) == 0

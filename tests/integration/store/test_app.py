"""The whole store app on real Redis: startup (groups at 0), both subscribers, relay, shutdown; the schema comes
from `minutes migrate`'s function (the store never migrates)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from services.store import bootstrap
from services.store.app import create_app
from services.store.db import migrate
from shared import streams
from shared.broker import make_broker
from shared.contracts.events import DecisionMade
from shared.dead_letter import list_dead_letters
from shared.settings import Settings
from tests.unit.store.dump import totals
from tests.unit.store.factories import header, meeting

pytestmark = pytest.mark.integration


async def wait_for(predicate, limit_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + limit_s
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_app_stores_and_publishes(
    redis_url: str, redis_client: aioredis.Redis, database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        redis_url=redis_url,
        database_url=database_url,
        data_dir=tmp_path,
        claim_idle_ms=1000,
        batch_size=7,
        _env_file=None,
    )  # type: ignore[call-arg]
    producer = make_broker(redis_url, "parser-test")
    await producer.connect()
    # Published before the store ever ran: the group must be created at 0, not at `$`.
    m, items = meeting("app-1", 12, undecided=(0,))
    for ev in (m, *items):
        await producer.publish(ev, stream=streams.ITEMS)
    # Entries a dead worker took and never acknowledged: only the reclaimer can finish them.
    await redis_client.xgroup_create(streams.ITEMS, streams.STORE_GROUP, id="0", mkstream=True)
    m2, items2 = meeting("app-2", 1, hdr=header(day=dt.date(2025, 3, 10)))
    await producer.publish(m2, stream=streams.ITEMS)
    await producer.publish(items2[0], stream=streams.ITEMS)
    dead = await redis_client.xreadgroup(streams.STORE_GROUP, "dead-worker", {streams.ITEMS: ">"}, count=100)
    assert len(dead[0][1]) == 15
    # New entries after that: the batch reader's.
    m3, items3 = meeting("app-3", 2, hdr=header(day=dt.date(2025, 3, 17)))
    for ev in (m3, *items3):
        await producer.publish(ev, stream=streams.ITEMS)

    await migrate(database_url)
    deps = bootstrap.bootstrap(settings, redis=redis_client)
    app = create_app(settings, deps=deps)
    await app.start()
    try:

        async def all_published() -> bool:
            return int(await redis_client.xlen(streams.DECISIONS)) == 11 + 1 + 2

        await wait_for(all_published, limit_s=30)
        await wait_for(lambda: _no_pending(redis_client))
        assert (await totals(deps.engine)).complete_meetings == 3
    finally:
        await app.stop()
        await producer.stop()
        await deps.engine.dispose()
    entries = await redis_client.xrange(streams.DECISIONS)
    events = [DecisionMade.model_validate_json(f[streams.PUBLIC_FIELD.encode()]) for _i, f in entries]
    assert len({e.event_id for e in events}) == 14


async def _no_pending(client: aioredis.Redis) -> bool:
    return int((await client.xpending(streams.ITEMS, streams.STORE_GROUP))["pending"]) == 0


async def test_app_dead_letters_foreign_entries(redis_url: str, redis_client: aioredis.Redis, tmp_path: Path) -> None:
    """Entries not written by FastStream (plain fields) reach the handler and are dead-lettered, not stuck."""
    settings = Settings(redis_url=redis_url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    await redis_client.xadd(streams.ITEMS, {"json": b"{not json"})
    await redis_client.xadd(streams.ITEMS, {"json": b'{"event": "x"}', "other": "1"})
    await migrate(settings.effective_database_url)
    deps = bootstrap.bootstrap(settings, redis=redis_client)
    app = create_app(settings, deps=deps)
    await app.start()
    try:

        async def two_letters() -> bool:
            return int(await redis_client.xlen(streams.DEAD_LETTER)) == 2

        await wait_for(two_letters)
        await wait_for(lambda: _no_pending(redis_client))
    finally:
        await app.stop()
        await deps.engine.dispose()
    letters = await list_dead_letters(redis_client)
    assert [dl.event.payload for dl in letters] == ["{not json", '{"event": "x"}']

"""handle_entries with real Redis and both databases: ack rules, dead-lettering, database outages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from faststream.redis import RedisBroker

from services.store import bootstrap, handlers
from services.store.app import keepalive_for
from services.store.bootstrap import StoreDeps
from services.store.db import create_engine, migrate
from shared import streams
from shared.broker import make_broker
from shared.consume import OutageGate
from shared.dead_letter import list_dead_letters
from shared.settings import Settings
from shared.stream_worker import Entry, entry_of
from tests.unit.store.dump import totals
from tests.unit.store.factories import meeting

pytestmark = pytest.mark.integration
CONSUMER = "test-consumer"


@pytest.fixture
async def producer(redis_url: str) -> AsyncIterator[RedisBroker]:
    """A FastStream broker writing to the items stream the way the parser does."""
    broker = make_broker(redis_url, "parser-test")
    await broker.connect()
    yield broker
    await broker.stop()


async def read(client: aioredis.Redis, count: int = 100) -> list[Entry]:
    """XREADGROUP new entries as the stream worker does, decoded by its decoder."""
    resp = await client.xreadgroup(streams.STORE_GROUP, CONSUMER, {streams.ITEMS: ">"}, count=count)
    if not resp:
        return []
    ((_stream, rows),) = resp
    return [entry_of(i, f) for i, f in rows]


async def pending(client: aioredis.Redis) -> int:
    return int((await client.xpending(streams.ITEMS, streams.STORE_GROUP))["pending"])


async def finish(client: aioredis.Redis, entries: list[Entry]) -> None:
    """What the stream worker does after the handler returned: XACK the whole batch."""
    await client.xack(streams.ITEMS, streams.STORE_GROUP, *[e.message_id for e in entries if e.message_id])


async def test_batch_is_stored_then_acked(deps: StoreDeps, producer: RedisBroker) -> None:
    m, items = meeting("h1", 3)
    for ev in (m, *items):
        await producer.publish(ev, stream=streams.ITEMS)
    entries = await read(deps.redis)
    out = await handlers.handle_entries(deps, entries)
    assert len(out.stored) == 4
    assert out.dead_lettered == out.pending == []
    await finish(deps.redis, entries)
    assert await pending(deps.redis) == 0
    assert (await totals(deps.engine)).complete_meetings == 1
    assert deps.relay._wake.is_set()


async def test_invalid_and_unknown_version_are_dead_lettered_and_acked(deps: StoreDeps, producer: RedisBroker) -> None:
    m, items = meeting("h2", 1)
    future = orjson.loads(items[0].model_dump_json()) | {"schema_version": 2}
    await producer.publish(m, stream=streams.ITEMS)
    await producer.publish(future, stream=streams.ITEMS)
    await deps.redis.xadd(streams.ITEMS, {"json": b"{not json"})
    await deps.redis.xadd(streams.ITEMS, {"something": b"else"})
    entries = await read(deps.redis)
    out = await handlers.handle_entries(deps, entries)
    assert len(out.stored) == 1
    assert len(out.dead_lettered) == 3
    # Nothing is acked by the handler itself: the stream worker acks the whole batch once it returned.
    assert await pending(deps.redis) == 4
    await finish(deps.redis, entries)
    assert await pending(deps.redis) == 0

    letters = await list_dead_letters(deps.redis)
    assert [dl.event.service for dl in letters] == ["store"] * 3
    assert all(not dl.event.retryable and dl.event.attempts == 1 for dl in letters)
    assert orjson.loads(letters[0].event.payload) == future  # verbatim
    assert letters[0].event.document_id == m.document_id
    assert "schema_version" in letters[0].event.error
    assert letters[1].event.payload == "{not json"
    assert letters[0].event.message_id == entries[1].message_id


async def test_poison_is_retried_in_place_and_dead_lettered_at_max_deliveries(
    deps: StoreDeps, producer: RedisBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, good_items = meeting("good", 1)
    bad, _ = meeting("bad", items=[])
    real = handlers.store_events
    tries = 0

    async def flaky(conn: Any, events: Any, **kw: Any) -> Any:
        nonlocal tries
        if any(ev.document_id == bad.document_id for ev in events):
            tries += len(events) == 1  # the tries of the bad event alone, after the batch failed
            raise ValueError("cannot store this")
        return await real(conn, events, **kw)

    monkeypatch.setattr(handlers, "store_events", flaky)
    monkeypatch.setattr(handlers.ConsumeStep, "retry_initial_s", 0.01)
    for ev in (good, *good_items, bad):
        await producer.publish(ev, stream=streams.ITEMS)
    entries = await read(deps.redis)
    out = await handlers.handle_entries(deps, entries)
    # The good ones were stored; the bad one was tried alone max_deliveries times, then dead-lettered.
    assert (await totals(deps.engine)).items == 1
    assert out.dead_lettered == [entries[-1]] and len(out.stored) == 2
    assert tries == deps.settings.max_deliveries
    await finish(deps.redis, entries)
    assert await pending(deps.redis) == 0
    (letter,) = await list_dead_letters(deps.redis)
    assert letter.event.retryable
    assert letter.event.attempts == deps.settings.max_deliveries
    assert letter.event.error_type == "ValueError"


@pytest.fixture(params=["postgres-closed-port", "sqlite-impossible-path"])
def unreachable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres-closed-port":
        return "postgresql+asyncpg://postgres@127.0.0.1:1/test"
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the database folder should be")
    return f"sqlite+aiosqlite:///{blocker / 'minutes.db'}"


async def delivery_counts(client: aioredis.Redis) -> list[int]:
    rows = await client.xpending_range(streams.ITEMS, streams.STORE_GROUP, "-", "+", 100)
    return [int(r["times_delivered"]) for r in rows]


async def test_an_outage_is_waited_out_uncounted_and_the_batch_stored_when_the_database_returns(
    unreachable_url: str, redis_client: aioredis.Redis, producer: RedisBroker, tmp_path: Path
) -> None:
    """However long the database is down, the handler holds the batch (no raise, no dead letter, no extra
    delivery) and stores it once it is back — here a PostgreSQL port that refuses, or an SQLite path that
    cannot be opened, replaced by a working database while the handler waits."""
    settings = Settings(redis_url="redis://unused", database_url=unreachable_url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    engine = create_engine(unreachable_url)
    gate = OutageGate("store-test", initial_s=0.05, cap_s=0.1)
    deps = bootstrap.bootstrap(settings, engine=engine, redis=redis_client, gate=gate)
    deps.keepalive, deps.keepalive_s = keepalive_for(redis_client, CONSUMER), 0.1
    await redis_client.xgroup_create(streams.ITEMS, streams.STORE_GROUP, id="0", mkstream=True)
    m, items = meeting("down", 2)
    for ev in (m, *items):
        await producer.publish(ev, stream=streams.ITEMS)
    entries = await read(redis_client)
    task = asyncio.create_task(handlers.handle_entries(deps, entries))
    working = tmp_path / "back.db"
    try:
        await wait_until(lambda: gate.is_down)
        # Several backoffs into the outage: still held, nothing given up or counted.
        await wait_until(lambda: gate.down_since is not None and time.monotonic() - gate.down_since > 1.0)
        assert not task.done()
        # Another worker's reclaimer finds nothing idle: the held entries are kept alive.
        claimed = await redis_client.xautoclaim(  # with JUSTID redis-py returns the claimed ids only
            streams.ITEMS, streams.STORE_GROUP, "other-worker", 500, "0", justid=True
        )
        assert claimed == []
        assert await delivery_counts(redis_client) == [1, 1, 1]
        assert await list_dead_letters(redis_client) == []
        # The database comes back (a working one behind the same engine object's successor).
        await migrate(f"sqlite+aiosqlite:///{working}")
        await engine.dispose()
        deps.engine = create_engine(f"sqlite+aiosqlite:///{working}")
        out = await asyncio.wait_for(task, 10)
        await finish(redis_client, entries)
        assert len(out.stored) == 3
        assert not gate.is_down
        assert (await totals(deps.engine)).complete_meetings == 1
        assert await pending(redis_client) == 0
        assert await list_dead_letters(redis_client) == []
    finally:
        task.cancel()
        await deps.relay.stop(flush=False)
        await deps.engine.dispose()


async def wait_until(predicate: Any, limit_s: float = 10.0) -> None:
    deadline = time.monotonic() + limit_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)

"""Handler tests: each body delivered alone, as a one-entry batch of the stream worker (handlers only: no
distribution or reclaiming here)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store import bootstrap, handlers
from services.store.bootstrap import StoreDeps
from services.store.db import create_engine, migrate
from shared import streams
from shared.consume import OutageGate
from shared.contracts.events import DeadLettered
from shared.settings import Settings
from shared.stream_worker import Entry
from tests.unit.store.dump import listed, totals
from tests.unit.store.factories import meeting


class FakeRedis:
    """Records what the handlers write to Redis (dead letters, acks)."""

    def __init__(self) -> None:
        self.added: list[tuple[str, dict[str, Any]]] = []
        self.acked: list[str] = []

    def register_script(self, script: str) -> object:
        return object()

    async def xadd(self, stream: str, fields: dict[str, Any], **_: Any) -> bytes:
        self.added.append((stream, fields))
        return b"1-0"

    async def xack(self, stream: str, group: str, *ids: str) -> int:
        self.acked.extend(ids)
        return len(ids)

    async def xpending_range(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        return []

    def dead_letters(self) -> list[DeadLettered]:
        return [
            DeadLettered.model_validate_json(f[streams.PUBLIC_FIELD]) for s, f in self.added if s == streams.DEAD_LETTER
        ]


class Deliveries:
    """Hands each published body to the store's handler as its own batch, as the stream worker would."""

    def __init__(self, deps: StoreDeps) -> None:
        self.deps = deps
        self.n = 0

    async def __aenter__(self) -> Deliveries:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def publish(self, body: Any, stream: str) -> None:
        assert stream == streams.ITEMS
        if isinstance(body, str):
            payload = body.encode()
        elif isinstance(body, dict):
            payload = orjson.dumps(body)
        else:
            payload = body.model_dump_json().encode()
        self.n += 1
        await handlers.handle_entries(self.deps, [Entry(f"{self.n}-0", payload)])


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'unit.db'}"
    await migrate(url)
    eng = create_engine(url)
    yield eng
    await eng.dispose()


@pytest.fixture
def deps(engine: AsyncEngine, tmp_path: Path) -> StoreDeps:
    settings = Settings(redis_url="redis://localhost:1", data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    return bootstrap.bootstrap(settings, engine=engine, redis=FakeRedis())  # type: ignore[arg-type]


async def test_events_are_stored(deps: StoreDeps) -> None:
    m, items = meeting("unit-1", 3)
    async with Deliveries(deps) as br:
        for ev in (m, *items):
            await br.publish(ev, stream=streams.ITEMS)
    assert (await totals(deps.engine)).items == 3
    assert (await totals(deps.engine)).complete_meetings == 1
    assert len(await listed(deps.engine)) == 3
    assert deps.relay._wake.is_set()  # the relay is told right after the commit


async def test_redelivered_events_change_nothing(deps: StoreDeps) -> None:
    m, items = meeting("unit-2", 2)
    async with Deliveries(deps) as br:
        for ev in (items[1], m, items[0], items[1], m):
            await br.publish(ev, stream=streams.ITEMS)
    assert (await totals(deps.engine)).items == 2
    assert (await totals(deps.engine)).complete_decisions == 2


@pytest.mark.parametrize(
    "body",
    [
        {"event": "AgendaItemParsed", "schema_version": 1, "document_id": "x"},
        {"event": "MeetingParsed", "schema_version": 99, "document_id": "x", "meeting": {}, "item_count": 0},
        {"event": "SomethingElse"},
        "not an object",
    ],
)
async def test_invalid_events_are_dead_lettered(deps: StoreDeps, body: Any) -> None:
    async with Deliveries(deps) as br:
        await br.publish(body, stream=streams.ITEMS)  # returns normally: the message is settled (acked)
    (letter,) = deps.redis.dead_letters()  # type: ignore[attr-defined]
    assert letter.service == "store"
    assert letter.stream == streams.ITEMS
    assert not letter.retryable
    assert letter.attempts == 1
    if isinstance(body, str):
        assert letter.payload == body  # verbatim
    else:
        assert orjson.loads(letter.payload) == body
    assert (await totals(deps.engine)).documents == 0


async def test_valid_events_of_a_batch_survive_an_invalid_one(deps: StoreDeps) -> None:
    """Here every publish is its own delivery; the batch case runs in integration."""
    m, _items = meeting("unit-3", items=[])
    async with Deliveries(deps) as br:
        await br.publish({"event": "MeetingParsed"}, stream=streams.ITEMS)
        await br.publish(m, stream=streams.ITEMS)
    assert (await totals(deps.engine)).complete_meetings == 1
    assert len(deps.redis.dead_letters()) == 1  # type: ignore[attr-defined]


async def test_database_unavailable_is_waited_out_then_stored(deps: StoreDeps, tmp_path: Path) -> None:
    """The delivery does not return (so nothing is acked) while the database is down, and completes once
    it is back; nothing is dead-lettered."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    url = f"sqlite+aiosqlite:///{blocker / 'x.db'}"
    real = deps.engine
    deps.engine = create_engine(url)
    deps.gate = OutageGate("store-test", initial_s=0.02, cap_s=0.05)
    m, _ = meeting("unit-4", items=[])
    async with Deliveries(deps) as br:
        task = asyncio.create_task(br.publish(m, stream=streams.ITEMS))
        deadline = time.monotonic() + 10
        while not deps.gate.is_down:
            assert time.monotonic() < deadline, "the outage was never noticed"
            await asyncio.sleep(0.01)
        assert not task.done()
        await deps.engine.dispose()
        deps.engine = real  # the database is back
        await asyncio.wait_for(task, 10)
    assert (await totals(deps.engine)).complete_meetings == 1
    assert deps.redis.dead_letters() == []  # type: ignore[attr-defined]

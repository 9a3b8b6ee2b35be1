"""Property: any order, duplication and batching of a meeting's events gives the same database (SQLite)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.db import create_engine, migrate
from services.store.models import agenda_items, decisions, documents, meetings, outbox
from services.store.repository import ItemsEvent, store_events
from shared.contracts.events import utcnow
from tests.unit.store.dump import dump
from tests.unit.store.factories import meeting

pytestmark = pytest.mark.integration
BASE = "https://minutes.test/items/"
MEETINGS = [meeting(f"prop-{n}", n, undecided=(1,)) for n in range(1, 5)]


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'prop.db'}"
    await migrate(url)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


async def reset(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table in (outbox, decisions, agenda_items, meetings, documents):
            await conn.execute(delete(table))


async def apply(engine: AsyncEngine, batches: list[list[ItemsEvent]]) -> None:
    for batch in batches:
        async with engine.begin() as conn:
            await store_events(conn, batch, now=utcnow(), public_base_url=BASE)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[int, list[list[ItemsEvent]]]:
    """A meeting, and its events (each at least once) shuffled, duplicated and cut into batches."""
    which = draw(st.integers(0, len(MEETINGS) - 1))
    m, items = MEETINGS[which]
    events: list[ItemsEvent] = [m, *items]
    extra = draw(st.lists(st.sampled_from(events), max_size=4))
    order = draw(st.permutations(events + extra))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(order) - 1)), max_size=3)))
    bounds = [0, *cuts, len(order)]
    return which, [list(order[a:b]) for a, b in itertools.pairwise(bounds) if a < b]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=deliveries())
async def test_any_delivery_gives_the_same_database(
    sqlite_engine: AsyncEngine, case: tuple[int, list[list[ItemsEvent]]]
) -> None:
    which, batches = case
    m, items = MEETINGS[which]
    await reset(sqlite_engine)
    await apply(sqlite_engine, [[m, *items]])
    expected = await dump(sqlite_engine)
    assert [row for row in expected["meetings"] if ("complete", "true") in row]

    await reset(sqlite_engine)
    await apply(sqlite_engine, batches)
    assert await dump(sqlite_engine) == expected

"""Upserts against SQLite and PostgreSQL: idempotent, order-independent, complete only when all items are in."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.db import create_engine, migrate
from services.store.models import meetings, outbox
from services.store.repository import ItemsEvent, store_events
from shared.contracts.events import utcnow
from shared.contracts.meeting import Outcome
from tests.unit.store.dump import dump, listed, totals
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration
BASE = "https://minutes.test/items/"


async def store(engine: AsyncEngine, events: list[ItemsEvent]) -> tuple[str, ...]:
    async with engine.begin() as conn:
        result = await store_events(conn, events, now=utcnow(), public_base_url=BASE)
    return result.completed


async def test_same_events_twice_give_same_rows(engine: AsyncEngine) -> None:
    m, items = meeting("twice", 4, undecided=(2,))
    await store(engine, [m, *items])
    first = await dump(engine)
    await store(engine, [m, *items])
    await store(engine, [items[1], items[1], m])
    assert await dump(engine) == first
    assert (await totals(engine)).items == 4
    assert (await totals(engine)).decisions == 3
    assert len(first["outbox"]) == 3


async def test_any_order_gives_same_rows(database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    m, items = meeting("order", 3)
    dumps = []
    for n, order in enumerate(([m, *items], [*reversed(items), m], [items[1], m, items[2], items[0]])):
        url = database_url if n == 0 else f"sqlite+aiosqlite:///{tmp_path / f'o{n}.db'}"
        await migrate(url)
        eng = create_engine(url)
        for ev in order:  # one transaction per event: the worst case for completeness tracking
            await store(eng, [ev])
        dumps.append(await dump(eng))
        await eng.dispose()
    assert dumps[0] == dumps[1] == dumps[2]


async def test_meeting_complete_only_after_all_items(engine: AsyncEngine) -> None:
    m, items = meeting("complete", 3)
    assert await store(engine, [m, items[0]]) == ()
    assert await store(engine, [items[2]]) == ()
    assert (await totals(engine)).meetings == 1
    assert (await totals(engine)).complete_meetings == 0
    assert await listed(engine) == []
    assert (await totals(engine)).decisions == 2
    assert (await totals(engine)).complete_decisions == 0

    assert await store(engine, [items[1]]) == (m.document_id,)
    assert (await totals(engine)).complete_meetings == 1
    assert len(await listed(engine)) == 3
    # Storing the last item again does not "complete" it a second time.
    assert await store(engine, [items[1]]) == ()


async def test_items_without_meeting_event_complete_the_meeting(engine: AsyncEngine) -> None:
    _m, items = meeting("no-header-event", 2)
    assert await store(engine, items) == (items[0].document_id,)


async def test_meeting_without_items_is_complete_at_once(engine: AsyncEngine) -> None:
    m, _ = meeting("empty", items=[])
    assert await store(engine, [m]) == (m.document_id,)
    assert (await totals(engine)).items == 0


async def test_reingest_writes_no_new_outbox_rows(engine: AsyncEngine) -> None:
    m, items = meeting("reingest", 3)
    await store(engine, [m, *items])
    async with engine.connect() as conn:
        before = (await conn.execute(select(outbox.c.event_id, outbox.c.payload))).all()
    await store(engine, [m, *items])
    async with engine.connect() as conn:
        after = (await conn.execute(select(outbox.c.event_id, outbox.c.payload))).all()
    assert sorted(before) == sorted(after)


async def test_two_workers_racing_on_one_meeting(database_url: str, engine: AsyncEngine) -> None:
    """Two engines (two store processes) store halves of a meeting at once: it still ends complete."""
    other = create_engine(database_url)
    try:
        for n in range(5):
            m, items = meeting(f"race-{n}", 10)
            await asyncio.gather(store(engine, [m, *items[:5]]), store(other, [*items[5:], *items[:2]]))
            async with engine.connect() as conn:
                done = (
                    await conn.execute(select(meetings.c.complete).where(meetings.c.document_id == m.document_id))
                ).scalar_one()
            assert done is True
        assert (await totals(engine)).decisions == 50
        async with engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(outbox))).scalar_one() == 50
    finally:
        await other.dispose()


async def test_migrate_is_idempotent_and_concurrent_safe(database_url: str) -> None:
    await asyncio.gather(migrate(database_url), migrate(database_url))
    await migrate(database_url)
    eng = create_engine(database_url)
    assert (await totals(eng)).documents == 0
    await eng.dispose()


async def test_list_decisions_filters(engine: AsyncEngine) -> None:
    a, a_items = meeting(
        "a",
        items=[
            item(1, title="Budget 2026", text="Godkendt med ÆNDRINGER."),
            item(2, outcome=Outcome.NOTED, title="Orientering om skoler", text="Taget til efterretning."),
            item(3, decided=False),
        ],
    )
    b, b_items = meeting(
        "b",
        hdr=header("Odense Kommune", "Børne- og Ungeudvalget", dt.date(2024, 1, 10)),
        items=[item(1, outcome=Outcome.REJECTED, title="100% rabat_x", text="Forkastet.")],
    )
    c, c_items = meeting("c-incomplete", 2)
    await store(engine, [a, *a_items, b, *b_items, c, c_items[0]])

    everything = await listed(engine)
    assert [d.item_title for d in everything] == ["Budget 2026", "Orientering om skoler", "100% rabat_x"]
    assert all(d.municipality != "c" for d in everything)
    assert len(await listed(engine, date_from=dt.date(2025, 1, 1))) == 2
    assert len(await listed(engine, municipality="odense kommune")) == 1
    assert len(await listed(engine, committee="ØKONOMIUDVALGET")) == 2
    assert [d.outcome for d in await listed(engine, outcome=Outcome.NOTED)] == ["noted"]
    assert [d.item_title for d in await listed(engine, match="ændringer")] == ["Budget 2026"]
    assert [d.item_title for d in await listed(engine, match="SKOLER")] == ["Orientering om skoler"]
    assert [d.item_title for d in await listed(engine, match="0% rabat_")] == ["100% rabat_x"]
    assert await listed(engine, match="%") != []
    assert await listed(engine, match="_x_") == []
    assert len(await listed(engine, limit=1)) == 1
    got = everything[0]
    assert got.item_id == f"{a.document_id}:0"
    assert got.absent == ["Bo Hansen (V)"]
    assert got.stored_at.tzinfo is not None
    assert (await totals(engine)).documents == 3
    assert (await totals(engine)).complete_meetings == 2

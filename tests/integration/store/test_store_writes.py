"""What the store's transaction writes, and no more: each decision once with its final page keys, no index
entry (the search indexer's job), and revision 0010 (the search queue, two redundant indexes dropped) up and
down on a store with rows."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import AsyncEngine

from services.readmodel.decisions import count_decisions
from services.readmodel.filter import ReadFilter
from services.store import search
from services.store.db import alembic_config, create_engine, migrate
from shared.contracts.meeting import DocumentKind
from tests.integration.store.corpus_store import store
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration


def _statements(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    return seen


async def _listed(engine: AsyncEngine) -> dict[str, bool]:
    async with engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT item_id, listed FROM decisions"))
        return {r[0]: bool(r[1]) for r in rows}


async def test_a_meeting_stored_in_one_batch_writes_each_decision_once_and_listed(engine: AsyncEngine) -> None:
    parsed, events = meeting("once", 5)
    seen = _statements(engine)
    await store(engine, [parsed, *events], index=False)
    writes = [s for s in seen if s.startswith(("INSERT INTO decisions", "UPDATE decisions"))]
    assert len(writes) == 1 and writes[0].startswith("INSERT INTO decisions"), writes
    assert not [s for s in seen if "item_search" in s], "the store's transaction writes no index entry"
    assert set((await _listed(engine)).values()) == {True}


async def test_decisions_of_a_meeting_completed_by_a_later_batch_are_listed_then(engine: AsyncEngine) -> None:
    parsed, events = meeting("two-batches", 4)
    await store(engine, [parsed, *events[:2]], index=False)
    assert set((await _listed(engine)).values()) == {False}, "an incomplete meeting's decisions are not listed"
    assert await count_decisions(engine, ReadFilter()) == 0
    await store(engine, events[2:], index=False)
    assert await _listed(engine) == {f"{parsed.document_id}:{n}": True for n in range(4)}
    assert await count_decisions(engine, ReadFilter()) == 4


async def test_a_superseded_version_is_unlisted_and_the_current_one_listed(engine: AsyncEngine) -> None:
    hdr = header()
    agenda_parsed, agenda_items = meeting("v-agenda", 2, hdr=hdr.model_copy(update={"kind": DocumentKind.AGENDA}))
    minutes_parsed, minutes_items = meeting("v-minutes", 2, hdr=hdr, items=[item(1), item(2, text="Afvist.")])
    await store(engine, [agenda_parsed, *agenda_items], index=False)
    await store(engine, [minutes_parsed, *minutes_items], index=False)
    listed = await _listed(engine)
    assert {k for k, v in listed.items() if v} == {f"{minutes_parsed.document_id}:{n}" for n in range(2)}
    assert {k for k, v in listed.items() if not v} == {f"{agenda_parsed.document_id}:{n}" for n in range(2)}


def _downgrade(connection: Connection, url: str, revision: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


async def _indexes(engine: AsyncEngine) -> set[str]:
    def names(connection: Connection) -> set[str]:
        inspector = sa.inspect(connection)
        return {ix["name"] for table in ("decisions", "agenda_items") for ix in inspector.get_indexes(table)}

    async with engine.connect() as conn:
        return await conn.run_sync(names)


async def test_revision_0010_down_indexes_what_is_queued_and_up_again(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        assert not {"ix_decisions_outcome", "ix_agenda_items_id_position"} & await _indexes(engine)
        parsed, events = meeting("queued", 3, items=[item(1, text="Cykelstien godkendt."), item(2), item(3)])
        await store(engine, [parsed, *events], index=False)  # stored, queued, not indexed
        async with engine.connect() as conn:
            await conn.run_sync(_downgrade, database_url, "0009_meeting_warnings")
            await conn.commit()
        assert {"ix_decisions_outcome", "ix_agenda_items_id_position"} <= await _indexes(engine)
        async with engine.connect() as conn:
            entries = (await conn.execute(sa.text("SELECT count(*) FROM item_search"))).scalar_one()
            tables = await conn.run_sync(lambda c: set(sa.inspect(c).get_table_names()))
        assert entries == 3 and "search_queue" not in tables
        # The index the downgrade built is the one the search reads (stems, rowids).
        if engine.dialect.name == "sqlite":
            async with engine.connect() as conn:
                hit = await conn.execute(
                    sa.text("SELECT count(*) FROM item_search WHERE item_search MATCH :q"),
                    {"q": search.fts5_expression(search.parse_query("cykelstierne"))},
                )
                assert hit.scalar_one() == 1
        await migrate(database_url)
        assert await count_decisions(engine, ReadFilter(q="cykelstierne")) == 1
    finally:
        await engine.dispose()

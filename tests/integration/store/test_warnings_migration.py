"""0009 adds `meetings.warnings`: rows stored before it read as no warnings, and it downgrades cleanly; the store
keeps a parse's warnings and the read layer returns them with the meeting."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection

from services.readmodel.meetings import get_meeting
from services.store.db import alembic_config, create_engine, migrate
from tests.integration.store.corpus_store import StoredDoc, corpus, fill

pytestmark = pytest.mark.integration

_DOC = "a" * 64


def _downgrade(connection: Connection, url: str, revision: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


def _columns(connection: Connection) -> set[str]:
    return {c["name"] for c in sa.inspect(connection).get_columns("meetings")}


async def test_0009_upgrades_old_rows_to_no_warnings_and_downgrades(database_url: str) -> None:
    await migrate(database_url, "0008_decision_page_keys")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            # A meeting as the store wrote it at 0008: no warnings column at all.
            await conn.execute(sa.text("INSERT INTO documents (document_id, original_name, stored_at) "
                                       "VALUES (:d, 'referat.pdf', :t)"), {"d": _DOC, "t": dt.datetime(2026, 1, 2)})
            await conn.execute(sa.text("INSERT INTO meetings (document_id, kind, participants, item_count, complete) "
                                       "VALUES (:d, 'minutes', '[]', 1, true)"), {"d": _DOC})
            assert "warnings" not in await conn.run_sync(_columns)
        await migrate(database_url, "0009_meeting_warnings")
        async with engine.begin() as conn:
            assert "warnings" in await conn.run_sync(_columns)
            meetings = sa.table("meetings", sa.column("document_id"), sa.column("warnings", sa.JSON))
            stored = (await conn.execute(sa.select(meetings.c.warnings))).scalar_one()
            assert stored == []
            await conn.execute(meetings.update().values(warnings=["minutes without any decision"]))
            again = (await conn.execute(sa.select(meetings.c.warnings))).scalar_one()
            assert again == ["minutes without any decision"]
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade, database_url, "0008_decision_page_keys")
        async with engine.begin() as conn:
            assert "warnings" not in await conn.run_sync(_columns)
            kept = (await conn.execute(sa.text("SELECT item_count FROM meetings"))).scalar_one()
            assert kept == 1  # the meeting itself survives the downgrade
        await migrate(database_url)
        async with engine.begin() as conn:
            assert "warnings" in await conn.run_sync(_columns)
    finally:
        await engine.dispose()


async def test_the_warnings_of_a_parse_are_stored_and_read_with_the_meeting(database_url: str) -> None:
    await migrate(database_url)
    plain, doubted = corpus()[:2]
    warned = StoredDoc(doubted.path, doubted.received, doubted.meeting.model_copy(
        update={"warnings": ("minutes without any decision", "1 of 4 items without a title")}))
    engine = create_engine(database_url)
    try:
        await fill(engine, (plain, warned))
        with_warnings = await get_meeting(engine, warned.received.document_id)
        without = await get_meeting(engine, plain.received.document_id)
    finally:
        await engine.dispose()
    assert with_warnings is not None and without is not None
    assert with_warnings.warnings == ["minutes without any decision", "1 of 4 items without a title"]
    assert without.warnings == list(plain.meeting.warnings) == []

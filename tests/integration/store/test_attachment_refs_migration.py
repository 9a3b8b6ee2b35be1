"""0012 adds `agenda_items.attachment_refs`: items stored before it read as attachment names without references,
and it downgrades without losing the items (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection

from services.readmodel import meetings as reader
from services.store.db import alembic_config, create_engine, migrate

pytestmark = pytest.mark.integration

_DOC = "b" * 64
_ITEM = f"{_DOC}:0"


def _downgrade(connection: Connection, url: str, revision: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


def _columns(connection: Connection) -> set[str]:
    return {c["name"] for c in sa.inspect(connection).get_columns("agenda_items")}


async def _store_at_0011(conn: sa.ext.asyncio.AsyncConnection) -> None:
    """A complete meeting with one decided item that has an attachment, as the store wrote it at 0011."""
    at = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    await conn.execute(sa.text("INSERT INTO documents (document_id, original_name, stored_at) "
                               "VALUES (:d, 'referat.json', :t)"), {"d": _DOC, "t": at})
    await conn.execute(sa.text("INSERT INTO meetings (document_id, kind, participants, item_count, complete) "
                               "VALUES (:d, 'minutes', '[]', 1, true)"), {"d": _DOC})
    await conn.execute(sa.text(
        "INSERT INTO agenda_items (id, document_id, position, number, title, is_closed, sections, absent, "
        "attachments, stored_at) VALUES (:i, :d, 0, 1, 'Punkt', false, '[]', '[]', :a, :t)"
    ), {"i": _ITEM, "d": _DOC, "a": '["Bilag 1 - Kort"]', "t": at})
    await conn.execute(sa.text(
        "INSERT INTO decisions (item_id, document_id, event_id, text, outcome, stored_at, position, date_order, "
        "listed) VALUES (:i, :d, 'e1', 'Godkendt.', 'approved', :t, 0, 0, true)"
    ), {"i": _ITEM, "d": _DOC, "t": at})


async def test_0012_reads_old_items_as_names_and_downgrades_keeping_them(database_url: str) -> None:
    await migrate(database_url, "0011_sources")
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await _store_at_0011(conn)
            assert "attachment_refs" not in await conn.run_sync(_columns)
        # Read by this version's read model, which needs the newest schema (0015 adds a documents column).
        await migrate(database_url)
        meeting = await reader.get_meeting(engine, _DOC)
        assert meeting is not None
        [item] = meeting.items
        assert (item.attachments, item.attachment_refs) == (["Bilag 1 - Kort"], [])
        async with engine.begin() as conn:
            await conn.run_sync(_downgrade, database_url, "0011_sources")
        async with engine.begin() as conn:
            assert "attachment_refs" not in await conn.run_sync(_columns)
            kept = (await conn.execute(sa.text("SELECT count(*) FROM decisions d JOIN agenda_items i "
                                               "ON i.id = d.item_id"))).scalar_one()
            assert kept == 1  # the item and its decision survive the downgrade
        await migrate(database_url)
        async with engine.begin() as conn:
            assert "attachment_refs" in await conn.run_sync(_columns)
    finally:
        await engine.dispose()

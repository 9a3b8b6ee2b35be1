"""The Alembic migrations build exactly the schema the SQLModel tables describe (SQLite and PostgreSQL): every
owner's tables, as services/store/schema.py gathers them."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from services.store import schema
from services.store.db import create_engine, migrate

pytestmark = pytest.mark.integration


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, schema.metadata))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    # Only alembic's own bookkeeping table and the dialect-specific search index (item_search, not a SQLModel
    # table: services/store/search.py) may differ; anything else means a model changed without a migration.
    assert [d for d in diff if "alembic_version" not in repr(d) and "item_search" not in repr(d)] == []

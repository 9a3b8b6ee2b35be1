"""Readiness: the database answers and its schema is at the migrations' head (what this code reads), and,
under `minutes up`, every process of the pipeline runs (its supervisor's heartbeat, shared/health.py)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.db import alembic_config, is_db_unavailable
from shared.health import pipeline_reason


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The head revision(s) of the store's migrations, read from the migration scripts once."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return frozenset(script.get_heads())


def _current(connection: Connection) -> frozenset[str]:
    from alembic.runtime.migration import MigrationContext

    return frozenset(MigrationContext.configure(connection).get_current_heads())


async def readiness(engine: AsyncEngine, data_dir: Path | None = None) -> tuple[bool, str]:
    """(ready, why): a short reason a person can act on; never an exception. With `data_dir`, a pipeline
    that `minutes up` supervises there must be whole (Redis and every service running)."""
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(_current)
    except Exception as exc:
        if is_db_unavailable(exc):
            return False, "database unreachable"
        return False, f"database error: {type(exc).__name__}"
    heads = head_revisions()
    if not current:
        return False, "database has no schema: run `minutes migrate`"
    if current != heads:
        return (
            False,
            f"database schema at {', '.join(sorted(current))}, code expects {', '.join(sorted(heads))}: "
            "run `minutes migrate`",
        )
    pipeline = pipeline_reason(data_dir) if data_dir is not None else None
    if pipeline is not None:
        return False, f"pipeline: {pipeline}"
    return True, f"database at {', '.join(sorted(current))}"

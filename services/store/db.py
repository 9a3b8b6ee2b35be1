"""Engine factory, schema migration (Alembic), waiting for the schema, and the test for "the database is
unavailable"."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# Alembic (~0.3 s to import) is loaded by the functions that migrate or read revisions, not by every reader.
if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).resolve().parent
ALEMBIC_INI = HERE / "alembic.ini"
MIGRATIONS = HERE / "migrations"

# Any constant works: it only has to be the same in every store process migrating one PostgreSQL database.
_PG_MIGRATION_LOCK = 0x6D696E75

# SQLSTATE classes of PostgreSQL errors that pass by themselves: connection exception, transaction
# rollback (serialization failure, deadlock), insufficient resources, operator intervention (shutdown).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57")

# How long a SQLite writer waits for another one (busy_timeout) before "database is locked".
_SQLITE_BUSY_S = 30.0


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    # Writers of several store processes queue up instead of failing with "database is locked"; set first
    # because switching to WAL itself needs the lock when another process is creating the file.
    cur.execute(f"PRAGMA busy_timeout={int(_SQLITE_BUSY_S * 1000)}")
    # WAL lets readers (queries, the relay) run while a store worker writes. NORMAL in WAL survives a
    # process crash; only an OS crash or power loss can drop the last commits (SQLite's documented trade).
    _switch_to_wal(cur)
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
    # SQLite's lower() folds ASCII only; Danish titles need Æ/Ø/Å folded for case-insensitive search.
    dbapi_connection.create_function("lower", 1, _py_lower, deterministic=True)


def _switch_to_wal(cur: Any) -> None:
    # Two connections converting a new file at once can deadlock on the lock upgrade; SQLite then answers
    # "database is locked" at once without calling the busy handler (its documented deadlock rule), so
    # the loser waits here and tries again — by then the file is WAL and the pragma needs no write lock.
    deadline = time.monotonic() + _SQLITE_BUSY_S
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _py_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine for SQLite (aiosqlite, WAL + pragmas) or PostgreSQL (asyncpg)."""
    parsed = make_url(url)
    # orjson for the JSON columns (sections, attachments, votes...): the stdlib encoder showed up in profiles.
    kwargs.setdefault("json_serializer", _json_dumps)
    kwargs.setdefault("json_deserializer", orjson.loads)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, **kwargs)
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent

            def make_folder(*_args: Any) -> None:
                # A missing folder is created on the first connect, not here (an engine is made without
                # I/O); an impossible one then fails the connect, as "unavailable" (retried).
                with contextlib.suppress(OSError):
                    folder.mkdir(parents=True, exist_ok=True)

            event.listen(engine.sync_engine, "do_connect", make_folder)
        event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def alembic_config(url: str) -> Config:
    """The Alembic configuration of the store, located through the package (works from a wheel)."""
    from alembic.config import Config

    cfg = Config(str(ALEMBIC_INI))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _upgrade(connection: Connection, cfg: Config, revision: str) -> None:
    from alembic import command

    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


async def migrate(url: str, revision: str = "head", engine: AsyncEngine | None = None) -> None:
    """Upgrade the database at `url` to `revision`; safe when several store processes start at once."""
    own = engine is None
    eng = engine or create_engine(url)
    try:
        async with eng.connect() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            elif conn.dialect.name == "sqlite":
                # pysqlite does not open a transaction for DDL; take the write lock up front so a second
                # process waits (busy_timeout) and then finds the schema at head instead of racing.
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            await conn.run_sync(_upgrade, alembic_config(url), revision)
            await conn.commit()
    finally:
        if own:
            await eng.dispose()


def is_db_unavailable(error: BaseException) -> bool:
    """True when `error` says the database cannot be reached or is busy, not that the data is bad."""
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated or isinstance(error, exc.OperationalError | exc.InterfaceError):
            return True
        sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return isinstance(sqlstate, str) and sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
    # asyncpg raises OSError (connection refused) and TimeoutError from connect() without wrapping.
    return isinstance(error, OSError | TimeoutError | exc.TimeoutError | exc.DisconnectionError)


def _current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


def head_revision() -> str | None:
    """The newest Alembic revision this version of the store knows (what `minutes migrate` upgrades to)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _schema_reason(current: str | None, wanted: str | None) -> str | None:
    if current != wanted:
        return f"database schema is at {current or 'nothing (not migrated)'}, not {wanted}: run `minutes migrate`"
    return None


async def not_ready(engine: AsyncEngine, wanted: str | None) -> str | None:
    """Why the store cannot store now (None: the database answers and is at revision `wanted`)."""
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(_current_revision)
    except Exception as exc:  # unreachable, refused, bad credentials: all mean "not ready", with the reason
        return f"database unreachable: {type(exc).__name__}: {str(exc)[:200]}"
    return _schema_reason(current, wanted)


class SchemaNotReady(Exception):
    """The database cannot be used by this version yet: unreachable, or its schema not at `wanted`."""


async def await_schema(
    engine: AsyncEngine,
    wanted: str | None,
    report: Callable[[str], object],
    stop: asyncio.Event | None = None,
) -> bool:
    """Wait until the database answers at revision `wanted`, never migrating it: migrations are run by
    `minutes migrate` alone (compose's migrate step, `minutes up` before it starts the services).

    Each attempt that finds the database unreachable or its schema elsewhere tells `report(reason)`, then
    waits under the outage policy (shared/retry.py). An error that is neither (a refused login, a broken
    file) is raised: waiting would not end it. False when `stop` was set before the schema arrived.
    """
    from shared.retry import retry_while  # tenacity: loaded by the services that wait, not by every reader

    async def attempt() -> None:
        try:
            async with engine.connect() as conn:
                current = await conn.run_sync(_current_revision)
        except Exception as exc:
            if not is_db_unavailable(exc):
                raise
            reason: str | None = f"database unreachable: {type(exc).__name__}: {str(exc)[:200]}"
        else:
            reason = _schema_reason(current, wanted)
        if reason is not None:
            report(reason)
            raise SchemaNotReady(reason)

    try:
        await retry_while(attempt, lambda error: isinstance(error, SchemaNotReady), stop=stop)
    except SchemaNotReady:
        if stop is not None and stop.is_set():
            return False
        raise
    return True


async def schema_revision(url: str) -> str | None:
    """The Alembic revision the database at `url` is at (None: no schema yet)."""
    eng = create_engine(url)
    try:
        async with eng.connect() as conn:
            return await conn.run_sync(_current_revision)
    finally:
        await eng.dispose()

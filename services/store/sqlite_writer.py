"""The store's SQLite transactions in one thread hop per batch instead of several per statement (issue 20).

aiosqlite runs every SQLite call on a thread of its own and hands each call there and back (the cursor, the
execute, the fetch, the close): with SQLAlchemy's adapter on top that is ~100 µs of CPU per statement
against ~25 µs for the same statement on a plain connection, and a batch of one document runs a dozen
statements. Here the whole transaction of a batch runs on a plain (pysqlite) connection on one worker
thread: the store's repository code is unchanged, given a connection whose `execute`/`scalar` run at once,
so the coroutine runs to its end in a single step on that thread.

Same file, same pragmas and SQL functions as the async engine (`db._sqlite_on_connect`), same transaction
boundaries, same errors (SQLAlchemy's, so `db.is_db_unavailable` and the outage gate read them as before).
PostgreSQL keeps the async engine: asyncpg has no thread to hop to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar, cast

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, make_url

from services.store import db

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")


class ImmediateConnection:
    """The part of AsyncConnection the store's writes use (`execute`, `scalar`, `dialect`), over a plain
    connection: awaiting them never suspends."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        return self._conn.execute(statement, parameters)

    async def scalar(self, statement: Any, parameters: Any = None) -> Any:
        return self._conn.scalar(statement, parameters)


def run_to_end(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends (it awaits only an ImmediateConnection) and return its result."""
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coro.close()
    raise RuntimeError("a store write awaited something other than its connection")


def sync_url(url: str) -> str | None:
    """The pysqlite URL of an aiosqlite file database; None when it is not one (PostgreSQL, in-memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.set(drivername="sqlite+pysqlite").render_as_string(hide_password=False)


class SqliteWriter:
    """Runs `work(conn)` in one transaction on a plain SQLite connection, on one thread of its own."""

    def __init__(self, url: str) -> None:
        # One thread: the store writes one batch at a time, and the connection never changes threads. The
        # outbox relay's and the search indexer's transactions queue on it too: SQLite has one writer anyway.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-sqlite")
        self.engine = create_engine(
            url, json_serializer=db._json_dumps, json_deserializer=orjson.loads,
            connect_args={"check_same_thread": False},  # disposed from the event loop's thread at close
        )
        event.listen(self.engine, "connect", db._sqlite_on_connect)

    def _transaction(self, work: Callable[[AsyncConnection], Coroutine[Any, Any, T]], immediate: bool) -> T:
        with self.engine.begin() as conn:
            if immediate:
                # pysqlite would BEGIN (deferred) only at the first write: take the write lock before the reads.
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            # The callers are typed for AsyncConnection; they use only what ImmediateConnection offers.
            return run_to_end(work(cast("AsyncConnection", ImmediateConnection(conn))))

    async def run(self, work: Callable[[AsyncConnection], Coroutine[Any, Any, T]], *, immediate: bool = False) -> T:
        """`work` in one transaction (committed when it returns, rolled back when it raises); `immediate`
        takes SQLite's write lock at the start, for work that reads what it then writes (the indexer)."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._transaction, work, immediate)

    def close(self) -> None:
        """Wait for the transaction in hand, then close the connections."""
        self._thread.shutdown(wait=True)
        self.engine.dispose()

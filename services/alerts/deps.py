"""What the alerts worker's parts share: its dependencies, and one writer that commits many small writes
together (group commit)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.alerts.handlers import dead_letter_invalid
from services.alerts.window import Window
from services.store import db
from shared.broker import consumer_name
from shared.consume import OutageGate
from shared.health import Heartbeat
from shared.service import Periodic
from shared.settings import Settings
from shared.stream_worker import Entry

Write = Callable[[AsyncConnection], Awaitable[Any]]


class GroupWriter:
    """Runs writes of concurrent senders in shared transactions: while one commits, the writes that arrive
    queue up and go in the next transaction together. One commit for dozens of subscriptions' results
    instead of one each (SQLite has one writer at a time; every commit is a WAL sync)."""

    def __init__(self, engine: AsyncEngine, lock: asyncio.Lock) -> None:
        self.engine = engine
        self.lock = lock
        self._queue: list[tuple[Write, asyncio.Future[Any]]] = []

    async def run(self, write: Write) -> Any:
        """Run `write` in a transaction (shared with others queued meanwhile); returns its result."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((write, future))
        async with self.lock:
            if not future.done():
                group, self._queue = self._queue, []
                try:
                    await self._commit(group)
                finally:  # cancelled mid-commit: the others of the group must not wait forever
                    for _, other in group:
                        if not other.done():
                            other.set_exception(RuntimeError("the shared write was cancelled"))
        return await future

    async def _commit(self, group: list[tuple[Write, asyncio.Future[Any]]]) -> None:
        try:
            results = []
            async with self.engine.begin() as conn:
                for write, _ in group:
                    results.append(await write(conn))
        except Exception as exc:
            if len(group) == 1:
                if not group[0][1].done():
                    group[0][1].set_exception(exc)
                return
            # One write's error must not fail the others': each alone, so only its own caller sees it.
            for one in group:
                await self._commit([one])
            return
        for (_, future), result in zip(group, results, strict=True):
            if not future.done():
                future.set_result(result)


@dataclass
class AlertsDeps:
    """What the alerts handlers and loops need."""

    settings: Settings
    engine: AsyncEngine
    redis: Redis
    http: httpx.AsyncClient
    # Set when entries arrived on the public stream (or rows were added): the dispatcher wakes at once
    # instead of at its next poll.
    work: asyncio.Event = field(default_factory=asyncio.Event)
    # This process's writes one at a time: the concurrent senders would otherwise contend for SQLite's one
    # writer lock (PostgreSQL would not mind, and the cost there is small: writes are short).
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    owns_engine: bool = True
    owns_redis: bool = True
    owns_http: bool = True
    # This process among the workers of one database: the owner of its subscription leases.
    worker_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The public stream's recent entries, decoded once for every subscription (services/alerts/window.py).
    window: Window = field(default_factory=Window)
    writer: GroupWriter | None = None
    # Set at shutdown: each subscription served stops after the send in flight (recording what went), and
    # nothing new is claimed; a `start` still waiting for the schema gives up.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # What `start` starts (services/alerts/bootstrap.py): the delivery loop (the public stream's follower and
    # the dispatcher), the digests and the readiness heartbeat. `lifecycle` keeps `start` and `close` apart.
    consumer: str = field(default_factory=lambda: consumer_name("alerts"))
    # One per process: an outage of the database or Redis is waited out here, never counted.
    gate: OutageGate = field(default_factory=lambda: OutageGate("alerts"))
    loop_task: asyncio.Task[None] | None = None
    digests: Periodic | None = None
    heartbeat: Heartbeat = field(init=False)
    # The schema revision this version works with (read from the migrations by `start`).
    head: str | None = None
    lifecycle: asyncio.Lock = field(default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        if self.writer is None:
            self.writer = GroupWriter(self.engine, self.write_lock)
        self.heartbeat = Heartbeat(self.settings.data_dir, "alerts", self.not_ready)

    async def not_ready(self) -> str | None:
        """Ready = Redis answers (the stream it reads) and the database it records deliveries in is migrated."""
        await asyncio.wait_for(self.redis.ping(), 2)
        return await asyncio.wait_for(db.not_ready(self.engine, self.head), 5)

    async def on_invalid(self, entry: Entry, error: Exception) -> None:
        """An entry of the public stream that is not a valid event: skipped, dead-lettered once."""
        await dead_letter_invalid(self.redis, entry, error)

    async def write(self, write: Write) -> Any:
        """Run a write through the process's group writer."""
        assert self.writer is not None
        return await self.writer.run(write)

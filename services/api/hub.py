"""One reader of the public stream per API process, fanned out to every live client (SSE).

A Redis connection per client (a blocking XREAD holds one) made 1,000 clients 1,015 Redis connections and
kept memory after they left (issue 22). Here one follower (`StreamReader.follow`, shared/stream_worker.py)
reads `minutes:decisions` after the newest entry and hands each batch to every subscriber's queue; a client
resuming from an older id (`Last-Event-ID`, `since`) first reads what it missed with the pager (`page`,
XRANGE, short calls on a small shared pool) and then takes the queue, skipping what it already sent. So the
API holds at most 1 + PAGER_CONNECTIONS Redis connections, whatever the number of clients.

No gap, no repeat: a subscriber is registered before its catch-up reads, so an entry the follower reads
later reaches its queue, and one read earlier is in Redis for the pager; ids only grow, so "after my
position" removes the overlap. Registration and hand-off never await, so no batch is half handed out.

A subscriber whose queue passes QUEUE_MAX (a client that stopped reading) is dropped: its stream ends and
the client reconnects with its Last-Event-ID, catching up through the pager. Nothing per client stays
behind when it goes: `remove` discards it and its queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import cached_property

from pydantic import TypeAdapter, ValidationError
from redis.asyncio import BlockingConnectionPool, Redis

from shared import streams
from shared.consume import OutageGate, redis_outage
from shared.contracts.events import PublicEvent
from shared.logging import get_logger
from shared.stream_worker import Entry, StreamReader, page

log = get_logger(__name__)

_PUBLIC = TypeAdapter(PublicEvent)
FOLLOW_BATCH = 500
# Redis's 5 s socket timeout must not cut an idle XREAD: block well under it.
BLOCK_MS = 2000
SOCKET_TIMEOUT_S = 10.0
# Connections for catch-up reads (XRANGE pages), shared by every client that resumes from an older id.
PAGER_CONNECTIONS = 3
CATCH_UP_PAGE = 200
# Batches a subscriber may have waiting before it is dropped (it reconnects and catches up with the pager).
QUEUE_MAX = 1000


def position(entry_id: str) -> tuple[int, int]:
    """A stream id as (ms, seq), the stream's order."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class Live:
    """One entry as every subscriber sees it: decoded once however many clients match it."""

    __slots__ = ("__dict__", "entry", "pos")

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.pos = position(entry.id)

    @cached_property
    def event(self) -> PublicEvent | None:
        """The event; None without our field or for a type this version does not know (skipped)."""
        if not self.entry.known:
            log.warning("public stream entry without its field; skipped", entry_id=self.entry.id)
            return None
        try:
            return _PUBLIC.validate_json(self.entry.payload)
        except ValidationError as exc:
            log.info("public stream entry not understood; skipped", entry_id=self.entry.id, error=str(exc)[:200])
            return None


class Dropped(Exception):
    """The subscriber fell QUEUE_MAX batches behind and was dropped."""


class Subscriber:
    """One live client: its queue of batches from the follower and the position it has sent up to."""

    def __init__(self, after: str) -> None:
        self.after = after
        self.pos = position(after)
        self.queue: asyncio.Queue[list[Live] | None] = asyncio.Queue()


class Hub:
    """The process's follower and its subscribers (`subscribers` is empty when no client is connected)."""

    def __init__(self, redis_url: str) -> None:
        self.redis_url = redis_url
        self.subscribers: set[Subscriber] = set()
        self.head: str | None = None  # the newest id the follower has handed out (or started after)
        self._follower: Redis | None = None
        self._pager: Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._starting: asyncio.Lock | None = None

    async def start(self) -> None:
        """Connect and start the follower, once; raises a Redis error (the caller answers 503) if Redis
        does not answer. Later calls return at once while the follower runs."""
        if self._task is not None and not self._task.done():
            return
        self._starting = self._starting or asyncio.Lock()
        async with self._starting:
            if self._task is not None and not self._task.done():
                return
            follower = self._follower or Redis.from_url(
                self.redis_url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=5
            )
            self._follower = follower
            if self._pager is None:
                pool = BlockingConnectionPool.from_url(
                    self.redis_url, max_connections=PAGER_CONNECTIONS, timeout=SOCKET_TIMEOUT_S,
                    socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=5,
                )
                self._pager = Redis.from_pool(pool)  # owns the pool: aclose() closes it
            reader = StreamReader(
                follower, streams.DECISIONS, after=self.head, batch=FOLLOW_BATCH, block_ms=BLOCK_MS,
                gate=OutageGate("api-live"), stop=self._stop,
            )
            self.head = await reader.position()  # raises when Redis is away: no follower, a 503
            self._task = asyncio.create_task(self._follow(reader), name="api live follower")

    async def _follow(self, reader: StreamReader) -> None:
        try:
            async for entries in reader.follow():
                batch = [Live(e) for e in entries]
                self.head = entries[-1].id
                for sub in list(self.subscribers):
                    if sub.queue.qsize() >= QUEUE_MAX:
                        log.warning("live client fell behind; dropped (it resumes with its Last-Event-ID)")
                        self.subscribers.discard(sub)
                        sub.queue.put_nowait(None)
                    else:
                        sub.queue.put_nowait(batch)
        except Exception as exc:  # never silent: the clients' streams end and they reconnect
            log.error("live follower stopped", error=f"{type(exc).__name__}: {str(exc)[:300]}")
            for sub in list(self.subscribers):
                self.subscribers.discard(sub)
                sub.queue.put_nowait(None)
            raise

    def subscriber(self, after: str | None) -> Subscriber:
        """A subscriber starting after `after` (None: after the newest entry the follower has seen)."""
        assert self.head is not None, "start() first"
        return Subscriber(after or self.head)

    async def catch_up(self, sub: Subscriber) -> AsyncIterator[Live]:
        """Registers the subscriber, then every entry after its position that the follower handed out before
        (from Redis, with the pager); `wait` gives the rest. `remove` (also run by the response when the client
        goes) unregisters it."""
        self.subscribers.add(sub)
        pager = self._pager
        assert pager is not None
        if self.head is None or sub.pos < position(self.head):
            # Behind the follower: what it missed, from Redis, until the pager has nothing more.
            while True:
                found = [Live(e) async for e in page(
                    pager, streams.DECISIONS, start=f"({sub.after}", count=CATCH_UP_PAGE, limit=CATCH_UP_PAGE
                )]
                for live in found:
                    sub.after, sub.pos = live.entry.id, live.pos
                    yield live
                if len(found) < CATCH_UP_PAGE:
                    break

    async def wait(self, sub: Subscriber, timeout_s: float) -> list[Live]:
        """The entries of the next batch that are past the subscriber's position, waiting at most `timeout_s`
        ([] when none came: the caller's moment to ping). `Dropped` when the follower dropped it. A plain
        await on the queue under a timeout: no task of its own, and a timeout leaves the queue intact."""
        try:
            async with asyncio.timeout(timeout_s):
                batch = await sub.queue.get()
        except TimeoutError:
            return []
        if batch is None:
            raise Dropped
        fresh = [live for live in batch if live.pos > sub.pos]
        if fresh:
            sub.after, sub.pos = fresh[-1].entry.id, fresh[-1].pos
        return fresh

    async def entries(self, sub: Subscriber) -> AsyncIterator[Live]:
        """Every entry after the subscriber's position, forever (until it is dropped: `Dropped`)."""
        async for live in self.catch_up(sub):
            yield live
        while True:
            for live in await self.wait(sub, 3600):
                yield live

    def end_all(self) -> None:
        """End every subscriber's stream (the server is stopping: its clients reconnect, to another process
        or to this one once it is back, with their Last-Event-ID)."""
        for sub in list(self.subscribers):
            self.subscribers.discard(sub)
            sub.queue.put_nowait(None)

    def remove(self, sub: Subscriber) -> None:
        """Forget the subscriber and its queue (idempotent)."""
        self.subscribers.discard(sub)

    async def close(self) -> None:
        """Stop the follower and close the connections."""
        self._stop.set()
        if self._task is not None:
            # The stop ends the follower's blocking read by itself (cancelling the XREAD it awaits); a plain
            # cancel would leave that read running into the closed connection below.
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(asyncio.shield(self._task), 5)
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for client in (self._follower, self._pager):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.aclose()
        self._follower = self._pager = None


def is_redis_down(error: BaseException) -> bool:
    """Redis is away or refusing (the live endpoint answers 503)."""
    return redis_outage(error) or isinstance(error, OSError)

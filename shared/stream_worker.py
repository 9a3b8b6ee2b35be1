"""The one reader of Redis streams: every service, the CLI and the API read streams through this module.

- `GroupWorker`: a consumer of a group. Creates the group (MKSTREAM, idempotent, again after a Redis that
  came back empty), reads new entries in batches (XREADGROUP COUNT n), first its own pending ones when asked,
  reclaims entries other consumers left pending longer than `claim_idle_ms` (XAUTOCLAIM, with their
  delivery counts), keeps the entries in hand alive (XCLAIM JUSTID to itself, which resets their idle time
  without counting a delivery), and acks a batch (one XACK) once the handler returned. A handler that raises
  leaves its entries pending: the reclaim hands them out again, counted. `each(step, ...)` runs a handler per
  entry under the shared retry and dead-letter rule (shared/consume.py).
- `StreamReader`: a plain reader (XREAD after an id), for readers that keep no group (the SSE endpoint,
  ingest's rejection follower).
- `page` / `newest_id` / `entry_at`: the one XRANGE/XREVRANGE pager.
- `decode_fields`: the one decoder of an entry: FastStream's binary envelope (`__data__`) or the plain-JSON
  field `json` of the public streams.

Outages (Redis unreachable or refusing; the handler's own, e.g. the database) are never counted as
deliveries: the worker waits on an `OutageGate` (the shared backoff, one log line per change of state).
Why a loop of our own and not FastStream's subscribers: docs/stream-worker.md (measured).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared import streams
from shared.consume import ConsumeStep, OutageGate, Outcome, redis_outage
from shared.logging import get_logger

log = get_logger(__name__)

_DATA = (b"__data__", "__data__")
_JSON = (streams.PUBLIC_FIELD.encode(), streams.PUBLIC_FIELD)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def decode_fields(fields: Mapping[Any, Any]) -> bytes:
    """The body of an entry: FastStream's binary envelope, else the plain-JSON `json` field, else (not ours)
    all fields as a JSON object, so a dead letter shows what arrived."""
    for key in _DATA:
        if key in fields:
            # Imported here: the CLI and the API read only plain-JSON streams and skip FastStream's import.
            from faststream.redis.parser import BinaryMessageFormatV1

            raw = fields[key]
            body, _headers = BinaryMessageFormatV1.parse(raw if isinstance(raw, bytes) else raw.encode())
            return bytes(body)
    for key in _JSON:
        if key in fields:
            raw = fields[key]
            return raw if isinstance(raw, bytes) else str(raw).encode()
    return orjson.dumps({_text(k): _text(v) for k, v in fields.items()})


@dataclass(frozen=True)
class Entry:
    """One stream entry: its id, its body (JSON bytes) and how often its group delivered it."""

    id: str
    payload: bytes
    deliveries: int = 1
    # False when the entry had no body field of ours (e.g. trimmed while pending: XAUTOCLAIM gives nil).
    known: bool = True

    @property
    def message_id(self) -> str:
        """The entry id (the name the handlers' dead letters use)."""
        return self.id

    @property
    def text(self) -> str:
        """The body as text (for dead letters and logs)."""
        return self.payload.decode(errors="replace")


def entry_of(raw_id: Any, fields: Mapping[Any, Any] | None, deliveries: int = 1) -> Entry:
    """An Entry from a redis-py reply row."""
    fields = fields or {}
    known = any(k in fields for k in (*_DATA, *_JSON))
    return Entry(_text(raw_id), decode_fields(fields), deliveries, known)


def entries_of(rows: list[tuple[Any, Any]]) -> list[Entry]:
    """Entries of reply rows, each row's raw fields let go as soon as its body is taken out: an entry's body
    is a copy (out of FastStream's envelope), and the raw reply kept to the end held a large delivery twice."""
    out = []
    for raw_id, fields in rows:
        out.append(entry_of(raw_id, fields))
        if isinstance(fields, dict):
            fields.clear()
    return out


def _rows(reply: Any) -> list[tuple[Any, Any]]:
    # RESP2 gives [[stream, rows]]; RESP3 a {stream: [rows]} mapping.
    if not reply:
        return []
    if isinstance(reply, dict):
        return [row for rows in reply.values() for row in rows]
    return [row for _stream, rows in reply for row in rows]


async def ensure_group(client: Redis, stream: str, group: str, start: str = "0", *, rewind: bool = False) -> bool:
    """Create `group` on `stream` at `start` (MKSTREAM); True when it was created. An existing group is
    kept as it is, or moved back to `start` with `rewind`."""
    try:
        await client.xgroup_create(stream, group, id=start, mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
        if rewind:
            await client.xgroup_setid(stream, group, start)
        return False
    return True


# -- the pager ----------------------------------------------------------------------------------------------


class OutOfStreamTime(ValueError):
    """A time no stream id can stand for (before 1970-01-01, or beyond what a datetime holds)."""


def millis_at(moment: dt.datetime) -> int:
    """`moment` as the milliseconds half of a stream id (naive: UTC). OutOfStreamTime before 1970-01-01:
    Redis refuses a negative id, so such a time is the caller's mistake (a 400), not a server error."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        ms = int(moment.timestamp() * 1000)
    except (OverflowError, ValueError, OSError):
        ms = -1
    if ms < 0:
        raise OutOfStreamTime(f"{moment.isoformat()} is before 1970-01-01, the earliest time a stream holds")
    return ms


async def page(
    client: Redis, stream: str, *, start: str = "-", end: str = "+", count: int = 500,
    reverse: bool = False, limit: int | None = None,
) -> AsyncIterator[Entry]:
    """Every entry with `start` <= id <= `end` ("(id" excludes), fetched `count` per XRANGE; oldest first, or
    newest first with `reverse` (XREVRANGE); at most `limit` entries. Never the whole stream at once."""
    low, high, seen = start, end, 0
    while limit is None or seen < limit:
        want = count if limit is None else min(count, limit - seen)
        if reverse:
            rows: Any = await client.xrevrange(stream, max=high, min=low, count=want) or []
        else:
            rows = await client.xrange(stream, min=low, max=high, count=want) or []
        for raw_id, fields in rows:
            yield entry_of(raw_id, fields)
        seen += len(rows)
        if len(rows) < want:
            return
        # "(" makes the bound exclusive: the next page starts after the last entry seen.
        if reverse:
            high = "(" + _text(rows[-1][0])
        else:
            low = "(" + _text(rows[-1][0])


async def newest_id(client: Redis, stream: str) -> str | None:
    """The id of the newest entry, or None when the stream is empty or absent."""
    rows: Any = await client.xrevrange(stream, count=1)
    return _text(rows[0][0]) if rows else None


async def entry_at(client: Redis, stream: str, entry_id: str) -> Entry | None:
    """One entry by id; None when there is none (or `entry_id` is not a stream id)."""
    try:
        rows: Any = await client.xrange(stream, min=entry_id, max=entry_id, count=1) or []
    except ResponseError:
        return None
    return entry_of(*rows[0]) if rows else None


# -- readers ------------------------------------------------------------------------------------------------


async def _or_stop(call: Awaitable[Any], stop: asyncio.Event) -> tuple[bool, Any]:
    """Await `call` unless `stop` is set first (then the call is cancelled): (finished, result)."""
    task = asyncio.ensure_future(call)
    if stop.is_set():
        task.cancel()
    stopped = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task not in done:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        return False, None
    return True, task.result()


@dataclass
class StreamReader:
    """Reads a stream after an id without a group (XREAD): nothing acked, the reader keeps its cursor.

    `after=None` starts after the newest entry at the first read (nothing added later is missed).
    `follow` waits out Redis outages on the gate; `read` raises them (a caller that reconnects itself).
    """

    client: Redis
    stream: str
    after: str | None = None
    batch: int = 100
    # Below redis-py's 5 s socket timeout, so an idle stream never times the read out.
    block_ms: int = 1000
    gate: OutageGate | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def position(self) -> str:
        """The id the next read starts after (resolving "the newest" once)."""
        if self.after is None:
            self.after = await newest_id(self.client, self.stream) or "0-0"
        return self.after

    async def read(self) -> list[Entry]:
        """One XREAD of up to `batch` entries after the cursor, blocking up to `block_ms`; moves the cursor."""
        after = await self.position()
        finished, reply = await _or_stop(
            self.client.xread({self.stream: after}, count=self.batch, block=self.block_ms), self.stop
        )
        entries = [entry_of(raw_id, fields) for raw_id, fields in _rows(reply)] if finished else []
        if entries:
            self.after = entries[-1].id
        return entries

    async def follow(self) -> AsyncIterator[list[Entry]]:
        """Batches of new entries until `stop` is set; Redis outages are waited out, never raised."""
        gate = self.gate or OutageGate(f"read {self.stream}")
        while not self.stop.is_set():
            try:
                entries = await self.read()
            except Exception as exc:
                if not redis_outage(exc):
                    raise
                await gate.wait(exc, self.stop)
                continue
            gate.up()
            if entries:
                yield entries


Handler = Callable[[list[Entry]], Awaitable[object]]


@dataclass
class GroupWorker:
    """A consumer `consumer` of `group` on `stream` that hands batches of entries to `handle`.

    `handle(entries)` returning means every entry is settled (done or dead-lettered): the batch is acked
    with one XACK. Raising leaves them pending for a reclaim (after `claim_idle_ms`, counted).
    """

    client: Redis
    stream: str
    group: str
    consumer: str
    handle: Handler
    batch: int = 100
    block_ms: int = 1000
    # Entries pending at least this long (their consumer died, or its handler raised) are taken over;
    # None: this worker never reclaims (e.g. a follower that is the only consumer of its group).
    claim_idle_ms: int | None = 60_000
    reclaim_every_s: float = 5.0
    # Where a group created here starts ("0": everything the stream holds; "$": from now on).
    start_id: str = "0"
    # Re-read this consumer's own pending entries first (a consumer name that survives restarts).
    own_pending_first: bool = False
    keepalive_s: float | None = None
    gate: OutageGate | None = None
    # Outages of the handler's own dependencies (the database): waited out, never counted.
    outage: Callable[[BaseException], bool] = redis_outage
    # Asked for a new client after an outage (a restarted `minutes up` listens on a new port).
    reconnect: Callable[[], Redis] | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _cursor: str = ">"
    _next_reclaim: float = 0.0
    _task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        if self.gate is None:
            self.gate = OutageGate(self.group)
        if self.own_pending_first:
            self._cursor = "0"
        if self.keepalive_s is None and self.claim_idle_ms:
            # Well inside the reclaim idle time: an entry being handled is never taken for a dead worker's.
            self.keepalive_s = max(0.2, self.claim_idle_ms / 1000 / 4)

    async def ensure_group(self) -> bool:
        """Create the group (idempotent)."""
        return await ensure_group(self.client, self.stream, self.group, self.start_id)

    async def read_new(self) -> list[Entry]:
        """One XREADGROUP: own pending entries while `own_pending_first` has some, then new ones (`>`)."""
        own = self._cursor != ">"
        finished, reply = await _or_stop(
            self.client.xreadgroup(
                self.group, self.consumer, {self.stream: self._cursor}, count=self.batch,
                block=None if own else self.block_ms,
            ),
            self.stop,
        )
        if not finished:
            return []
        rows = _rows(reply)
        if own:
            if not rows:
                self._cursor = ">"
                return []
            self._cursor = _text(rows[-1][0])
            # Delivered before (this read counted one more): the handler's rule sees the true count.
            return await self._with_counts(entries_of(rows))
        return entries_of(rows)

    async def reclaim(self) -> list[Entry]:
        """Take over up to `batch` entries pending longer than `claim_idle_ms` (XAUTOCLAIM), with their
        delivery counts (XPENDING)."""
        if not self.claim_idle_ms:
            return []
        reply: Any = await self.client.xautoclaim(
            self.stream, self.group, self.consumer, self.claim_idle_ms, start_id="0-0", count=self.batch
        )
        rows = reply[1] if reply else []
        return await self._with_counts(entries_of([(i, f) for i, f in rows if i is not None]))

    async def _with_counts(self, entries: list[Entry]) -> list[Entry]:
        if not entries:
            return entries
        pending: Any = await self.client.xpending_range(
            self.stream, self.group, min=entries[0].id, max=entries[-1].id, count=len(entries) * 2 + 10,
            consumername=self.consumer,
        )
        counts = {_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
        return [Entry(e.id, e.payload, counts.get(e.id, 1), e.known) for e in entries]

    async def ack(self, entries: Sequence[Entry]) -> None:
        """One XACK for the entries."""
        if entries:
            await self.client.xack(self.stream, self.group, *[e.id for e in entries])

    async def touch(self, entries: Sequence[Entry]) -> None:
        """Reset the entries' idle time (XCLAIM JUSTID to ourselves: no delivery counted)."""
        if entries:
            await self.client.xclaim(
                self.stream, self.group, self.consumer, 0, [e.id for e in entries], justid=True
            )

    async def _redis(self, call: Callable[[], Awaitable[Any]]) -> Any:
        """A Redis call of the worker itself, waited out through outages; NOGROUP re-creates the group."""
        assert self.gate is not None
        while True:
            try:
                result = await call()
            except ResponseError as exc:
                if "NOGROUP" not in str(exc) or self.stop.is_set():
                    raise
                # Redis came back empty (no AOF): the stream and the group are gone; start them again.
                log.warning("consumer group missing; creating it again", stream=self.stream, group=self.group)
                self._cursor = ">"
                await self._redis(self.ensure_group)
                continue
            except Exception as exc:
                if not redis_outage(exc) or self.stop.is_set():
                    raise
                await self.gate.wait(exc, self.stop)
                if self.own_pending_first:
                    # A read lost with the connection may have delivered entries we never saw: re-read ours.
                    self._cursor = "0"
                if self.reconnect is not None:
                    with contextlib.suppress(Exception):
                        await self.client.aclose()
                    with contextlib.suppress(Exception):  # no Redis named yet: the next attempt asks again
                        self.client = self.reconnect()
                continue
            self.gate.up()
            return result

    async def process(self, entries: list[Entry]) -> bool:
        """Hand `entries` to the handler (kept alive meanwhile) and ack them; False if the handler raised."""
        keeper = asyncio.create_task(self._keep_alive(entries)) if self.keepalive_s else None
        try:
            await self.handle(entries)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("handler failed; entries left pending for a reclaim", stream=self.stream,
                        entries=len(entries), error=f"{type(exc).__name__}: {str(exc)[:300]}")
            return False
        finally:
            if keeper is not None:
                keeper.cancel()
        await self._redis(lambda: self.ack(entries))
        return True

    async def _keep_alive(self, entries: list[Entry]) -> None:
        assert self.keepalive_s is not None
        while True:
            await asyncio.sleep(self.keepalive_s)
            try:
                await self.touch(entries)
            except Exception as exc:  # Redis down too: the gate reports it; the entries stay pending
                log.debug("keepalive failed", error=repr(exc)[:200])

    async def step(self) -> int:
        """One read (a reclaim when one is due, else new entries) and its handling; returns entries seen."""
        entries: list[Entry] = []
        if self.claim_idle_ms and time.monotonic() >= self._next_reclaim:
            entries = await self._redis(self.reclaim)
            if len(entries) < self.batch:
                self._next_reclaim = time.monotonic() + self.reclaim_every_s
        if not entries:
            entries = await self._redis(self.read_new)
        if entries and not self.stop.is_set():
            await self.process(entries)
        return len(entries)

    def start(self) -> asyncio.Task[None]:
        """Run in a task of its own (see `shutdown`)."""
        self._task = asyncio.create_task(self.run(), name=f"stream-worker {self.stream}/{self.group}")
        self._task.add_done_callback(self._ended)
        return self._task

    def _ended(self, task: asyncio.Task[None]) -> None:
        # Never silent: a worker that stopped on an error (not an outage: those are waited out) says so.
        if not task.cancelled() and task.exception() is not None:
            error = task.exception()
            log.error("stream worker stopped on an error; nothing more is read", stream=self.stream,
                      group=self.group, error=f"{type(error).__name__}: {str(error)[:300]}")

    async def shutdown(self, grace_s: float = 8.0) -> None:
        """Stop reading; the batch in hand gets `grace_s` to finish (and be acked), then is cancelled: its
        entries stay pending for a reclaim (a handler waiting out an outage must not hold a shutdown)."""
        self.stop.set()
        task = self._task
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace_s)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run(self) -> None:
        """Create the group, then read and handle until `stop` is set (a batch in hand is finished)."""
        await self._redis(self.ensure_group)
        while not self.stop.is_set():
            try:
                await self.step()
            except Exception as exc:
                if self.stop.is_set():
                    return
                raise exc


def each(
    step: ConsumeStep,
    decode: Callable[[Entry], Any],
    handle: Callable[[Any], Awaitable[Any]],
    on_outcome: Callable[[Entry, Outcome[Any]], Awaitable[object]] | None = None,
) -> Handler:
    """A batch handler running `handle(decode(entry))` per entry under the shared consume rule (retried,
    dead-lettered at its last delivery; outages waited out). Raises only on shutdown."""

    async def run(entries: list[Entry]) -> None:
        for entry in entries:
            outcome = await step.run(
                message_id=entry.id, deliveries=entry.deliveries, payload=entry.text,
                decode=lambda entry=entry: decode(entry), handle=handle,  # type: ignore[misc]
            )
            if on_outcome is not None:
                await on_outcome(entry, outcome)

    return run

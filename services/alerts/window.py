"""The public stream as the alerts worker reads it: entries decoded once, read from a subscription's cursor.

One follower per worker (`follow`: XREAD after the newest entry, shared/stream_worker.StreamReader) holds the
entries published since it started in a window and wakes the dispatcher. A subscription at the head reads
its next entries from the window; one further behind (after a restart, or blocked on a failing endpoint)
reads them with the pager. Each entry is decoded once, its Danish stems computed once, and each distinct
filter evaluated once per entry, however many subscriptions read it: the memo is the entry's (`Item`).

Stream ids only grow (XADD gives every new entry a larger id), so reading after a cursor in id order sees
every entry published after it, in order: a cursor needs no watermark.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
from collections.abc import Awaitable, Callable, Iterable, Sequence

import sqlalchemy as sa
from pydantic import ValidationError
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.handlers import decode
from services.alerts.matching import Event, Filter, event_stems, matches
from services.store.models import meetings
from shared import streams
from shared.consume import OutageGate, redis_outage
from shared.dead_letter import InvalidMessage
from shared.stream_worker import Entry, StreamReader, page

Position = tuple[int, int]
# Deliberately unset (a region lookup not done yet), as opposed to a meeting without a region (None).
_UNKNOWN = "\x00unknown"


def position(entry_id: str | bytes | None) -> Position:
    """An entry id as (milliseconds, sequence), the order of the stream; (0, 0) without one."""
    if not entry_id:
        return 0, 0
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def entry_id(pos: Position) -> str:
    """A position as a stream id (for XRANGE)."""
    return f"{pos[0]}-{pos[1]}"


def following(pos: Position) -> Position:
    """The first position after `pos`: a cursor once `pos` is handled."""
    return pos[0], pos[1] + 1


class Item:
    """One public-stream entry, decoded when first needed (a worker without subscriptions decodes nothing).
    `event` is None for a type this version does not know (skipped, as the contract says) and for an
    invalid entry (dead-lettered once, services/alerts/handlers.py)."""

    __slots__ = ("_entry", "_event", "_invalid", "_matched", "_stems", "_text", "id", "pos", "region")

    def __init__(self, entry: Entry, invalid: list[tuple[Entry, Exception]]) -> None:
        self.id = entry.id
        self.pos = position(entry.id)
        self.region: str | None = _UNKNOWN
        self._entry: Entry | None = entry
        self._event: Event | None = None
        self._invalid = invalid
        self._stems: list[str] | None = None
        self._matched: dict[Filter, bool] = {}

    @property
    def text(self) -> str:
        """The entry's JSON as published (what a webhook receives)."""
        return self._entry.text if self._entry is not None else self._text

    @property
    def event(self) -> Event | None:
        entry = self._entry
        if entry is not None:  # not decoded yet
            self._entry = None
            self._text = entry.text
            try:
                if not entry.known:
                    raise InvalidMessage(f"an entry without the `{streams.PUBLIC_FIELD}` field")
                self._event = decode(entry.payload)
            except (InvalidMessage, ValidationError, ValueError) as exc:
                self._invalid.append((entry, exc))
        return self._event

    def matches(self, flt: Filter) -> bool:
        """Whether the event matches `flt` (the region must have been looked up when the filter has one)."""
        event = self.event
        if event is None:
            return False
        found = self._matched.get(flt)
        if found is None:
            if flt.query is not None and self._stems is None:
                self._stems = event_stems(event)
            region = None if self.region == _UNKNOWN else self.region
            found = self._matched[flt] = matches(flt, event, region=region, text_stems=self._stems)
        return found


Invalid = Callable[[Entry, Exception], Awaitable[None]]


class Window:
    """The entries after `base` that the follower has read (all of them, in order), and a memo of entries
    read from Redis behind it. Bounded: the oldest half goes when `size` is passed (`base` moves up)."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self.base: Position | None = None
        self._items: list[Item] = []
        self._positions: list[Position] = []
        self._memo: collections.OrderedDict[str, Item] = collections.OrderedDict()
        self._invalid: list[tuple[Entry, Exception]] = []

    @property
    def head(self) -> Position | None:
        """The newest position the window knows (None before the follower started)."""
        if self.base is None:
            return None
        return self._positions[-1] if self._positions else self.base

    def reset(self, base: Position | None) -> None:
        """Hold nothing, and from now on every entry after `base` (None: read everything from Redis)."""
        self.base = base
        self._items, self._positions = [], []

    def add(self, entries: Iterable[Entry]) -> None:
        """Entries the follower read, in order, right after the last one held."""
        for entry in entries:
            item = self._decode(entry)
            self._items.append(item)
            self._positions.append(item.pos)
        if len(self._items) > self.size:
            drop = len(self._items) - self.size // 2
            self.base = self._positions[drop - 1]
            del self._items[:drop], self._positions[:drop]

    def holds(self, start: Position) -> bool:
        """Whether every entry from `start` on that the follower has read is here."""
        return self.base is not None and start > self.base

    async def read(self, client: Redis, start: Position, limit: int, on_invalid: Invalid) -> list[Item]:
        """Up to `limit` entries from `start` on (inclusive), oldest first: from the window when it holds
        them, else from Redis with the pager."""
        if self.holds(start):
            at = bisect.bisect_left(self._positions, start)
            found = self._items[at : at + limit]
        else:
            found = []
            async for entry in page(client, streams.DECISIONS, start=entry_id(start), count=limit, limit=limit):
                found.append(self._memoised(entry))
        for item in found:  # a reader matches each of them: decoded now, so an invalid one is handed on now
            _ = item.event
        await self.flush_invalid(on_invalid)
        return found

    async def flush_invalid(self, on_invalid: Invalid) -> None:
        """Hand the invalid entries met since the last call to `on_invalid` (which dead-letters them)."""
        invalid, self._invalid = self._invalid, []
        for entry, exc in invalid:
            await on_invalid(entry, exc)

    def _memoised(self, entry: Entry) -> Item:
        item = self._memo.get(entry.id)
        if item is None:
            item = self._memo[entry.id] = self._decode(entry)
            if len(self._memo) > self.size:
                self._memo.popitem(last=False)
        return item

    def _decode(self, entry: Entry) -> Item:
        return Item(entry, self._invalid)


async def fill_regions(engine: AsyncEngine, items: Sequence[Item]) -> None:
    """Look up the meeting's region of the items that lack it (events do not carry it), in one query."""
    wanted = {it.event.document_id for it in items if it.event is not None and it.region == _UNKNOWN}
    if not wanted:
        return
    stmt = sa.select(meetings.c.document_id, meetings.c.region).where(meetings.c.document_id.in_(wanted))
    async with engine.connect() as conn:
        regions = {r.document_id: r.region for r in (await conn.execute(stmt)).all()}
    for it in items:
        if it.event is not None and it.region == _UNKNOWN:
            it.region = regions.get(it.event.document_id)


async def trimmed_past(client: Redis, start: Position) -> Position | None:
    """Where the stream holds everything again for a reader at `start` whose entries may have been trimmed
    by the stream's MAXLEN retention: the first entry still held (or, with none held, the position after the
    last one ever added) when that is after `start` and entries were removed. None when nothing at or after
    `start` can have been removed. (Redis does not record which ids a trim removed: when exactly the entries
    up to the one before `start` went, this says so too.)"""
    info = await client.xinfo_stream(streams.DECISIONS)
    added, length = info.get("entries-added"), int(info.get("length") or 0)
    if added is None or int(added) <= length:
        return None  # nothing was ever removed (or a Redis too old to say)
    first = info.get("first-entry")
    resume = position(first[0]) if first else following(position(info.get("last-generated-id")))
    return resume if resume > start else None


def matching(flt: Filter, items: Sequence[Item]) -> list[Item]:
    """The items whose event matches `flt`, in order."""
    return [it for it in items if it.matches(flt)]


async def follow(client: Redis, window: Window, wake: asyncio.Event, stop: asyncio.Event, on_invalid: Invalid) -> None:
    """Hold every entry published from now on in `window` and set `wake` for each batch, until `stop`.
    Redis outages are waited out (one log line per change, shared/consume.OutageGate); the window then
    carries on after the last entry it read, so it never has a hole."""
    gate = OutageGate("alerts-follow")
    reader = StreamReader(client, streams.DECISIONS, batch=500, gate=gate, stop=stop)
    while not stop.is_set():
        try:
            start = await reader.position()
            break
        except Exception as exc:
            if not redis_outage(exc):
                raise
            await gate.wait(exc, stop)
    else:
        return
    window.reset(position(start))
    wake.set()  # entries older than the window (a restart) wait for the dispatcher: it reads them from Redis
    async for entries in reader.follow():
        window.add(entries)
        await window.flush_invalid(on_invalid)
        wake.set()

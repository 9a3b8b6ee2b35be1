"""`minutes decisions --follow`: a durable subscriber of the public stream, in its own consumer group.

The group remembers what was acknowledged, so a follower that stops (Ctrl-C, a closed terminal, a reboot)
resumes where it left off. Every read blocks for BLOCK_MS, well under the client's socket timeout: redis-py
8 gives every connection a 5 s socket timeout, and a XREADGROUP BLOCK longer than that ends in a
TimeoutError on an idle stream (the crash reported in issue 11).
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from minutes_cli.decisions_filter import DecisionFilter
from shared import streams
from shared.contracts.events import DecisionMade, DecisionRevised, PublicEvent

_PUBLIC: TypeAdapter[DecisionMade | DecisionRevised] = TypeAdapter(PublicEvent)

# How long one XREADGROUP waits for new entries; must stay below SOCKET_TIMEOUT_S.
BLOCK_MS = 2000
SOCKET_TIMEOUT_S = 10.0
# The one consumer of a follower's group: a restarted follower re-reads its own unacknowledged entries.
CONSUMER = "follow"
BATCH = 200
MAX_BACKOFF_S = 10.0

_LOST = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)


def default_group() -> str:
    """The default consumer group: one per user and host, so two people never steal each other's decisions."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = "user"
    return f"cli-{user}@{socket.gethostname()}"


@dataclass
class Follower:
    """Reads `minutes:decisions` as consumer group `group`, prints matching decisions, acknowledges them.

    `write(event)` prints one decision; `say(text)` tells the person something (start, reconnects).
    `url()` is asked again on every reconnect: a restarted `minutes up` listens on a new port.
    """

    url: Callable[[], str]
    group: str
    flt: DecisionFilter
    write: Callable[[DecisionMade | DecisionRevised], None]
    say: Callable[[str], None]
    from_start: bool = False
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    printed: int = 0
    _client: Redis | None = None

    def _connect(self) -> Redis:
        # health_check_interval: a connection idle that long is PINGed before use, so a Redis that went
        # away while we waited shows up as a reconnect instead of a hang.
        return Redis.from_url(
            self.url(), socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=5, health_check_interval=30
        )

    async def open(self) -> str:
        """Connect and create (or rewind) the group; returns how the follower starts. Raises if unreachable."""
        self._client = self._connect()
        return await self._ensure_group(self._client, "0" if self.from_start else "$", rewind=self.from_start)

    async def _ensure_group(self, client: Redis, start: str, *, rewind: bool = False) -> str:
        """Create the group at `start` unless it exists; `rewind` moves an existing one back to the start."""
        try:
            await client.xgroup_create(streams.DECISIONS, self.group, id=start, mkstream=True)
        except redis_errors.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
            if rewind:
                await client.xgroup_setid(streams.DECISIONS, self.group, "0")
                return "from the start of the stream"
            return "resuming where this group stopped"
        return "from the start of the stream" if start == "0" else "new group: from now on"

    async def run(self) -> None:
        """Follow until `stop` is set; reconnect with backoff when Redis goes away."""
        if self._client is None:
            await self.open()
        client = self._client
        assert client is not None
        cursor: str | None = "0"  # first our own pending entries (delivered, never acknowledged), then ">"
        backoff, lost = 0.5, False
        while not self.stop.is_set():
            try:
                if lost:
                    # A Redis that came back without its data lost the group too: every entry is then new.
                    await self._ensure_group(client, "0")
                reply = await self._read(client, cursor)
                if reply is None:  # stopped while waiting
                    break
                if lost:
                    self.say("reconnected to Redis; resuming")
                    lost, backoff = False, 0.5
                entries = _entries(reply)
                if cursor is not None and not entries:
                    cursor = None
                    continue
                await self._deliver(client, entries)
                if cursor is not None:
                    cursor = entries[-1][0].decode() if entries else None
            except redis_errors.ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                # Redis came back empty (no AOF): the stream and our group are gone; start them again.
                await self._ensure_group(client, "0")
            except _LOST as exc:
                if not lost:
                    self.say(f"lost Redis ({exc.__class__.__name__}: {exc}); reconnecting with backoff")
                    lost = True
                await client.aclose()
                await self._pause(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                with contextlib.suppress(Exception):  # the data dir may not name a Redis for a moment
                    client = self._client = self._connect()
                cursor = "0"
        await client.aclose()

    async def _read(self, client: Redis, cursor: str | None) -> Any:
        """One XREADGROUP, abandoned when `stop` is set (what it had delivered stays pending for next time)."""
        read = asyncio.ensure_future(
            client.xreadgroup(
                self.group,
                CONSUMER,
                {streams.DECISIONS: cursor or ">"},
                count=BATCH,
                block=None if cursor is not None else BLOCK_MS,
            )
        )
        stopped = asyncio.ensure_future(self.stop.wait())
        done, _ = await asyncio.wait({read, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if read not in done:
            read.cancel()
            with contextlib.suppress(BaseException):
                await read
            return None
        return read.result()

    async def _deliver(self, client: Redis, entries: list[tuple[bytes, dict[bytes, bytes]]]) -> None:
        # Print, flush, then acknowledge: a stop between the two re-prints at most this batch (at-least-once);
        # a handled stop (Ctrl-C, SIGTERM, SIGHUP) never lands in between, since `stop` is only looked at
        # while waiting for Redis.
        ids = []
        for entry_id, fields in entries:
            ids.append(entry_id)
            raw = (fields or {}).get(streams.PUBLIC_FIELD.encode())
            if raw is None:  # trimmed away while pending, or not a decision entry
                continue
            try:
                event = _PUBLIC.validate_json(raw)
            except ValidationError:
                self.say(f"skipped entry {entry_id.decode()}: not a DecisionMade or DecisionRevised of schema 1")
                continue
            if self.flt.accepts(event):
                self.write(event)
                self.printed += 1
        if ids:
            await client.xack(streams.DECISIONS, self.group, *ids)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), seconds)


def _entries(reply: Any) -> list[tuple[bytes, dict[bytes, bytes]]]:
    # RESP2 gives [[stream, entries]]; RESP3 a {stream: [entries]} mapping.
    if not reply:
        return []
    if isinstance(reply, dict):
        return [entry for entries in reply.values() for entry in entries]
    return [entry for _stream, entries in reply for entry in entries]


def install_stop_signals(stop: asyncio.Event) -> None:
    """Ctrl-C, SIGTERM and SIGHUP (a closed terminal) end the follower after the batch in hand."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)

"""`minutes decisions --follow`: a durable subscriber of the public stream, in its own consumer group.

The group remembers what was acknowledged, so a follower that stops (Ctrl-C, a closed terminal, a reboot)
resumes where it left off. Every read blocks for BLOCK_MS, well under the client's socket timeout: redis-py
8 gives every connection a 5 s socket timeout, and a XREADGROUP BLOCK longer than that ends in a
TimeoutError on an idle stream (the crash reported in issue 11).
"""

from __future__ import annotations

import asyncio
import getpass
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import TypeAdapter, ValidationError
from redis.asyncio import Redis

from services.readmodel.filter import Matcher, ReadFilter
from shared import streams
from shared.consume import OutageGate
from shared.contracts.events import DecisionMade, DecisionRevised, PublicEvent
from shared.stream_worker import Entry, GroupWorker, ensure_group

_PUBLIC: TypeAdapter[DecisionMade | DecisionRevised] = TypeAdapter(PublicEvent)

# How long one XREADGROUP waits for new entries; must stay below SOCKET_TIMEOUT_S.
BLOCK_MS = 2000
SOCKET_TIMEOUT_S = 10.0
# The one consumer of a follower's group: a restarted follower re-reads its own unacknowledged entries.
CONSUMER = "follow"
BATCH = 200
MAX_BACKOFF_S = 10.0


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

    `flt` is the read model's filter, evaluated on each event (`Matcher`: the rules of the stored query).
    `write(event)` prints one decision; `say(text)` tells the person something (start, reconnects).
    `url()` is asked again on every reconnect: a restarted `minutes up` listens on a new port.
    """

    url: Callable[[], str]
    group: str
    flt: ReadFilter
    write: Callable[[DecisionMade | DecisionRevised], None]
    say: Callable[[str], None]
    from_start: bool = False
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    printed: int = 0
    _client: Redis | None = None
    _matcher: Matcher = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._matcher = Matcher(self.flt)

    def _connect(self) -> Redis:
        # health_check_interval: a connection idle that long is PINGed before use, so a Redis that went
        # away while we waited shows up as a reconnect instead of a hang.
        return Redis.from_url(
            self.url(), socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=5, health_check_interval=30
        )

    async def open(self) -> str:
        """Connect and create (or rewind) the group; returns how the follower starts. Raises if unreachable."""
        self._client = self._connect()
        start = "0" if self.from_start else "$"
        if await ensure_group(self._client, streams.DECISIONS, self.group, start, rewind=self.from_start):
            return "from the start of the stream" if self.from_start else "new group: from now on"
        return "from the start of the stream" if self.from_start else "resuming where this group stopped"

    def _said(self, down: bool, reason: str) -> None:
        self.say(f"lost Redis ({reason}); reconnecting with backoff" if down else "reconnected to Redis; resuming")

    async def run(self) -> None:
        """Follow until `stop` is set; reconnect with backoff when Redis goes away."""
        if self._client is None:
            await self.open()
        assert self._client is not None
        worker = GroupWorker(
            self._client, streams.DECISIONS, self.group, CONSUMER, self._deliver,
            batch=BATCH, block_ms=BLOCK_MS,
            # The only consumer of its group: nobody to reclaim from; its own pending entries come first.
            claim_idle_ms=None, own_pending_first=True,
            # A Redis that came back without its data lost the group too: every entry is then new.
            start_id="0",
            gate=OutageGate("follow", cap_s=MAX_BACKOFF_S, on_change=self._said),
            reconnect=self._connect, stop=self.stop,
        )
        try:
            await worker.run()
        finally:
            await worker.client.aclose()

    async def _deliver(self, entries: list[Entry]) -> None:
        # Print, flush, then acknowledge (the worker acks when this returns): a stop between the two re-prints
        # at most this batch (at-least-once); a handled stop (Ctrl-C, SIGTERM, SIGHUP) never lands in
        # between, since `stop` is only looked at while waiting for Redis.
        for entry in entries:
            if not entry.known:  # trimmed away while pending, or not a decision entry
                continue
            try:
                event = _PUBLIC.validate_json(entry.payload)
            except ValidationError:
                self.say(f"skipped entry {entry.id}: not a DecisionMade or DecisionRevised of schema 1")
                continue
            if self._matcher.accepts(event):
                self.write(event)
                self.printed += 1


def install_stop_signals(stop: asyncio.Event) -> None:
    """Ctrl-C, SIGTERM and SIGHUP (a closed terminal) end the follower after the batch in hand."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)

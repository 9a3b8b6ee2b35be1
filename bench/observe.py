"""Watching the pipeline from outside: decision arrivals on the public stream, and the services' memory and CPU."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson
import psutil

from minutes_cli.supervisor import Stack
from shared import streams

MB = 1024 * 1024


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99 (nearest rank, so p50 <= p95 <= p99 <= max always), max and mean of `values`."""
    if not values:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0, "mean": 0.0}
    ordered = sorted(values)

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]

    return {"p50": round(rank(0.50), 1), "p95": round(rank(0.95), 1), "p99": round(rank(0.99), 1),
            "max": round(ordered[-1], 1), "mean": round(sum(ordered) / len(ordered), 1)}



class DecisionWatcher(threading.Thread):
    """A subscriber (the shared StreamReader) on the public stream: when each document's last decision arrived."""

    def __init__(self, url: str, expected: dict[str, int], internal: bool = False) -> None:
        super().__init__(name="decision-watcher", daemon=True)
        self.url = url
        self.expected = dict(expected)
        # Also tail the internal streams (entry ids are Redis clock ms) to split latency into stages.
        self.internal = internal
        self.received_ms: dict[str, int] = {}
        self.parsed_ms: dict[str, int] = {}
        self.stored_ms: dict[str, float] = {}
        self.published_ms: dict[str, int] = {}
        self.seen: dict[str, set[str]] = defaultdict(set)
        self.done: dict[str, float] = {}
        self.events = 0
        self.duplicates = 0
        self.last_arrival = 0.0
        self.last_entry_ms = 0
        self._stop_event = threading.Event()
        self._stop_async: Callable[[], object] | None = None
        self._lock = threading.Lock()

    def expect(self, doc_id: str, decisions: int) -> None:
        """Also watch this document (warm-up documents are added this way)."""
        with self._lock:
            self.expected[doc_id] = decisions

    def run(self) -> None:
        """Read the streams from their start until stopped (a StreamReader per stream, in this thread's loop)."""
        asyncio.run(self._follow())

    async def _follow(self) -> None:
        from redis.asyncio import Redis

        from shared.stream_worker import StreamReader

        client = Redis.from_url(self.url)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        # stop() is called from another thread: it sets the loop's event through the loop.
        self._stop_async = lambda: loop.call_soon_threadsafe(stop.set)
        if self._stop_event.is_set():
            stop.set()
        names = [streams.DECISIONS, *((streams.DOCUMENTS, streams.ITEMS) if self.internal else ())]

        async def tail(stream: str) -> None:
            reader = StreamReader(client, stream, after="0-0", batch=2000, block_ms=200, stop=stop)
            async for entries in reader.follow():
                now = time.time()
                for entry in entries:
                    if stream == streams.DECISIONS:
                        self._record(entry.id, entry.payload, now)
                    else:
                        self._record_internal(stream, entry.id, entry.payload)

        try:
            await asyncio.gather(*(tail(name) for name in names))
        finally:
            await client.aclose()

    def _record_internal(self, stream: str, entry_id: str, payload: bytes) -> None:
        doc = orjson.loads(payload).get("document_id")
        ms = int(entry_id.split("-")[0])
        with self._lock:
            if stream == streams.DOCUMENTS:
                self.received_ms.setdefault(doc, ms)
            else:
                self.parsed_ms[doc] = max(ms, self.parsed_ms.get(doc, 0))

    def _record(self, entry_id: str, payload: bytes, now: float) -> None:
        event = orjson.loads(payload)
        doc, event_id = event["document_id"], event["event_id"]
        with self._lock:
            self.events += 1
            self.last_arrival, self.last_entry_ms = now, int(entry_id.split("-")[0])
            if event_id in self.seen[doc]:
                self.duplicates += 1
                return
            self.seen[doc].add(event_id)
            if self.internal:
                stored = dt.datetime.fromisoformat(event["occurred_at"]).timestamp() * 1000
                self.stored_ms[doc] = max(stored, self.stored_ms.get(doc, 0.0))
                self.published_ms[doc] = self.last_entry_ms
            if doc not in self.done and len(self.seen[doc]) >= self.expected.get(doc, 1 << 30):
                self.done[doc] = now

    def stop(self) -> None:
        """Stop reading (within one XREAD block)."""
        self._stop_event.set()
        if self._stop_async is not None:
            self._stop_async()
        self.join(5)

    def wait_all(self, doc_ids: Sequence[str], stall_s: float, targets: dict[str, int] | None = None) -> bool:
        """Block until every document is done (or has its `targets` count); False after `stall_s` without news."""
        last_progress, last_count = time.time(), -1
        while True:
            with self._lock:
                if targets is None:
                    count = sum(1 for d in doc_ids if d in self.done)
                else:
                    count = sum(1 for d in doc_ids if d in self.done or len(self.seen.get(d, ())) >= targets[d])
                events = self.events
            if count == len(doc_ids):
                return True
            if events != last_count:
                last_progress, last_count = time.time(), events
            elif time.time() - last_progress > stall_s:
                return False
            time.sleep(0.05)

    def stages(self, renamed: dict[str, float]) -> dict[str, dict[str, float]]:
        """Per-stage latency percentiles (ms) of the documents fully seen on every stream."""
        names = ("ingest", "parse", "store", "relay", "subscriber")
        out: dict[str, list[float]] = {n: [] for n in names}
        with self._lock:
            for doc, t in renamed.items():
                marks = (self.received_ms.get(doc), self.parsed_ms.get(doc), self.stored_ms.get(doc),
                         self.published_ms.get(doc), self.done[doc] * 1000 if doc in self.done else None)
                points = [t * 1000, *(float(m) for m in marks if m is not None)]
                if len(points) != len(names) + 1:
                    continue
                for name, a, b in zip(names, points, points[1:], strict=False):
                    out[name].append(b - a)
        return {name: percentiles(values) for name, values in out.items()}

    def received(self, doc_ids: Sequence[str]) -> int:
        """Distinct decision events received for these documents."""
        with self._lock:
            return sum(len(self.seen.get(d, ())) for d in doc_ids)


@dataclass
class _Peak:
    rss: int = 0
    child_rss: int = 0
    total_rss: int = 0
    cpu_by_pid: dict[int, float] = field(default_factory=dict)


class RssSampler(threading.Thread):
    """Peak RSS of every service process, its descendants (parse processes) and Redis, every ~100 ms."""

    def __init__(self, stack: Stack, interval_s: float = 0.1, tree_every: int = 10) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.stack = stack
        self.interval_s = interval_s
        # Listing descendants walks /proc (costly on a busy machine): refresh the tree every second only.
        self.tree_every = tree_every
        self.peaks: dict[str, _Peak] = defaultdict(_Peak)
        self._procs: dict[int, psutil.Process] = {}
        self._kids: dict[str, list[int]] = {}
        self._stop_event = threading.Event()
        self._stop_async: Callable[[], object] | None = None

    def _proc(self, pid: int) -> psutil.Process:
        proc = self._procs.get(pid)
        if proc is None:
            proc = self._procs[pid] = psutil.Process(pid)
        return proc

    def roots(self) -> dict[str, int]:
        """The pid of every running service process, and of Redis, by name."""
        roots = {name: c.process.pid for name, c in self.stack.children.items()
                 if c.process is not None and c.process.poll() is None}
        if self.stack.redis is not None and self.stack.redis.pid:
            roots["redis"] = self.stack.redis.pid
        return roots

    def sample(self, refresh_tree: bool) -> None:
        """One sample of every process (restarted services are picked up by their new pid)."""
        for name, pid in self.roots().items():
            peak = self.peaks[name]
            try:
                root = self._proc(pid)
                if refresh_tree or name not in self._kids:
                    self._kids[name] = [p.pid for p in root.children(recursive=True)]
                    for p in [root, *(self._proc(k) for k in self._kids[name])]:
                        times = p.cpu_times()
                        peak.cpu_by_pid[p.pid] = times.user + times.system
                rss = root.memory_info().rss
            except psutil.Error:
                continue
            kids = []
            for kid in self._kids.get(name, []):
                try:
                    kids.append(self._proc(kid).memory_info().rss)
                except psutil.Error:
                    continue
            peak.rss = max(peak.rss, rss)
            peak.child_rss = max([peak.child_rss, *kids])
            peak.total_rss = max(peak.total_rss, rss + sum(kids))

    def run(self) -> None:
        """Sample until stopped."""
        tick = 0
        while not self._stop_event.wait(self.interval_s):
            self.sample(tick % self.tree_every == 0)
            tick += 1

    def stop(self) -> None:
        """Take a last sample (CPU totals) and stop."""
        self._stop_event.set()
        self.join(5)
        self.sample(True)

    def report(self) -> dict[str, dict[str, float]]:
        """Per service: peak RSS of its main process, of its largest descendant, of all together; CPU seconds."""
        return {
            name: {
                "rss_mb": round(p.rss / MB, 1),
                "children_rss_mb": round(p.child_rss / MB, 1),
                "total_rss_mb": round(p.total_rss / MB, 1),
                "cpu_s": round(sum(p.cpu_by_pid.values()), 1),
            }
            for name, p in sorted(self.peaks.items())
        }

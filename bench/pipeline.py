"""The real pipeline (`minutes up` topology as processes) under backfill and steady load, watched from outside."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from bench import cpu
from bench.ceilings import document_id
from bench.corpus import GeneratedDoc
from bench.observe import DecisionWatcher, RssSampler, percentiles
from minutes_cli.supervisor import Stack
from shared import streams
from shared.settings import Settings


class _LogFile:
    """The Stack's sink: every service log line into one file (thread-safe), errors kept for the report."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Line-buffered: if the benchmark is killed, the services' last words are still in the file.
        self._fh = path.open("a", encoding="utf-8", buffering=1)
        self._lock = threading.Lock()
        self.problems: list[str] = []

    def __call__(self, line: str) -> None:
        with self._lock:
            self._fh.write(line + "\n")
            lowered = line.lower()
            if ('"level": "error"' in lowered or '"level": "warning"' in lowered or "traceback" in lowered) \
                    and len(self.problems) < 200:
                self.problems.append(line[:500])

    def close(self) -> None:
        with self._lock:
            self._fh.close()


@dataclass
class PhaseSetup:
    """Everything a pipeline phase needs besides its documents."""

    workdir: Path
    database_url: str
    parsers: int
    stores: int
    warmup: Sequence[GeneratedDoc]
    stall_s: float = 60.0
    # Decisions the parser itself finds per document id (from the parse-only run): when it finds fewer than
    # the generator wrote, waiting for the rest is pointless; the document is still reported missing.
    parser_counts: dict[str, int] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


class _Phase:
    """A fresh Stack on its own data dir and inbox, a watcher on its public stream, an RSS sampler."""

    def __init__(self, name: str, setup: PhaseSetup, docs: Sequence[GeneratedDoc], internal: bool = False) -> None:
        self.name, self.setup, self.docs, self.internal = name, setup, docs, internal
        root = setup.workdir / name
        self.inbox, self.staging = root / "inbox", root / "staging"
        self.staging.mkdir(parents=True, exist_ok=True)
        self.log = _LogFile(root / "services.log")
        settings = Settings(data_dir=root / "data", inbox=self.inbox, database_url=setup.database_url,
                            parsers=setup.parsers, stores=setup.stores, redis_url=None)
        self.stack = Stack(settings, env={"MINUTES_LOG_FORMAT": "json", **setup.env}, sink=self.log)
        self.ids = [document_id(d.data) for d in docs]
        self.sampler = RssSampler(self.stack)
        self.watcher: DecisionWatcher | None = None
        self.startup_s = 0.0
        self.resources: dict[str, Any] = {}
        self._cpu_before: dict[str, cpu.TreeCpu] = {}
        self.cpu_per_doc: dict[str, Any] = {}

    def __enter__(self) -> _Phase:
        # Staged before the services start: their mtimes are then older than the ingest's settle time, so
        # a rename makes a file complete at once, as for any user who writes elsewhere and moves in.
        for doc in [*self.setup.warmup, *self.docs]:
            (self.staging / doc.name).write_bytes(doc.data)
        started = time.time()
        try:
            url = self.stack.start()
            self.sampler.start()
            expected = dict(zip(self.ids, (d.expected_decisions for d in self.docs), strict=True))
            self.watcher = DecisionWatcher(url, expected, internal=self.internal)
            self.watcher.start()
            self._warm_up()
        except BaseException:
            self.__exit__()
            raise
        self.startup_s = time.time() - started
        return self

    def _wait_readers(self, timeout_s: float = 60.0) -> None:
        """Wait until every parser and store process blocks in XREADGROUP (Redis 7.0 lists no consumer yet)."""
        wanted = sum(1 for name in self.stack.children if name.split("-")[0] in ("parser", "store"))
        client: Any = redis.Redis.from_url(self.stack.redis_url, decode_responses=True)
        deadline = time.time() + timeout_s
        try:
            while time.time() < deadline:
                readers = [c for c in client.client_list() if c.get("cmd") == "xreadgroup"]
                if len(readers) >= wanted:
                    return
                time.sleep(0.1)
        finally:
            client.close()

    def _warm_up(self) -> None:
        """Push a few documents through end to end so every service (and parse process) is up and warm."""
        assert self.watcher is not None
        from services.parser.core import parse_document

        self._wait_readers()
        ids, targets = [], {}
        for doc in self.setup.warmup:
            ids.append(document_id(doc.data))
            self.watcher.expect(ids[-1], doc.expected_decisions)
            # Wait for what the parser will deliver: warm-up checks the services, not the parser's accuracy.
            targets[ids[-1]] = min(doc.expected_decisions, len(parse_document(doc.data, doc.name).decisions))
            self.drop(doc)
        if not self.watcher.wait_all(ids, max(self.setup.stall_s, 120.0), targets):
            raise PipelineStalled(self.name, "warm-up documents never produced their decisions", self.diagnostics())

    def start_cpu(self) -> None:
        """Read every service's CPU time: the measured phase starts now (start-up and warm-up are behind)."""
        self._cpu_before = cpu.snapshot(self.sampler.roots())

    def end_cpu(self) -> None:
        """Read every service's CPU time again: CPU ms per document of the measured phase, per service."""
        self.cpu_per_doc = cpu.per_document(self._cpu_before, cpu.snapshot(self.sampler.roots()), len(self.docs))

    def drop(self, doc: GeneratedDoc) -> float:
        """Rename a staged document into the inbox; the time right after the rename."""
        os.rename(self.staging / doc.name, self.inbox / doc.name)
        return time.time()

    def wait(self) -> bool:
        """Wait for every measured document's decisions."""
        assert self.watcher is not None
        counts = self.setup.parser_counts
        reachable = {i: min(d.expected_decisions, counts.get(i, d.expected_decisions))
                     for i, d in zip(self.ids, self.docs, strict=True)}
        if not self.watcher.wait_all(self.ids, self.setup.stall_s, reachable):
            return False
        if any(reachable[i] < d.expected_decisions for i, d in zip(self.ids, self.docs, strict=True)):
            time.sleep(2.0)  # a short grace for stragglers (a parser fix in a running stack would show here)
        return all(i in self.watcher.done for i in self.ids)

    def common(self, complete: bool) -> dict[str, Any]:
        """Counts, resources and (when incomplete) diagnostics of the phase."""
        assert self.watcher is not None
        missing = [d.name for i, d in zip(self.ids, self.docs, strict=True) if i not in self.watcher.done]
        out: dict[str, Any] = {
            "documents": len(self.docs),
            "items": sum(d.expected_items for d in self.docs),
            "decisions_expected": sum(d.expected_decisions for d in self.docs),
            "decisions_received": self.watcher.received(self.ids),
            "duplicates": self.watcher.duplicates,
            "complete": complete,
            "missing_count": len(missing),
            "missing_documents": missing[:20],
            "startup_s": round(self.startup_s, 1),
            "log": str(self.log.path),
        }
        if not complete:
            out["diagnostics"] = self.diagnostics()
        return out

    def diagnostics(self) -> dict[str, Any]:
        """Stream lengths, pending counts, dead letters and the services' warnings: what a stall looked like."""
        info: dict[str, Any] = {"log_problems": self.log.problems[-30:]}
        try:
            client: Any = redis.Redis.from_url(self.stack.redis_url, decode_responses=True)
            for stream in (streams.DOCUMENTS, streams.ITEMS, streams.DECISIONS, streams.DEAD_LETTER):
                info[f"xlen {stream}"] = client.xlen(stream)
            for stream, groups in streams.GROUPS_BY_STREAM.items():
                for group in groups:
                    info[f"pending {stream} {group}"] = client.xpending(stream, group)["pending"]
            info["dead_letters"] = asyncio.run(_dead_letters(self.stack.redis_url))
            client.close()
        except redis.RedisError as exc:
            info["redis_error"] = str(exc)
        info["restarts"] = {n: c.restarts for n, c in self.stack.children.items()}
        return info

    def __exit__(self, *_exc: object) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.sampler.is_alive():
            self.sampler.stop()
        self.resources = {"peak": self.sampler.report(),
                          "restarts": {n: c.restarts for n, c in self.stack.children.items()}}
        self.stack.stop()
        self.log.close()


class PipelineStalled(RuntimeError):
    """The pipeline stopped making progress during a phase."""

    def __init__(self, phase: str, what: str, diagnostics: dict[str, Any]) -> None:
        super().__init__(f"{phase}: {what}")
        self.diagnostics = diagnostics


async def _dead_letters(url: str, count: int = 5) -> list[str]:
    """The oldest `count` dead letters' bodies (through the shared pager), to show what a stall looked like."""
    from redis.asyncio import Redis

    from shared.stream_worker import page

    client = Redis.from_url(url)
    try:
        return [entry.text[:300] async for entry in page(client, streams.DEAD_LETTER, limit=count)]
    finally:
        await client.aclose()


def _rate(count: float, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def run_backfill(setup: PhaseSetup, docs: Sequence[GeneratedDoc]) -> dict[str, Any]:
    """All documents renamed into the inbox at once; rates from just before the first rename to the last decision."""
    with _Phase("backfill", setup, docs) as phase:
        phase.start_cpu()
        started = time.time()
        for doc in docs:
            phase.drop(doc)
        dropped = time.time() - started
        complete = phase.wait()
        phase.end_cpu()
        assert phase.watcher is not None
        ends = [phase.watcher.done[i] for i in phase.ids if i in phase.watcher.done]
        elapsed = (max(ends) if complete else phase.watcher.last_arrival) - started
        out = phase.common(complete)
    out.update(
        elapsed_s=round(elapsed, 2),
        drop_s=round(dropped, 3),
        docs_per_s=_rate(len(docs) - out["missing_count"], elapsed),
        items_per_s=_rate(out["items"], elapsed),
        decisions_per_s=_rate(out["decisions_received"], elapsed),
        resources=phase.resources,
        cpu_ms_per_doc=phase.cpu_per_doc,
    )
    return out


def run_steady(setup: PhaseSetup, docs: Sequence[GeneratedDoc], rate: float) -> dict[str, Any]:
    """Documents renamed in at a fixed rate; latency from each rename to its last decision being readable."""
    # Tailing the internal streams costs the benchmark process little at a steady rate (not so in a backfill).
    with _Phase("steady", setup, docs, internal=True) as phase:
        renamed: dict[str, float] = {}
        phase.start_cpu()
        started = time.time()
        for n, (doc, doc_id) in enumerate(zip(docs, phase.ids, strict=True)):
            # An absolute schedule: a late rename does not shift the ones after it.
            delay = started + n / rate - time.time()
            if delay > 0:
                time.sleep(delay)
            renamed[doc_id] = phase.drop(doc)
        drop_s = time.time() - started
        complete = phase.wait()
        phase.end_cpu()
        assert phase.watcher is not None
        latencies = [(phase.watcher.done[i] - t) * 1000 for i, t in renamed.items() if i in phase.watcher.done]
        stages = phase.watcher.stages(renamed)
        out = phase.common(complete)
    out.update(
        rate=rate,
        achieved_rate=_rate(len(docs), drop_s),
        duration_s=round(drop_s, 1),
        latency_ms=percentiles(latencies),
        stages_ms=stages,
        resources=phase.resources,
        cpu_ms_per_doc=phase.cpu_per_doc,
    )
    return out

"""One document just under the file-size cap (49 MB of text) stored by the real `minutes up` topology: the
read API stays fast (search p99, list, health) and no service process grows past its memory promise."""

from __future__ import annotations

import contextlib
import os
import shutil
import statistics
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.big_document import BEYOND_LIMIT_WORD, RARE_WORD, big_minutes
from tests.e2e.harness import make_stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

DOC_BYTES = 49_000_000
SERVICE_MB = 200  # the README's promise per service
P99_S = 1.0
QUERIES = (RARE_WORD, "lokalplan", "fleksjob ledighed", '"sag nummer"', "godkendt")


def _status_mb(pid: int, field: str) -> float:
    """A VmHWM / VmRSS line of /proc/PID/status, in MB (of that process alone)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024 / 1e6
    raise AssertionError(f"no {field} for {pid}")


def _descendants(pid: int | None) -> list[int]:
    """The processes below `pid` (from /proc): the parser's forkserver and the parse process under it."""
    if pid is None:
        return []
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        below = [child for child, parent in parents.items() if parent in frontier]
        found += below
        frontier = below
    return found


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def test_a_49_mb_document_keeps_search_fast_and_every_service_within_its_memory(tmp_path: Path) -> None:
    stack = make_stack(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}", api=True,
        # The parse of 49 MB takes ~15 s of CPU on a quiet machine; a loaded CI runner must not time it out.
        MINUTES_PARSE_TIMEOUT_S="180",
    )
    try:
        stack.start()
        base = stack.wait_api(120)
        assert base, "the API did not start"
        client = httpx.Client(base_url=base, timeout=60)
        staging = tmp_path / "staging"
        staging.mkdir()
        doc = staging / "referat-stort.txt"
        doc.write_bytes(big_minutes(DOC_BYTES))
        assert DOC_BYTES * 0.99 < doc.stat().st_size < 50 * 1024 * 1024
        shutil.move(str(doc), tmp_path / "inbox" / doc.name)

        def found() -> bool:
            body = client.get("/api/v1/decisions", params={"q": RARE_WORD}).json()
            return len(body.get("items", [])) == 1

        wait_for(found, 600, "the big document's last item to be searchable")

        times: list[float] = []
        snippets: dict[str, str] = {}
        for round_ in range(8):
            for q in QUERIES:
                started = time.perf_counter()
                answer = client.get("/api/v1/decisions", params={"q": q, "limit": 20})
                times.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
                items = answer.json()["items"]
                assert items, q
                if round_ == 0:
                    snippets[q] = items[0]["snippet"] or ""
        started = time.perf_counter()
        assert client.get("/healthz").status_code == 200
        health_s = time.perf_counter() - started
        started = time.perf_counter()
        listing = client.get("/api/v1/decisions", params={"limit": 50})
        list_s = time.perf_counter() - started
        assert len(listing.json()["items"]) == 40
        # Indexed up to MINUTES_INDEX_MAX_CHARS per field (200,000 by default): a word 1.2 MB into an item's
        # sections is stored but not searchable.
        beyond = client.get("/api/v1/decisions", params={"q": BEYOND_LIMIT_WORD}).json()

        memory = {}
        for name in stack.children:
            pid = stack.pid(name)
            assert pid is not None, f"{name} is not running"
            memory[name] = (_status_mb(pid, "VmHWM"), _status_mb(pid, "VmRSS"))
        p50, p99 = statistics.median(times), _percentile(times, 0.99)
        print(f"\n{len(times)} searches with a {DOC_BYTES / 1e6:.0f} MB document stored: p50 {p50 * 1000:.0f} ms, "
              f"p99 {p99 * 1000:.0f} ms; /healthz {health_s * 1000:.0f} ms; list {list_s * 1000:.0f} ms")
        for name, (hwm, rss) in sorted(memory.items()):
            print(f"  {name}: peak {hwm:.0f} MB, now {rss:.0f} MB (pid {stack.pid(name)}, cpus {os.cpu_count()})")
        # The parse process (under the parser's forkserver): capped on its own (MINUTES_PARSE_MEMORY_MB).
        for child in _descendants(stack.pid("parser-1")):
            with contextlib.suppress(OSError, AssertionError):
                print(f"  parser-1's process {child}: peak {_status_mb(child, 'VmHWM'):.0f} MB")

        assert beyond["items"] == [], beyond
        # The match deep in the last item is shown, marked, in a short snippet.
        assert f"<mark>{RARE_WORD}</mark>" in snippets[RARE_WORD]
        assert all(len(s) < 2000 for s in snippets.values()), {q: len(s) for q, s in snippets.items()}
        assert p99 < P99_S, f"search p99 {p99:.2f} s"
        assert health_s < P99_S and list_s < P99_S, (health_s, list_s)
        over = {name: hwm for name, (hwm, _) in memory.items() if hwm > SERVICE_MB}
        assert not over, f"services past {SERVICE_MB} MB at their peak: {over}"
    finally:
        stack.stop()

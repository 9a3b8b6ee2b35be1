"""Every stream read and ack goes through shared/stream_worker.py (issue 20): no XREAD, XREADGROUP, XRANGE,
XREVRANGE, XAUTOCLAIM or XACK call (by redis-py method name) anywhere else in the source tree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALL = re.compile(r"\.(xread|xreadgroup|xrange|xrevrange|xautoclaim|xack)\(")
WORKER = "shared/stream_worker.py"
SKIP_DIRS = {"tests", ".venv", ".venv-test", ".tools", ".git", "node_modules", "build", "dist"}

# Readers not moved onto the worker yet: each is to be moved, then removed from this list (none left).
NOT_YET_MOVED: dict[str, str] = {}


def _sources() -> list[Path]:
    return [
        path for path in ROOT.rglob("*.py")
        if not SKIP_DIRS.intersection(path.relative_to(ROOT).parts[:-1])
    ]


def test_stream_reads_and_acks_only_in_the_worker() -> None:
    found: dict[str, list[str]] = {}
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        if rel == WORKER:
            continue
        calls = sorted({m.group(1) for m in CALL.finditer(path.read_text(encoding="utf-8"))})
        if calls:
            found[rel] = calls
    unexpected = {rel: calls for rel, calls in found.items() if rel not in NOT_YET_MOVED}
    assert unexpected == {}, "read or ack streams through shared.stream_worker"
    moved = sorted(set(NOT_YET_MOVED) - set(found))
    assert moved == [], "moved onto the worker: take them off NOT_YET_MOVED"


def test_the_scan_sees_the_worker_itself() -> None:
    # The pattern must match real calls, or the test above proves nothing.
    text = (ROOT / WORKER).read_text(encoding="utf-8")
    assert {m.group(1) for m in CALL.finditer(text)} == {
        "xread", "xreadgroup", "xrange", "xrevrange", "xautoclaim", "xack"
    }

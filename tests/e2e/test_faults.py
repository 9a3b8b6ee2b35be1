"""Faults survived for real: workers killed with SIGKILL and Redis restarted in the middle of a 200-document run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from minutes_cli.supervisor import Stack
from services.readmodel.filter import ReadFilter
from services.readmodel.meetings import count_meetings
from services.store.db import create_engine
from tests.conftest import GOLD, SEEDS
from tests.e2e.harness import expected_decisions, gold_item_count, make_stack, read_decisions, wait_for
from tests.unit.store.dump import totals

pytestmark = pytest.mark.e2e

VARIANTS = 40  # x 5 seeds = 200 documents


def _drop_variants(inbox: Path) -> None:
    """200 distinct meetings: each seed with its meeting's year moved back by 1..40 years everywhere in the text.

    Other meetings, not versions of one: a version repeating its decisions announces nothing (revisions.py),
    so only distinct meetings make every document's decisions countable on the stream.
    """
    staging = inbox.parent / "staging"
    staging.mkdir(exist_ok=True)
    for k in range(VARIANTS):
        for seed in sorted(SEEDS.glob("*.txt")):
            year = json.loads((GOLD / f"{seed.stem}.json").read_text(encoding="utf-8"))["meeting_date"][:4]
            tmp = staging / f"{seed.stem}-v{k}.txt"
            tmp.write_text(seed.read_text(encoding="utf-8").replace(year, str(int(year) - 1 - k)), encoding="utf-8")
            shutil.move(str(tmp), inbox / tmp.name)


async def _db_counts(url: str) -> tuple[int, int, int]:
    engine = create_engine(url)
    try:
        stored = await totals(engine)
        return stored.documents, stored.meetings, stored.items
    finally:
        await engine.dispose()


async def _current_meetings(url: str) -> int:
    engine = create_engine(url)
    try:
        return await count_meetings(engine, ReadFilter())  # complete, current versions
    finally:
        await engine.dispose()


def _assert_exactly_once(url: str, database_url: str) -> None:
    want = VARIANTS * len(expected_decisions())
    wait_for(lambda: len(read_decisions(url)) >= want, 180, f"{want} decision events")
    events = read_decisions(url)
    ids = Counter(e.event_id for e in events)
    assert len(events) == want, f"{len(events)} events for {want} decisions"
    assert max(ids.values()) == 1, "an event_id was published twice"
    assert asyncio.run(_db_counts(database_url)) == (
        VARIANTS * 5,
        VARIANTS * 5,
        VARIANTS * gold_item_count(),
    )
    # Each variant is a meeting of its own (another year): every one is current.
    wait_for(lambda: asyncio.run(_current_meetings(database_url)) == VARIANTS * 5, 30, "every meeting current")


@contextlib.contextmanager
def _run_under_way(tmp_path: Path) -> Iterator[tuple[Stack, str, str]]:
    """A 2-parser stack on SQLite with the 200 documents dropped and at least 150 decisions out; stopped after."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}"
    stack = make_stack(tmp_path, database_url, parsers=2, stores=1)
    url = stack.start()
    try:
        _drop_variants(stack.settings.inbox)
        wait_for(lambda: len(read_decisions(url)) >= 150, 120, "the run to be under way")
        yield stack, url, database_url
    finally:
        stack.codes = stack.stop()  # type: ignore[attr-defined]


def test_sigkill_of_a_parser_and_a_store_mid_run_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    with _run_under_way(tmp_path) as (stack, url, database_url):
        killed = {name: stack.pid(name) for name in ("parser-1", "store-1")}
        stack.kill("parser-1")
        stack.kill("store-1")
        # The supervisor restarts both; the live parser and the new store reclaim what the dead ones held.
        wait_for(lambda: all(stack.pid(n) not in (None, killed[n]) for n in killed), 30, "restarts")
        _assert_exactly_once(url, database_url)


def test_redis_restart_mid_run_loses_no_accepted_document(tmp_path: Path) -> None:
    with _run_under_way(tmp_path) as (stack, url, database_url):
        assert stack.redis is not None
        stack.redis.restart()  # SIGTERM (AOF flushed), then the same port and data dir
        _assert_exactly_once(url, database_url)
    assert all(code == 0 for code in stack.codes.values()), stack.codes  # type: ignore[attr-defined]


def test_graceful_stop_drains_within_ten_seconds(tmp_path: Path) -> None:
    import time

    database_url = f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}"
    stack = make_stack(tmp_path, database_url, parsers=2, stores=1)
    url = stack.start()
    _drop_variants(stack.settings.inbox)
    wait_for(lambda: len(read_decisions(url)) >= 50, 120, "the run to be under way")
    started = time.monotonic()
    codes = stack.stop(timeout=10.0)
    elapsed = time.monotonic() - started
    assert elapsed < 10.0, elapsed
    assert all(code == 0 for code in codes.values()), codes
    # Started again on the same data dir, the pipeline finishes the run: nothing was lost in the stop.
    again = make_stack(tmp_path, database_url, parsers=2, stores=1)
    url = again.start()
    try:
        _assert_exactly_once(url, database_url)
    finally:
        again.stop()

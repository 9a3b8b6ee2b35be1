"""Complete files only, on the real stack: a minutes file written at 1 KB/s becomes one version and its
decisions, with and without MINUTES_MOVE_PROCESSED (never moved while it is being written)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import redis

from services.store.db import create_engine
from shared import streams
from tests.conftest import SEEDS
from tests.e2e.harness import expected_decisions, make_stack, read_decisions, wait_for
from tests.unit.store.dump import totals

pytestmark = pytest.mark.e2e

SEED = SEEDS / "004_6ca494cdfb547599.txt"  # 37 KB, 10 decisions: the file of the measurement


def _write_slowly(path: Path, data: bytes, rate: int = 1024) -> None:
    """One open handle, `rate` bytes a second, flushed each time: what a slow network copy looks like."""
    with path.open("wb") as handle:
        for start in range(0, len(data), rate):
            handle.write(data[start : start + rate])
            handle.flush()
            time.sleep(1.0)


async def _documents(url: str) -> int:
    engine = create_engine(url)
    try:
        return (await totals(engine)).documents
    finally:
        await engine.dispose()


def test_a_file_written_at_1_kb_per_second_is_one_version_with_its_ten_decisions(tmp_path: Path) -> None:
    data = SEED.read_bytes()
    want = sum(1 for (name, _n) in expected_decisions() if name == SEED.name)
    assert want == 10
    # Both variants at once (the writers are slow, not busy): one stack moves processed files, one does not.
    stacks = {
        move: make_stack(tmp_path / str(move), f"sqlite+aiosqlite:///{tmp_path / f'{move}.db'}",
                         MINUTES_MOVE_PROCESSED=str(move).lower())
        for move in (False, True)
    }
    urls = {move: stack.start() for move, stack in stacks.items()}
    try:
        writers = [
            threading.Thread(target=_write_slowly, args=(stack.settings.inbox / SEED.name, data))
            for stack in stacks.values()
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        for move, stack in stacks.items():
            url = urls[move]
            wait_for(lambda url=url: len(read_decisions(url)) >= want, 60, f"{want} decisions (move={move})")
            # Settled: another rescan and a full pass through the pipeline add nothing.
            time.sleep(3.0)
            events = read_decisions(url)
            assert len(events) == want, f"move={move}: {len(events)} DecisionMade for {want} decisions"
            assert max(Counter(e.event_id for e in events).values()) == 1
            client = redis.Redis.from_url(url)
            try:
                assert client.xlen(streams.DOCUMENTS) == 1, f"move={move}: more than one version announced"
                assert client.xlen(streams.DEAD_LETTER) == 0
            finally:
                client.close()
            assert asyncio.run(_documents(stack.settings.effective_database_url)) == 1
            inbox = stack.settings.inbox
            if move:
                assert not (inbox / SEED.name).exists()
                assert (inbox / "processed" / SEED.name).read_bytes() == data
            else:
                assert (inbox / SEED.name).read_bytes() == data
    finally:
        for stack in stacks.values():
            stack.stop()

"""The inbox watcher alone (real folder, inotify or polling): what it yields and when."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from services.ingest.watcher import InboxWatcher

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


class Collector:
    """Runs a watcher in a task and records every batch it yields."""

    def __init__(self, watcher: InboxWatcher) -> None:
        self.watcher = watcher
        self.seen: list[Path] = []
        self.task: asyncio.Task[None] | None = None
        self.changed = asyncio.Event()

    async def __aenter__(self) -> Collector:
        self.task = asyncio.create_task(self._run())
        await asyncio.wait_for(self.watcher.ready.wait(), 10)
        return self

    async def _run(self) -> None:
        async for batch in self.watcher.batches():
            self.seen.extend(batch)
            self.changed.set()

    async def __aexit__(self, *_: object) -> None:
        self.watcher.stop()
        assert self.task is not None
        await asyncio.wait_for(self.task, 5)

    async def wait_for(self, n: int) -> None:
        async with asyncio.timeout(10):
            while len(self.seen) < n:
                self.changed.clear()
                await self.changed.wait()


@pytest.mark.parametrize("polling", [False, True], ids=["inotify", "polling"])
async def test_each_version_of_a_file_is_yielded_once(tmp_path: Path, polling: bool) -> None:
    watcher = InboxWatcher(tmp_path, settle_s=0.2, rescan_interval_s=0.3, force_polling=polling)
    async with Collector(watcher) as run:
        (tmp_path / "a.txt").write_text("one")
        await run.wait_for(1)
        for _ in range(3):  # rescans find it again, unchanged
            await watcher.rescan()
        # A sentinel written after them: a re-yield of `a.txt` (already settled) would come before it.
        (tmp_path / "sentinel.txt").write_text("s")
        await run.wait_for(2)
        assert run.seen == [tmp_path / "a.txt", tmp_path / "sentinel.txt"]
        (tmp_path / "a.txt").write_text("two, longer")
        await run.wait_for(3)
    assert run.seen == [tmp_path / "a.txt", tmp_path / "sentinel.txt", tmp_path / "a.txt"]


async def test_a_file_deleted_before_it_settles_is_never_yielded(tmp_path: Path) -> None:
    watcher = InboxWatcher(tmp_path, settle_s=0.5)
    async with Collector(watcher) as run:
        (tmp_path / "gone.txt").write_text("x")
        await asyncio.sleep(0.1)
        (tmp_path / "gone.txt").unlink()
        (tmp_path / "kept.txt").write_text("y")
        await run.wait_for(1)
        await asyncio.sleep(0.5)
    assert run.seen == [tmp_path / "kept.txt"]


async def test_retry_yields_a_file_again(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    watcher = InboxWatcher(tmp_path, settle_s=0.1)
    async with Collector(watcher) as run:
        await run.wait_for(1)
        watcher.retry([tmp_path / "a.txt"])
        await run.wait_for(2)


async def test_stop_is_prompt_while_idle(tmp_path: Path) -> None:
    watcher = InboxWatcher(tmp_path, settle_s=0.1, rescan_interval_s=3600)
    run = Collector(watcher)
    await run.__aenter__()
    loop = asyncio.get_running_loop()
    started = loop.time()
    await run.__aexit__()
    # A promptness bound, far above the few milliseconds a stop takes, far below the 3600 s rescan it must not
    # wait for: a loaded machine cannot fail it, a stop that waits for the next rescan still does.
    assert loop.time() - started < 5.0
    assert run.task is not None
    assert run.task.done()


async def test_a_file_renamed_into_the_inbox_is_taken_without_waiting_for_the_settle_window(tmp_path: Path) -> None:
    inbox, staging = tmp_path / "inbox", tmp_path / "staging"
    inbox.mkdir()
    staging.mkdir()
    watcher = InboxWatcher(inbox, settle_s=30.0, rescan_interval_s=3600)
    async with Collector(watcher) as run:
        written = staging / "referat.txt"
        written.write_text("Referat")
        # An mtime ahead of the ctime hides the rename from the file-time test (ctime past mtime) and from
        # the age test, as a rename in the same clock tick as the last write does: only inotify's
        # IN_MOVED_TO can tell. Without it this file would wait out the 30 s settle window.
        future = written.stat().st_mtime + 3600
        os.utime(written, (future, future))
        os.rename(written, inbox / "referat.txt")
        await run.wait_for(1)  # within its 10 s limit
    assert run.seen == [inbox / "referat.txt"]

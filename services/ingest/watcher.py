"""Inbox watcher: a start-up scan, inotify (watchfiles) and a periodic rescan, yielding complete files; and
`run_watcher`, which ingests what it yields (with the shared retry policy)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from pathlib import Path

from watchfiles import Change, awatch

from services.ingest import files
from services.ingest.files import FileSig, SettleTracker
from services.ingest.handlers import IngestDeps, ingest_many
from services.ingest.moves import watch_moves
from services.ingest.writers import can_see_writers, open_for_writing
from shared.consume import OutageGate, redis_outage
from shared.logging import get_logger
from shared.retry import HANDLER, Backoff

log = get_logger(__name__)


def scan(root: Path, inbox: Path) -> list[tuple[Path, FileSig]]:
    """Every candidate under `root` (recursively, never through symlinked folders) with its lstat signature."""
    found: list[tuple[Path, FileSig]] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            log.warning("cannot list folder", folder=str(folder), error=str(exc))
            continue
        for entry in entries:
            path = Path(entry.path)
            if files.is_ignored(path, inbox):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(path)
                    continue
                found.append((path, FileSig.of(entry.stat(follow_symlinks=False))))
            except OSError:
                continue  # vanished while scanning
    return found


def _lstat(path: Path) -> FileSig | None:
    try:
        return FileSig.of(os.lstat(path))
    except OSError:
        return None


def _is_real_dir(path: Path) -> bool:
    """A folder, not a symlink to one (an lstat: cheap enough for the event loop)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


class InboxWatcher:
    """Produces batches of complete files: each version of a file (size, mtime, inode) is yielded once,
    when the SettleTracker says it is complete (see there: open writers, rename, settle and stable windows)."""

    def __init__(
        self,
        inbox: Path,
        settle_s: float = 0.5,
        rescan_interval_s: float = 30.0,
        force_polling: bool = False,
        debounce_ms: int = 50,
        max_batch: int = 500,
        stable_s: float | None = None,
    ) -> None:
        self.inbox = Path(inbox).resolve()
        # watchfiles logs every batch of changes at INFO ("3 changes detected"): our own lines say more.
        logging.getLogger("watchfiles").setLevel(max(logging.WARNING, logging.getLogger().level))
        self.rescan_interval_s = rescan_interval_s
        self.force_polling = force_polling
        self.debounce_ms = debounce_ms
        self.max_batch = max_batch
        self._tracker = SettleTracker(settle_s, stable_s=stable_s)
        self._tick_s = min(max(settle_s / 4, 0.05), 0.25)
        self._pending: set[Path] = set()
        self._yielded: dict[Path, FileSig] = {}
        # The version of each file inotify reported renamed into place (see moves.py).
        self._moved: dict[Path, FileSig] = {}
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._ready = asyncio.Event()

    @property
    def ready(self) -> asyncio.Event:
        """Set once the start-up scan is done and inotify is watching."""
        return self._ready

    @property
    def stopped(self) -> asyncio.Event:
        """Set once `stop()` was called."""
        return self._stop

    def stop(self) -> None:
        """Ask the watcher to finish (stops awatch's thread too)."""
        self._stop.set()
        self._wake.set()

    def retry(self, paths: Iterable[Path]) -> None:
        """Forget that these files were yielded so they come again (after a failed attempt)."""
        for path in paths:
            self._yielded.pop(path, None)
            self._pending.add(path)
        self._wake.set()

    def add(self, paths: Iterable[Path]) -> None:
        """Consider these paths (e.g. from an event) at the next check."""
        for path in paths:
            if not files.is_ignored(path, self.inbox):
                self._pending.add(path)
        self._wake.set()

    def _merge(self, found: list[tuple[Path, FileSig]]) -> None:
        for path, sig in found:
            if self._yielded.get(path) != sig:
                self._pending.add(path)
        self._wake.set()

    async def rescan(self) -> None:
        """Scan the whole inbox (in a thread: it may hold thousands of files)."""
        self._merge(await asyncio.to_thread(scan, self.inbox, self.inbox))

    async def _check(self) -> list[Path]:
        """Stat every pending path once; return the ones that are complete."""
        now, wall = time.monotonic(), time.time()
        sigs: dict[Path, FileSig] = {}
        for path in list(self._pending):
            sig = _lstat(path)
            if sig is None:
                self._forget(path)
                continue
            if self._yielded.get(path) == sig:  # unchanged since it was handled
                self._pending.discard(path)
                self._tracker.forget(path)
                continue
            sigs[path] = sig
        # Whose writers can be seen, and which files would be complete were nobody writing them: only those
        # need the walk of /proc (milliseconds, off the event loop); the rest are "not yet" either way.
        visible = self.writers_visible(sigs)
        candidates = {
            path: sig
            for path, sig in sigs.items()
            if path in visible
            and self._tracker.could_complete(path, sig, now, wall, True, renamed=self._moved.get(path) == sig)
        }
        writing = await asyncio.to_thread(open_for_writing, candidates) if candidates else set()
        ready: list[Path] = []
        for path, sig in sigs.items():
            renamed = self._moved.get(path) == sig
            if path not in visible:
                writing_now: bool | None = None
            elif path in candidates:
                writing_now = path in writing
            else:
                # Not complete whoever holds it: observed as not written, which records the same as written
                # would (its signature and since when), and the walk is asked when it could complete.
                writing_now = False
            if self._tracker.observe(path, sig, now, wall, writing_now, renamed=renamed):
                self._pending.discard(path)
                self._moved.pop(path, None)
                self._yielded[path] = sig
                ready.append(path)
                if len(ready) >= self.max_batch:
                    break
        return sorted(ready)

    def writers_visible(self, sigs: dict[Path, FileSig]) -> set[Path]:
        """The files among these whose writers /proc shows (for the others, being written cannot be known)."""
        if self.force_polling:  # a network mount: its writers may be on another machine
            return set()
        return {p for p, sig in sigs.items() if sig.is_regular and not sig.is_symlink and can_see_writers(sig.uid)}

    def _on_moved(self, path: Path) -> None:
        if files.is_ignored(path, self.inbox):
            return
        sig = _lstat(path)
        if sig is not None:
            self._moved[path] = sig
            self._pending.add(path)
            self._wake.set()

    def _forget(self, path: Path) -> None:
        self._pending.discard(path)
        self._moved.pop(path, None)
        self._tracker.forget(path)
        self._yielded.pop(path, None)

    async def batches(self) -> AsyncIterator[list[Path]]:
        """Yield lists of complete files until `stop()`: present ones first, then new and changed ones."""
        self.inbox.mkdir(parents=True, exist_ok=True)
        watch_task = asyncio.create_task(self._watch())
        # Polling means a network mount: its renames are another machine's, and inotify sees none of them.
        moves_task = asyncio.create_task(
            asyncio.sleep(0) if self.force_polling else watch_moves(self.inbox, self._on_moved)
        )
        rescan_task = asyncio.create_task(self._rescan_loop())
        try:
            await self.rescan()
            self._ready.set()
            while not self._stop.is_set():
                self._wake.clear()
                ready = await self._check()
                if ready:
                    yield ready
                    continue
                timeout = self._tick_s if self._pending else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            self._stop.set()
            rescan_task.cancel()
            moves_task.cancel()
            # awatch notices the stop event within its step (10 ms) and returns.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(watch_task, 5)
            with contextlib.suppress(asyncio.CancelledError):
                await rescan_task
            with contextlib.suppress(asyncio.CancelledError):
                await moves_task

    async def _rescan_loop(self) -> None:
        """The safety net: inotify can overflow, and network mounts report nothing."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.rescan_interval_s)
            if self._stop.is_set():
                return
            try:
                await self.rescan()
            except Exception:
                log.exception("inbox rescan failed")

    async def _watch(self) -> None:
        """Feed inotify events into the pending set; restart awatch if it fails (the rescan covers the gap)."""
        while not self._stop.is_set():
            try:
                async for changes in awatch(
                    self.inbox,
                    watch_filter=self._wanted,
                    debounce=self.debounce_ms,
                    step=10,
                    stop_event=self._stop,
                    force_polling=self.force_polling,
                    recursive=True,
                ):
                    await self._on_changes(changes)
            except Exception:
                log.exception("inbox watch failed, retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1.0)

    def _wanted(self, change: Change, raw: str) -> bool:
        return not files.is_ignored(Path(raw), self.inbox)

    async def _on_changes(self, changes: set[tuple[Change, str]]) -> None:
        for change, raw in changes:
            path = Path(raw)
            if change == Change.deleted:
                self._forget(path)
            elif _is_real_dir(path):
                # A folder moved in brings files inotify never reported one by one.
                self._merge(await asyncio.to_thread(scan, path, self.inbox))
            else:
                self._pending.add(path)
        self._wake.set()


# Files handled per pipeline round trip: big enough to amortise Redis, small enough to show progress.
CHUNK = 200
MAX_BACKOFF_S = 30.0


async def run_watcher(watcher: InboxWatcher, deps: IngestDeps) -> None:
    """Ingest every batch of complete files the watcher yields; on failure retry them with backoff."""
    # The shared retry policy (shared/retry.py), capped higher for a watcher that has nothing else to do.
    policy = Backoff(HANDLER.initial_s, MAX_BACKOFF_S)
    retry = 1
    gate = OutageGate("ingest", cap_s=MAX_BACKOFF_S)
    async for batch in watcher.batches():
        for start in range(0, len(batch), CHUNK):
            chunk = batch[start : start + CHUNK]
            error = await _ingest_chunk(chunk, deps)
            if error is None:
                gate.up()
                retry = 1
                continue
            # Everything not yet done comes back through the watcher after the pause.
            watcher.retry(batch[start:])
            if redis_outage(error):
                # Said once per outage (the gate logs state changes), not once per retried chunk.
                await _pause_for(watcher, gate.wait(error))
            else:
                backoff = policy.delay(retry)
                log.warning("ingest failed, will retry", files=len(chunk), error=f"{type(error).__name__}: "
                            f"{str(error)[:300]}", retry_in_s=backoff)
                await _pause(watcher, backoff)
                retry += 1
            break


async def _ingest_chunk(chunk: Sequence[Path], deps: IngestDeps) -> Exception | None:
    try:
        await ingest_many(chunk, deps)
    except Exception as exc:
        # Redis or the blob store is down: nothing was marked seen, so the retry cannot lose a document.
        return exc
    return None


async def _pause_for(watcher: InboxWatcher, waiting: Awaitable[None]) -> None:
    """Wait for `waiting` (a backoff), or less if the watcher is stopped meanwhile."""
    task = asyncio.ensure_future(waiting)
    stop = asyncio.create_task(watcher.stopped.wait())
    await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    task.cancel()
    stop.cancel()


async def _pause(watcher: InboxWatcher, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(watcher.stopped.wait(), seconds)

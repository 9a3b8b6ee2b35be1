"""Readiness a service reports about itself, for `minutes health` (the container health check).

Some of what "ready" means is only known inside the service process: whether ingest's watcher is running,
whether the parser's parse child is alive. Such a service runs a `Heartbeat`: every few seconds it asks its
own check and, while that passes, touches `<data_dir>/health/<service>`; when the check fails the file is
removed and the reason written beside it. `minutes health` (a separate process, run by Docker) then only has to
look at the file's age. A process that hangs or dies stops touching it, so a stale file means unhealthy too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

INTERVAL_S = 5.0
# The heartbeat of `minutes up`'s supervisor: fresh while Redis and every service it started are running.
PIPELINE = "up"
# Three missed beats: a loaded machine may delay one or two, a hung or dead process misses all of them.
MAX_AGE_S = 3 * INTERVAL_S + 5.0

# A check returns None when the service can do its work, else why not (shown by `docker inspect`).
Check = Callable[[], Awaitable[str | None]]


def beat_path(data_dir: Path, service: str) -> Path:
    """The heartbeat file of a service (several processes of one service on one data dir share it)."""
    return data_dir / "health" / service


def reason_path(data_dir: Path, service: str) -> Path:
    """Where the last failed check's reason is kept."""
    return data_dir / "health" / f"{service}.why"


def read_beat(data_dir: Path, service: str, now: float | None = None, max_age_s: float = MAX_AGE_S) -> str | None:
    """None when the service's heartbeat is fresh, else why the service is not ready."""
    path = beat_path(data_dir, service)
    try:
        age = (time.time() if now is None else now) - path.stat().st_mtime
    except FileNotFoundError:
        try:
            reason = reason_path(data_dir, service).read_text(encoding="utf-8").strip()
        except OSError:
            reason = ""
        return reason or f"{service} has not reported ready yet (no {path})"
    if age > max_age_s:
        return f"{service} last reported ready {age:.0f} s ago (hung or stopped?)"
    return None


def record_beat(data_dir: Path, service: str, reason: str | None, *, keep_reason: bool = False) -> None:
    """Touch the heartbeat (ready), or remove it and keep the reason (not ready); raises OSError.

    Not ready never needs free space: the file is removed first, so a full disk that fails the reason's
    write still leaves the service reported not ready. `keep_reason`: the reason file stays while ready (a
    fresh beat wins over it), so its presence says the service runs here even when a full disk lets no new
    reason be written."""
    path, why = beat_path(data_dir, service), reason_path(data_dir, service)
    if reason is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        if not keep_reason:
            with contextlib.suppress(FileNotFoundError):
                why.unlink()
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        path.parent.mkdir(parents=True, exist_ok=True)
        why.write_text(reason + "\n", encoding="utf-8")


def forget_beat(data_dir: Path, service: str) -> None:
    """Remove the heartbeat and its reason (a service that stopped for good says nothing any more)."""
    for path in (beat_path(data_dir, service), reason_path(data_dir, service)):
        with contextlib.suppress(OSError):
            path.unlink()


def pipeline_reason(data_dir: Path, now: float | None = None) -> str | None:
    """Why the pipeline `minutes up` supervises on this data dir is not whole; None when it is, or when no
    `minutes up` runs here (compose, a lone service: no reason file, which the supervisor keeps while it runs)."""
    if not reason_path(data_dir, PIPELINE).exists():
        return None
    return read_beat(data_dir, PIPELINE, now)


class Heartbeat:
    """Touches the service's heartbeat file every `interval_s` while `check` passes; removes it when not."""

    def __init__(self, data_dir: Path, service: str, check: Check, interval_s: float = INTERVAL_S) -> None:
        self.data_dir = data_dir
        self.path = beat_path(data_dir, service)
        self.why = reason_path(data_dir, service)
        self.service = service
        self.check = check
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._last: str | None = "starting"

    async def beat(self) -> str | None:
        """Run the check once and record its outcome; returns it (None = ready)."""
        try:
            reason = await self.check()
        except Exception as exc:  # a failing check is a reason, never a crash of the service
            reason = f"{type(exc).__name__}: {exc}"
        return self.record(reason)

    def record(self, reason: str | None) -> str | None:
        """Record an outcome found elsewhere (e.g. while the service waits to start); logs changes only."""
        try:
            record_beat(self.data_dir, self.service, reason)
        except OSError as exc:  # a read-only data dir: the health check will say so (no file)
            reason = f"cannot write the heartbeat {self.path}: {exc}"
        if reason != self._last:  # log changes only, not every beat
            from shared.logging import get_logger  # here: `minutes health` imports this module, and runs often

            log = get_logger(__name__)
            if reason is None:
                log.info("ready", service=self.service)
            else:
                log.warning("not ready", service=self.service, reason=reason)
            self._last = reason
        return reason

    async def _loop(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        """Beat now and then every `interval_s` on the running loop."""
        self._task = asyncio.create_task(self._loop(), name=f"heartbeat-{self.service}")

    async def stop(self) -> None:
        """Stop beating and remove the file: a stopping service is no longer ready."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(OSError):
            os.unlink(self.path)

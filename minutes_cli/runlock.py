"""One pipeline per data dir: an OS lock on `DATA/minutes.lock`, and pid files to find a crashed run's leftovers.

`minutes up` holds the lock exclusively (flock LOCK_EX) for as long as it runs; the kernel drops it when the
process dies, however it dies, so a stale lock never blocks a restart. A `minutes service …` started on its
own holds it shared (several services may share a data dir, `minutes up` may not start beside them); one
started by `minutes up` finds its parent's pid in the lock file and takes nothing.

Every process `minutes up` starts is recorded in `DATA/run/NAME.json` (pid and start time). A start that gets
the lock and still finds recorded processes alive (same pid *and* start time, so a reused pid is not
mistaken) knows they are orphans of a run that was killed, and stops them with their process trees.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import psutil

from minutes_cli.errors import UserError

LOCK_FILE = "minutes.lock"
RUN_DIR = "run"


class AlreadyRunning(UserError):
    """Another pipeline holds the data dir."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


class DataDirLock:
    """The data dir's lock; `acquire` raises AlreadyRunning when another pipeline holds it."""

    def __init__(self, data_dir: Path, what: str) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / LOCK_FILE
        self.what = what
        self._file: IO[str] | None = None
        self._own_record: Path | None = None

    def acquire(self, *, shared: bool = False) -> None:
        """Take the lock without waiting (exclusive for `minutes up`, shared for a lone service)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise self._refusal() from None
        self._file = handle
        record = {"pid": os.getpid(), "since": _now(), "what": self.what}
        if shared:
            # Shared holders cannot all write the one file: each records itself beside it.
            self._own_record = self.data_dir / RUN_DIR / f"lone-{os.getpid()}.json"
            self._own_record.parent.mkdir(exist_ok=True)
            self._own_record.write_text(json.dumps(record), encoding="utf-8")
        else:
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(record))
            handle.flush()

    def _refusal(self) -> AlreadyRunning:
        holder = _read_json(self.path)
        holders = [holder] if _alive(holder.get("pid")) else []
        for record in sorted((self.data_dir / RUN_DIR).glob("lone-*.json")):
            info = _read_json(record)
            if _alive(info.get("pid")):
                holders.append(info)
        if holders:
            first = holders[0]
            who = f"pid {first.get('pid')}, since {first.get('since', '?')}: {first.get('what', 'minutes')}"
        else:
            who = "by another process"
        return AlreadyRunning(
            f"already running ({who}) on data dir {self.data_dir.resolve()}",
            "stop it first (Ctrl-C in its terminal), or use another --data DIR",
        )

    def release(self) -> None:
        """Give the lock up (the kernel also does when the process ends)."""
        if self._own_record is not None:
            self._own_record.unlink(missing_ok=True)
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def held_by_parent(data_dir: Path) -> bool:
    """True when the process that started this one holds the data dir's lock (a service of `minutes up`)."""
    holder = _read_json(Path(data_dir) / LOCK_FILE)
    return holder.get("pid") == os.getppid()


def _alive(pid: object) -> bool:
    return isinstance(pid, int) and psutil.pid_exists(pid)


def record_process(data_dir: Path, name: str, pid: int) -> None:
    """Remember a process this run started, with its start time (a reused pid has another)."""
    folder = Path(data_dir) / RUN_DIR
    folder.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(psutil.Error):
        started = psutil.Process(pid).create_time()
        (folder / f"{name}.json").write_text(json.dumps({"pid": pid, "started": started}), encoding="utf-8")


def forget_process(data_dir: Path, name: str) -> None:
    """The process ended normally: nothing to clean up after it."""
    (Path(data_dir) / RUN_DIR / f"{name}.json").unlink(missing_ok=True)


def stop_leftovers(data_dir: Path, say: Callable[[str], None], timeout: float = 10.0) -> list[str]:
    """Stop processes a killed run left behind (call with the exclusive lock held); returns what was stopped."""
    stopped = []
    for record in sorted((Path(data_dir) / RUN_DIR).glob("*.json")):
        info = _read_json(record)
        proc = _same_process(info)
        if proc is not None:
            say(f"found {record.stem} (pid {proc.pid}) left running by a crashed run on this data dir; stopping it")
            stop_tree(proc, timeout)
            stopped.append(record.stem)
        record.unlink(missing_ok=True)
    return stopped


def _same_process(info: dict[str, Any]) -> psutil.Process | None:
    pid, started = info.get("pid"), info.get("started")
    if not isinstance(pid, int) or not isinstance(started, int | float):
        return None
    try:
        proc = psutil.Process(pid)
        return proc if abs(proc.create_time() - started) < 0.5 and proc.status() != psutil.STATUS_ZOMBIE else None
    except psutil.Error:
        return None


def stop_tree(proc: psutil.Process, timeout: float = 10.0) -> None:
    """SIGTERM a process and everything below it, SIGKILL what is left after `timeout`."""
    try:
        family = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return
    for member in family:
        with contextlib.suppress(psutil.Error):
            member.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(family, timeout=timeout)
    for member in alive:
        with contextlib.suppress(psutil.Error):
            member.kill()
    psutil.wait_procs(alive, timeout=5)


def kill_group(pid: int) -> None:
    """SIGKILL whatever is left in the process group a service led (its parse children, a forkserver)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)

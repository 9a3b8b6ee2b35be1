"""The embedded Redis's supervision (minutes_cli/redis_supervision.py) when its files cannot be written: a real
redis-server killed while the config writer fails with ENOSPC (injected through the writer dependency) is
reaped at once, its restart fails without raising and is said once, retried with backoff, and Redis comes back
with its data as soon as the writer works again."""

from __future__ import annotations

import errno
import os
import signal
import time
from pathlib import Path

import pytest
import redis
from structlog.testing import capture_logs

from minutes_cli.redis_supervision import SupervisedRedis
from shared.redis_server import CONFIG_FILE, write_private

pytestmark = pytest.mark.integration


class FullDisk:
    """A file writer that fails like a full disk while `full` is set, and writes for real otherwise."""

    def __init__(self) -> None:
        self.full = False
        self.calls = 0

    def __call__(self, path: Path, text: str) -> None:
        self.calls += 1
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        write_private(path, text)


def _zombie(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False  # gone: reaped
    return state == b"Z"


def _check_for(supervised: SupervisedRedis, seconds: float) -> None:
    """What the supervisor's monitor does: check every 0.2 s."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        supervised.check()
        time.sleep(0.2)


def test_a_failing_config_write_is_said_once_retried_and_redis_returns(tmp_path: Path) -> None:
    disk = FullDisk()
    supervised = SupervisedRedis(tmp_path, write_file=disk)
    url = supervised.start()
    try:
        client = redis.Redis.from_url(url, socket_timeout=2)
        client.set("kept", "yes")  # appendfsync always: on disk before the answer
        first_pid = supervised.pid
        assert first_pid is not None and disk.calls == 1
        # The config must be written again (lost, or changed): the write is what fails, as on a full disk.
        (supervised.server.data_dir / CONFIG_FILE).unlink()
        disk.full = True
        os.kill(first_pid, signal.SIGKILL)
        with capture_logs() as logs:
            _check_for(supervised, 2.5)
            assert disk.calls >= 3  # tried again, with backoff (0.5 s, 1 s, …), not once per check
            assert disk.calls <= 6
            assert not _zombie(first_pid)  # reaped while its restart fails
            down = supervised.down()
            assert down is not None and "No space left on device" in down
            disk.full = False
            deadline = time.monotonic() + 10
            while supervised.pid is None and time.monotonic() < deadline:
                supervised.check()
                time.sleep(0.2)
        assert supervised.pid not in (None, first_pid)
        assert supervised.down() is None
        assert client.get("kept") == b"yes"
        said = [(e["log_level"], e["event"]) for e in logs]
        assert said.count(("error", "redis restart failed")) == 1, said
        assert said.count(("warning", "redis restart works again")) == 1, said
        assert ("warning", "redis restarted") in said
        failed = next(e for e in logs if e["event"] == "redis restart failed")
        assert "No space left on device" in failed["error"]
    finally:
        supervised.stop()


def test_an_unchanged_config_is_not_written_again(tmp_path: Path) -> None:
    disk = FullDisk()
    supervised = SupervisedRedis(tmp_path, write_file=disk)
    supervised.start()
    try:
        pid = supervised.pid
        assert pid is not None
        disk.full = True  # a restart on a full disk needs no space for the config it already has
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while supervised.pid in (None, pid) and time.monotonic() < deadline:
            supervised.check()
            time.sleep(0.2)
        assert supervised.pid not in (None, pid) and disk.calls == 1
    finally:
        supervised.stop()

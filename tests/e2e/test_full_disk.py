"""`minutes up` (a real process) with its data dir on a small filesystem that fills up mid-run, then grows:
the supervisor survives its own failed writes and restarts, reaps a killed service, `/readyz` says the pipeline
is not whole meanwhile, and once there is room again everything dropped is stored and announced exactly once
with no person acting; stopped, it gives up the data dir's lock.

The small filesystem is a tmpfs with `size=`, which needs root (CI runs as root): without it the test fails,
saying so, rather than skip."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
import pytest
import redis

from bench.corpus import generate_corpus
from minutes_cli.runlock import DataDirLock
from shared.redis_server import free_port
from tests.e2e.harness import drop_documents, read_decisions, wait_for
from tests.integration.cli.helpers import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


@dataclass
class Disk:
    """A tmpfs of a given size mounted for the test."""

    path: Path

    def resize(self, mb: int) -> None:
        done = subprocess.run(["mount", "-o", f"remount,size={mb}m", str(self.path)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    def fill(self) -> int:
        """Add to a filler file until the filesystem refuses (ENOSPC); returns what was added."""
        size = 0
        error: OSError | None = None
        with open(self.path / "filler", "ab") as out:
            chunk = b"\0" * 65536
            try:
                while True:
                    size += out.write(chunk)
                    out.flush()
            except OSError as exc:
                error = exc
        assert error is not None and error.errno == errno.ENOSPC, error
        return size

    def free(self) -> int:
        stats = os.statvfs(self.path)
        return stats.f_bavail * stats.f_frsize


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Disk]:
    where = tmp_path / "disk"
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m,mode=0700", "tmpfs", str(where)],
                          capture_output=True, text=True)
    assert done.returncode == 0, (
        f"this test needs a small filesystem and could not mount one ({done.stderr.strip() or done.returncode}): "
        "`mount -t tmpfs -o size=…` needs root, which CI has"
    )
    try:
        yield Disk(where)
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _zombies(pid: int) -> list[int]:
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    out = []
    for child in children:
        with contextlib.suppress(psutil.Error):
            if child.status() == psutil.STATUS_ZOMBIE:
                out.append(child.pid)
    return out


def _child(pid: int, marker: str) -> psutil.Process | None:
    """The running child of `pid` whose command line holds `marker`."""
    for child in psutil.Process(pid).children():
        with contextlib.suppress(psutil.Error):
            if marker in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                return child
    return None


def _said(cli: Cli, event: str) -> list[str]:
    """The supervisor's log lines (JSON) of one event."""
    return [line for line in cli.err if f'"event": "{event}"' in line]


def _ready(api: str) -> tuple[int, str]:
    try:
        answer = httpx.get(f"{api}/readyz", timeout=5)
    except httpx.HTTPError as exc:
        return 0, str(exc)
    return answer.status_code, answer.json().get("detail", "")


def test_a_full_data_dir_then_room_again_resumes_by_itself_with_nothing_lost(tmp_path: Path, small_disk: Disk) -> None:
    data, inbox = small_disk.path / "data", tmp_path / "inbox"
    inbox.mkdir()
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    before, during = generate_corpus(8, seed=22, pdf_share=0), generate_corpus(8, seed=22, pdf_share=0, start=8)
    cli = Cli(
        ["up", "--data", str(data), "--inbox", str(inbox), "--parsers", "1", "--api-port", str(port)],
        tmp_path,
        MINUTES_LOG_FORMAT="json", MINUTES_SETTLE_S="0.2", MINUTES_RESCAN_INTERVAL_S="2", MINUTES_CLAIM_IDLE_MS="2000",
    )
    try:
        cli.wait_for(lambda: any("minutes is up" in ln for ln in cli.err) or cli.proc.poll() is not None, 240, "up")
        assert cli.proc.poll() is None, cli.err[-20:]
        url = (data / "redis.url").read_text().splitlines()[0]

        def announced() -> int:
            try:
                return len(read_decisions(url))
            except Exception:  # Redis down or loading: not yet
                return -1

        drop_documents(inbox, before)
        first = sum(d.expected_decisions for d in before)
        wait_for(lambda: announced() >= first, 180, "the first documents' decisions")
        wait_for(lambda: _ready(api)[0] == 200, 60, "the pipeline ready")

        filler = small_disk.fill()
        assert small_disk.free() < 64 * 1024, filler
        drop_documents(inbox, during)  # ingest cannot store them now
        wait_for(lambda: _ready(api) == (
            503, f"pipeline: the data dir's filesystem is full ({small_disk.free()} bytes free): nothing new can "
            "be stored"), 30, "/readyz to report the full disk")
        # A service killed while the disk is full is reaped and started again.
        parser = _child(cli.proc.pid, "service parser")
        parser.send_signal(signal.SIGKILL)
        wait_for(lambda: not psutil.pid_exists(parser.pid)
              and _child(cli.proc.pid, "service parser") is not None, 30, "the killed parser reaped and started again")
        assert _zombies(cli.proc.pid) == []

        # A write to Redis now fails its AOF append: Redis exits (appendfsync always), as in a backfill.
        redis_pid = _child(cli.proc.pid, "redis-server").pid
        client = redis.Redis.from_url(url, socket_timeout=5)

        def write_until_refused() -> None:
            for n in range(1000):
                client.set(f"filler-{n}", b"x" * 8192)

        with pytest.raises(redis.ConnectionError):
            write_until_refused()
        wait_for(lambda: not psutil.pid_exists(redis_pid), 30, "redis-server to exit and be reaped")
        wait_for(lambda: _child(cli.proc.pid, "redis-server") is not None, 60, "redis-server restarted")
        assert cli.proc.poll() is None, cli.err[-20:]  # the supervisor lives on

        small_disk.resize(200)  # room again: nobody touches the pipeline
        total = first + sum(d.expected_decisions for d in during)
        wait_for(lambda: announced() >= total, 300, "every decision announced")
        wait_for(lambda: _ready(api)[0] == 200, 120, "/readyz ready again")
        events = read_decisions(url)
        assert len(events) == total
        assert len({e.event_id for e in events}) == total
        assert len({(e.document_id, e.item_number) for e in events}) == total
        assert _zombies(cli.proc.pid) == []
        assert _said(cli, "redis died, restarting") and _said(cli, "service died, restarting")
        assert _said(cli, "supervising failed") == []  # the monitor never tripped over the full disk
        try:
            code = cli.stop(signal.SIGINT, timeout=60)
        except subprocess.TimeoutExpired:
            # What the supervisor said last and what is still running: the step that held the stop up.
            tree = [f"{p.pid} {p.status()} {' '.join(p.cmdline())[:120]}" for p in _family(cli.proc.pid)]
            pytest.fail("minutes up did not stop within 60 s of Ctrl-C; last lines:\n" + "\n".join(cli.err[-30:])
                        + "\nstill running:\n" + "\n".join(tree))
        assert code == 0
    finally:
        cli.close()
    lock = DataDirLock(data, "test")
    lock.acquire()  # given up: a new pipeline may start here
    lock.release()


def _family(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []

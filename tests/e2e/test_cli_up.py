"""`minutes up` as a real process: one per data dir, SIGHUP stops the whole tree, a crashed run is cleaned up."""

from __future__ import annotations

import contextlib
import shutil
import signal
from pathlib import Path

import psutil
import pytest

from tests.integration.cli.helpers import Cli, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

Tree = dict[int, float]


def _up(tmp_path: Path) -> Cli:
    cli = Cli(
        ["up", "--data", str(tmp_path / "data"), "--inbox", str(tmp_path / "inbox"), "--parsers", "1"],
        tmp_path,
        MINUTES_LOG_FORMAT="json",
    )
    try:
        cli.wait_for(lambda: any("minutes is up" in ln for ln in cli.err) or cli.proc.poll() is not None, 240, "up")
        assert cli.proc.poll() is None, cli.err[-20:]
        up_line = next(n for n, line in enumerate(cli.err) if "minutes is up" in line)
        # "up" only once ingest watches, and the hint is a command this machine can run.
        assert any("watching inbox" in line for line in cli.err[:up_line]), cli.err[:up_line]
        hint = cli.err[up_line].split("`")[1]
        program = hint.split()[0]
        assert shutil.which(program) or Path(program).is_file(), hint
        assert hint.endswith(f"decisions --follow --data {tmp_path / 'data'}")
    except BaseException:
        cli.close()  # no orphan survives a failed start-up check
        raise
    return cli


def _tree(pid: int) -> Tree:
    """The process and everything below it, by pid and start time (a reused pid is another process)."""
    root = psutil.Process(pid)
    return {p.pid: p.create_time() for p in [root, *root.children(recursive=True)]}


def _survivors(tree: Tree, data_dir: Path) -> list[str]:
    """Processes of `tree` still alive, and any process on the table that still uses `data_dir`."""
    alive = []
    for proc in psutil.process_iter(["pid", "create_time", "cmdline", "status"]):
        if proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        cmdline = " ".join(proc.info["cmdline"] or [])
        if tree.get(proc.info["pid"]) == proc.info["create_time"] or str(data_dir) in cmdline:
            alive.append(f"{proc.info['pid']}: {cmdline[:120]}")
    return alive


def _wait_gone(tree: Tree, data_dir: Path, timeout: float = 20) -> list[str]:
    procs = []
    for pid in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            procs.append(psutil.Process(pid))
    psutil.wait_procs(procs, timeout=timeout)
    return _survivors(tree, data_dir)


def test_second_up_is_refused_and_sighup_stops_the_whole_tree(tmp_path: Path) -> None:
    first = _up(tmp_path)
    try:
        tree = _tree(first.proc.pid)
        # redis-server, ingest, a parser (with its parse child), a store: all below the supervisor.
        assert len(tree) >= 5, tree
        second = run_cli(["up", "--data", str(tmp_path / "data"), "--inbox", str(tmp_path / "inbox2")], tmp_path)
        assert second.returncode != 0
        assert f"already running (pid {first.proc.pid}, since " in second.stderr
        assert len(second.stderr.strip().splitlines()) <= 2, second.stderr
        assert not (tmp_path / "inbox2").exists()  # refused before touching anything
        lone = run_cli(["service", "store", "--data", str(tmp_path / "data")], tmp_path)
        assert lone.returncode != 0
        assert f"already running (pid {first.proc.pid}, since " in lone.stderr
        assert first.proc.poll() is None  # the refusals did not disturb the running pipeline
        assert (tmp_path / "data" / "redis.url").exists()

        first.proc.send_signal(signal.SIGHUP)
        first.proc.wait(30)
        assert _wait_gone(tree, tmp_path / "data") == []
        assert not (tmp_path / "data" / "redis.url").exists()
    finally:
        first.close()


def test_a_start_stops_what_a_killed_run_left_behind(tmp_path: Path) -> None:
    crashed = _up(tmp_path)
    try:
        old_tree = _tree(crashed.proc.pid)
        crashed.proc.kill()  # the supervisor only: its services and redis-server live on as orphans
        crashed.proc.wait(10)
        orphans = {pid: t for pid, t in old_tree.items() if pid != crashed.proc.pid}
        assert _survivors(orphans, tmp_path / "data"), "nothing survived the supervisor: nothing to test"

        fresh = _up(tmp_path)
        try:
            said = "\n".join(fresh.err)
            assert "left running by a crashed run" in said and "redis-server" in said
            assert _wait_gone(orphans, tmp_path / "nonexistent") == []
            new_tree = _tree(fresh.proc.pid)
            assert fresh.stop(signal.SIGTERM, timeout=30) == 0
            assert _wait_gone(new_tree, tmp_path / "data") == []
        finally:
            fresh.close()
    finally:
        crashed.close()
        for pid in old_tree:  # never leave an orphan behind, even when an assertion failed
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == old_tree[pid]:
                    proc.kill()
            except psutil.Error:
                pass


def test_up_is_refused_beside_a_lone_service_on_the_data_dir(tmp_path: Path, redis_url: str) -> None:
    data = tmp_path / "data"
    lone = Cli(["service", "parser", "--data", str(data)], tmp_path, MINUTES_REDIS_URL=redis_url)
    try:
        lone.wait_for(lambda: any("parser ready" in line for line in lone.err), 60, "the parser to start")
        refused = run_cli(["up", "--data", str(data), "--inbox", str(tmp_path / "inbox")], tmp_path)
        assert refused.returncode != 0
        assert f"already running (pid {lone.proc.pid}, since " in refused.stderr
        assert "minutes service parser" in refused.stderr
        assert lone.proc.poll() is None
    finally:
        lone.close()

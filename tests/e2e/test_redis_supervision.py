"""The embedded Redis is supervised like the services: a `kill -9` mid-backfill heals with no person acting."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.e2e.harness import wait_for
from tests.e2e.test_faults import _assert_exactly_once, _run_under_way

pytestmark = pytest.mark.e2e


def _answers(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=2).ping())
    except redis.ConnectionError:
        return False


def _zombie(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False  # gone: reaped
    return state == b"Z"


def test_kill_9_of_the_embedded_redis_mid_backfill_finishes_every_decision_exactly_once(tmp_path: Path) -> None:
    with _run_under_way(tmp_path) as (stack, url, database_url):
        assert stack.redis is not None
        old = stack.redis.pid
        assert old is not None
        stack.redis.kill()  # SIGKILL, not reaped by the test: the supervisor must
        # A new pid comes before the restarted server accepts connections: wait for both before reading.
        wait_for(
            lambda: stack.redis is not None and stack.redis.pid not in (None, old) and _answers(url),
            30,
            "redis restarted and answering",
        )
        assert not _zombie(old)
        _assert_exactly_once(url, database_url)
        assert stack.redis.restarts == 1
        # The services rode it out: reconnected, none exited and was restarted.
        assert {name: child.restarts for name, child in stack.children.items()} == dict.fromkeys(stack.children, 0)


def test_the_embedded_redis_has_a_private_password_and_binds_loopback(tmp_path: Path) -> None:
    import redis

    from tests.e2e.harness import make_stack

    stack = make_stack(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}")
    url = stack.start()
    try:
        assert stack.redis is not None
        password = (tmp_path / "data" / "redis" / "password").read_text().strip()
        assert len(password) >= 32 and f":{password}@127.0.0.1:" in url
        for private in ("redis/password", "redis/redis.conf", "redis.url"):
            assert stat.S_IMODE((tmp_path / "data" / private).stat().st_mode) == 0o600, private
        # Not on any command line of the stack's processes, nor in the services' environments.
        pids = [stack.redis.pid, *(stack.pid(name) for name in stack.children)]
        for pid in pids:
            assert pid is not None
            assert password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
            assert password.encode() not in Path(f"/proc/{pid}/environ").read_bytes()
        anonymous = redis.Redis(host="127.0.0.1", port=stack.redis.server.port)
        with pytest.raises(redis.AuthenticationError):
            anonymous.xadd("minutes:documents", {"json": "{}"})
        anonymous.close()
    finally:
        stack.stop()


REFUSAL_S = 60.0


def _rss_mb(pid: int | None) -> float:
    """RSS of a service and its children (the parse process), in MB."""
    import psutil

    if pid is None:
        return 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / 1e6
    except psutil.Error:
        return 0.0


def test_redis_refusing_writes_for_a_minute_keeps_logs_and_memory_bounded_then_everything_completes(
    tmp_path: Path,
) -> None:
    import time

    import redis

    with _run_under_way(tmp_path) as (stack, url, database_url):
        client = redis.Redis.from_url(url)
        try:
            # Out of memory with noeviction: every write that needs memory is refused, like a full disk.
            client.config_set("maxmemory-policy", "noeviction")
            client.config_set("maxmemory", str(client.info("memory")["used_memory"] // 2))
            with pytest.raises(redis.exceptions.OutOfMemoryError):
                client.xadd("minutes:probe", {"x": "y" * 1000})
            lines_before = len(stack.log_lines)  # type: ignore[attr-defined]
            start = {name: _rss_mb(stack.pid(name)) for name in stack.children}
            peak = dict(start)
            deadline = time.monotonic() + REFUSAL_S
            while time.monotonic() < deadline:
                time.sleep(2.0)
                for name in stack.children:
                    peak[name] = max(peak[name], _rss_mb(stack.pid(name)))
            lines = stack.log_lines[lines_before:]  # type: ignore[attr-defined]
            client.config_set("maxmemory", "0")
        finally:
            client.close()
        # Shown with -s: the measured numbers behind the README's Guarantees line.
        print(f"refusal {REFUSAL_S:g} s: {len(lines)} lines, {sum(len(x) for x in lines)} bytes; RSS MB start/peak",
              {n: (round(start[n]), round(peak[n])) for n in stack.children})
        # Measured before this change: ~220,000 lines a minute and +400 MB per service.
        assert len(lines) <= 120, f"{len(lines)} log lines in {REFUSAL_S:g} s:\n" + "\n".join(lines[:40])
        assert sum(len(line) for line in lines) <= 120_000
        for name in stack.children:
            assert peak[name] - start[name] <= 40, (name, start[name], peak[name])
        _assert_exactly_once(url, database_url)
        assert {name: child.restarts for name, child in stack.children.items()} == dict.fromkeys(stack.children, 0)

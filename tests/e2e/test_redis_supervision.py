"""The embedded Redis is supervised like the services: a `kill -9` mid-backfill heals with no person acting."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.e2e.harness import wait_for
from tests.e2e.test_faults import _assert_exactly_once, _run_under_way

pytestmark = pytest.mark.e2e


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
        wait_for(lambda: stack.redis is not None and stack.redis.pid not in (None, old), 30, "redis restarted")
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

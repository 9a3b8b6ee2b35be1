"""The embedded redis-server of `minutes up`, supervised like the services: reaped, restarted with backoff.

Kept apart from the service supervisor (`supervisor.py`) so each can change without the other: the Stack
only calls `start`, `check` (from its monitor loop), `down` and `stop`. A restart that fails — no space left
for its config or its AOF, no process slot — is said once and tried again with backoff until it works, so
Redis comes back by itself when the disk has room again.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from minutes_cli.condition import Condition
from shared.logging import get_logger
from shared.redis_server import (
    ADDRESS_FILE,
    FileWriter,
    RedisLaunchError,
    RedisServer,
    generated_password,
    write_address,
)
from shared.retry import Backoff

log = get_logger(__name__)

# Restart attempts of a Redis that died: quick at first, then every half minute while it cannot start.
RESTART = Backoff(0.5, 30.0)


class SupervisedRedis:
    """One embedded redis-server on loopback with a generated password; `check()` restarts it when it died.

    The same port, data folder and password on every restart, so clients reconnect with what they know.
    """

    def __init__(
        self,
        data_dir: Path,
        binary: str | None = None,
        appendfsync: str = "always",
        write_file: FileWriter | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        folder = self.data_dir / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        self.server = RedisServer(
            folder, binary=binary, password=generated_password(folder), appendfsync=appendfsync,
            write_file=write_file,
        )
        self.restarts = 0
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_try = 0.0
        self._stopped = False
        self.restart_failed = Condition("redis restart", service="redis-server")

    @property
    def url(self) -> str:
        """The URL (with password) clients use; also in `data_dir/redis.url`, mode 0600."""
        return self.server.url

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return self.server.pid

    def start(self) -> str:
        """Start Redis and record its address in the data dir."""
        with self._lock:
            url = self.server.start()
            write_address(self.data_dir, url)
            return url

    def check(self) -> None:
        """Called often by the monitor: reap a dead server (no zombie) and restart it with backoff.

        Never raises for a failed restart (a full disk, no process slot): that is said once per change of
        state and tried again after the backoff."""
        with self._lock:
            if self._stopped:
                return
            process = self.server.process
            if process is not None and process.poll() is None:  # poll() reaps a dead server
                return
            now = time.monotonic()
            if self._down_since is None:
                self._down_since = now
                code = process.returncode if process is not None else None
                # Said once per outage; the services hold their messages meanwhile.
                log.warning("redis died, restarting", code=code, restarts=self.restarts)
                self._next_try = now
            if now < self._next_try:
                return
            self.server.process = None
            try:
                self.server.start()
            except (RedisLaunchError, OSError) as exc:
                delay = RESTART.delay(self.restart_failed.attempts + 1)
                self._next_try = now + delay
                self.restart_failed.fail(exc, retry_in_s=round(delay, 1))
                return
            self.restarts += 1
            self.restart_failed.clear()
            log.warning("redis restarted", down_s=round(time.monotonic() - self._down_since, 1),
                        restarts=self.restarts)
            self._down_since = None

    def down(self) -> str | None:
        """None while the server runs; otherwise why not, for the pipeline's readiness."""
        if self.server.process is not None and self.server.process.poll() is None:
            return None
        if self.restart_failed.error:
            return f"redis-server is down, its restart fails ({self.restart_failed.error})"
        return "redis-server is down (restarting)"

    def restart(self) -> str:
        """Stop (SIGTERM, AOF flushed) and start again on the same port (tests, operators)."""
        with self._lock:
            return self.server.restart()

    def kill(self) -> None:
        """SIGKILL the server without reaping it: the monitor's `check()` must (fault injection)."""
        process = self.server.process
        if process is not None:
            process.kill()

    def stop(self) -> None:
        """Stop for good (no more restarts) and remove the address file."""
        with self._lock:
            self._stopped = True
            self.server.stop()
        (self.data_dir / ADDRESS_FILE).unlink(missing_ok=True)

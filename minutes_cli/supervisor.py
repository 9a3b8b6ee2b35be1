"""`minutes up` topology as processes: embedded Redis, ingest, N parsers, M stores; restarts what dies.

The supervisor outlives its own failures: a restart that cannot happen (no space for Redis's config, no
process slot) or a record it cannot write is said once per change of state and tried again with backoff
(shared/retry.py), so the pipeline comes back by itself when the disk has room again. Dead children are
reaped at once (no zombie), the pipeline's heartbeat says whether everything runs (`/readyz` reads it), and
the data dir's lock is given up whenever the supervisor ends.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from minutes_cli import runlock
from minutes_cli.condition import Condition
from minutes_cli.redis_supervision import SupervisedRedis
from shared import health
from shared.logging import get_logger
from shared.retry import Backoff
from shared.settings import Settings

log = get_logger(__name__)

# Restarts of a service: a crash-looping one waits longer each time (from its start), up to 5 s; a restart
# that fails (no process slot) is tried again on the same schedule.
RESTART = Backoff(0.25, 5.0)
# Less room than this in the data dir's filesystem: the pipeline cannot write (blobs, the database, Redis's AOF)
# even though every process runs, and is reported not ready until there is room again.
MIN_FREE_BYTES = 1024 * 1024

# The API's start-up line carries the page's URL (JSON or console log format alike).
_API_URL = re.compile(r"https?://[^\s\"']+")


class StartRefused(RuntimeError):
    """The state check found something a person must fix first (the message says what)."""


# A service exits with this when it refuses to start on bad state: restarting it would not help.
REFUSED_EXIT = 78


@dataclass
class Child:
    """One service process and how to start it again."""

    name: str
    args: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    threads: list[threading.Thread] = field(default_factory=list)
    # While it is down: when it died, when to try to start it again, and whether that fails.
    down_since: float | None = None
    next_try: float = 0.0
    spawn_failed: Condition = field(init=False)

    def __post_init__(self) -> None:
        self.spawn_failed = Condition("service restart", service=self.name)

    @property
    def running(self) -> bool:
        """Whether its process is alive; a dead one is reaped by asking (no zombie)."""
        return self.process is not None and self.process.poll() is None


def _pump(stream: IO[bytes], label: str, sink: Callable[[str], None]) -> None:
    # Interleave the children's logs line by line, each labelled with its service.
    for raw in iter(stream.readline, b""):
        sink(f"{label} {raw.decode(errors='replace').rstrip()}")
    stream.close()


def _default_sink(line: str) -> None:
    # A closed terminal (SIGHUP) makes stderr fail: keep draining the children's pipes regardless.
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


class Stack:
    """Starts and supervises the whole pipeline on one machine."""

    def __init__(
        self,
        settings: Settings,
        *,
        parsers: int | None = None,
        stores: int | None = None,
        ingest: bool = True,
        api: bool = False,
        env: dict[str, str] | None = None,
        sink: Callable[[str], None] | None = None,
        restart: bool = True,
        redis_factory: Callable[[], SupervisedRedis] | None = None,
    ) -> None:
        self.settings = settings
        self.parsers = parsers or settings.parsers
        self.stores = stores or settings.stores
        self.with_ingest = ingest
        self.with_api = api
        self.extra_env = env or {}
        self.sink = sink or _default_sink
        self.restart = restart
        self.redis: SupervisedRedis | None = None
        self._redis_pid: int | None = None
        self.redis_url = settings.redis_url or ""
        self.children: dict[str, Child] = {}
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None
        self.lock = runlock.DataDirLock(settings.data_dir, "minutes up")
        # Set when ingest logs that it watches the inbox: "minutes is up" must not come before that.
        self.ingest_ready = threading.Event()
        # Set when the API logs the URL it serves (`api_url`), or when it exits first (`api_url` stays None).
        self.api_ready = threading.Event()
        self.api_url: str | None = None
        # The embedded Redis (tests pass one whose file writes fail).
        self._redis_factory = redis_factory or (
            lambda: SupervisedRedis(self.settings.data_dir, binary=self.settings.redis_server_bin)
        )
        # The supervisor's own work that can fail, each said once per change of state.
        self.record_failed = Condition("recording a process in the data dir")
        self.beat_failed = Condition("writing the pipeline heartbeat")
        self.watch_failed = Condition("supervising")
        self._unrecorded: dict[str, int] = {}
        self._beat_reason: str | None = "starting"
        self._beat_at = 0.0

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            # The embedded Redis's URL carries its password: children read it from the data dir (mode
            # 0600), never from their environment, which other tools and crash reports may show.
            MINUTES_REDIS_URL="" if self.redis is not None else self.redis_url,
            MINUTES_DATA_DIR=str(self.settings.data_dir.resolve()),
            MINUTES_INBOX=str(self.settings.inbox.resolve()),
            MINUTES_DATABASE_URL=self.settings.effective_database_url,
            MINUTES_API_HOST=self.settings.api_host,
            MINUTES_API_PORT=str(self.settings.api_port),
            PYTHONUNBUFFERED="1",
        )
        if self.settings.public_url:  # read from .env too: every service's links start with it (alerts, feeds)
            env["MINUTES_PUBLIC_URL"] = self.settings.public_url
        env.update(self.extra_env)
        return env

    def start(self) -> str:
        """Lock the data dir, start Redis (unless one is configured), migrate the database, then every service."""
        self.lock.acquire()  # raises runlock.AlreadyRunning when another pipeline holds the data dir
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> str:
        runlock.stop_leftovers(self.settings.data_dir, lambda text: self.sink(f"[up] {text}"))
        # Not ready until everything runs; a stale beat of a crashed run no longer counts.
        self._beat("minutes up is starting its services")
        self.settings.inbox.mkdir(parents=True, exist_ok=True)
        if not self.redis_url:
            self.redis = self._redis_factory()
            self.redis_url = self.redis.start()
            self._redis_pid = self.redis.pid
            self._record("redis-server", self.redis.pid or 0)
        self._check_state()
        self._run_once(["migrate"])
        names = (["ingest"] if self.with_ingest else []) + [f"parser-{i + 1}" for i in range(self.parsers)]
        names += [f"store-{i + 1}" for i in range(self.stores)]
        names.append("alerts-1")  # webhooks and notifications of subscriptions (services/alerts/)
        names += ["api"] if self.with_api else []
        for name in names:
            self.children[name] = Child(name, [sys.executable, "-m", "minutes_cli.main", "service", name.split("-")[0]])
            self._spawn(self.children[name])
        self._monitor = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._monitor.start()
        return self.redis_url

    def _check_state(self) -> None:
        """`minutes check` before anything starts: refuse a corrupt database, re-announce lost events.

        Without the blobs: hashing every stored document at each start would delay it, and a missing or
        corrupt original file does not stop the pipeline (`minutes check` on its own reports those)."""
        done = subprocess.run(
            [sys.executable, "-m", "minutes_cli.main", "check", "--no-blobs"], env=self._env(), capture_output=True
        )
        out = done.stdout.decode(errors="replace")
        for line in out.splitlines():
            if line.startswith("PROBLEM"):
                log.warning("state check", problem=line.removeprefix("PROBLEM").strip())
        if done.returncode != 0:
            if self.redis is not None:
                self.redis.stop()
            problems = [line.removeprefix("PROBLEM").strip() for line in out.splitlines() if line.startswith("PROBLEM")]
            raise StartRefused("minutes up refused to start: " + (
                "; ".join(problems) or done.stderr.decode(errors="replace")[-2000:]
            ))

    def _run_once(self, args: list[str]) -> None:
        done = subprocess.run([sys.executable, "-m", "minutes_cli.main", *args], env=self._env(), capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f"minutes {' '.join(args)} failed: {done.stderr.decode(errors='replace')[-2000:]}")

    def _spawn(self, child: Child) -> None:
        """Start the child's process; OSError when it cannot be started (nothing is left running then)."""
        # Own session: a Ctrl-C reaches only the supervisor, which then stops the services in order.
        proc = subprocess.Popen(
            child.args, env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        assert proc.stdout is not None
        sink = {"ingest": self._ingest_sink, "api": self._api_sink}.get(child.name, self.sink)
        pump = threading.Thread(target=_pump, args=(proc.stdout, f"[{child.name}]", sink), daemon=True)
        try:
            pump.start()
        except RuntimeError as exc:  # no thread to drain its output: a child nobody reads would block
            proc.kill()
            proc.wait()
            raise OSError(errno.EAGAIN, f"cannot start a thread for {child.name}'s output: {exc}") from exc
        child.process, child.started_at, child.threads, child.down_since = proc, time.monotonic(), [pump], None
        self._record(child.name, proc.pid)
        log.info("service started", service=child.name, pid=proc.pid)

    def _record(self, name: str, pid: int) -> None:
        # The record lets a later start stop what a killed run left; on a full disk it is written again on
        # every pass until there is room, and the process runs meanwhile (only a crash of this supervisor in
        # that window would leave it unrecorded).
        try:
            runlock.record_process(self.settings.data_dir, name, pid)
        except OSError as exc:
            self._unrecorded[name] = pid
            self.record_failed.fail(exc, process=name)
        else:
            self._unrecorded.pop(name, None)
            if not self._unrecorded:
                self.record_failed.clear()

    def _ingest_sink(self, line: str) -> None:
        self.sink(line)  # first: whoever waits for the event prints after this line, not before it
        if not self.ingest_ready.is_set() and "watching inbox" in line:
            self.ingest_ready.set()

    def _api_sink(self, line: str) -> None:
        self.sink(line)
        if not self.api_ready.is_set() and "api listening" in line:
            found = _API_URL.search(line)
            self.api_url = found.group(0) if found else None
            self.api_ready.set()

    def wait_api(self, timeout: float) -> str | None:
        """The URL of the web page once the API serves it; None if it exited first or took too long."""
        deadline = time.monotonic() + timeout
        while not self.api_ready.wait(0.2):
            child = self.children.get("api")
            if child is None or time.monotonic() > deadline:
                return None
            if child.process is not None and child.process.poll() is not None and child.restarts < 0:
                return None  # refused to start (its own line said why): not restarted
        return self.api_url

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            try:
                self._supervise()
            except Exception as exc:  # a bug or an OS error of its own must not end supervision: said, retried
                self.watch_failed.fail(exc)
            else:
                self.watch_failed.clear()

    def _supervise(self) -> None:
        if self.redis is not None:
            self.redis.check()
            if self.redis.pid is not None and self.redis.pid != self._redis_pid:
                # A restarted Redis is a new process: the record a later start checks for leftovers follows it.
                self._redis_pid = self.redis.pid
                self._record("redis-server", self.redis.pid)
        for child in list(self.children.values()):
            self._revive(child)
        for name, pid in list(self._unrecorded.items()):
            self._record(name, pid)
        self._beat(self._pipeline_down())

    def _revive(self, child: Child) -> None:
        """Restart a dead child when its backoff allows (a failed start is said once and tried again)."""
        if child.running or child.process is None or not self.restart or self._stopping.is_set():
            return
        code = child.process.returncode
        if code == REFUSED_EXIT:
            if child.restarts >= 0:
                log.error("service refused to start on bad state; not restarting it", service=child.name)
                child.restarts = -1  # said once
            return
        now = time.monotonic()
        if child.down_since is None:
            child.down_since = now
            # Back off a crash-looping service instead of spinning: the longer, the more it has been restarted.
            child.next_try = child.started_at + RESTART.delay(child.restarts + 1)
            log.warning("service died, restarting", service=child.name, code=code, restarts=child.restarts + 1)
        if now < child.next_try:
            return
        try:
            self._spawn(child)
        except OSError as exc:
            delay = RESTART.delay(child.spawn_failed.attempts + 1)
            child.next_try = now + delay
            child.spawn_failed.fail(exc, retry_in_s=round(delay, 2))
            return
        child.restarts += 1
        child.spawn_failed.clear()

    def _pipeline_down(self) -> str | None:
        """Why the pipeline is not whole (None: Redis and every service run)."""
        reasons = []
        try:
            free = shutil.disk_usage(self.settings.data_dir).free
        except OSError:
            free = None  # the data dir itself is gone or unreadable: the services say so
        if free is not None and free < MIN_FREE_BYTES:
            reasons.append(f"the data dir's filesystem is full ({free} bytes free): nothing new can be stored")
        if self.redis is not None and (why := self.redis.down()) is not None:
            reasons.append(why)
        for child in self.children.values():
            if child.running:
                continue
            if child.restarts < 0:
                reasons.append(f"{child.name} refused to start (see its log)")
            elif child.spawn_failed.error:
                reasons.append(f"{child.name} is down, its restart fails ({child.spawn_failed.error})")
            else:
                reasons.append(f"{child.name} is down (restarting)")
        return "; ".join(reasons) or None

    def _beat(self, reason: str | None) -> None:
        # Written when the state changes, and refreshed while it holds (a stale beat means a hung supervisor).
        now = time.monotonic()
        if reason == self._beat_reason and now - self._beat_at < health.INTERVAL_S and not self.beat_failed.failing:
            return
        if reason != self._beat_reason:
            if reason is None:
                log.info("pipeline ready: every service runs")
            else:
                log.warning("pipeline not ready", reason=reason)
        self._beat_reason, self._beat_at = reason, now
        try:
            health.record_beat(self.settings.data_dir, health.PIPELINE, reason, keep_reason=True)
        except OSError as exc:  # a full disk: the beat was removed first, so "not ready" holds regardless
            self.beat_failed.fail(exc)
        else:
            self.beat_failed.clear()

    def pid(self, name: str) -> int | None:
        """Pid of a running service."""
        child = self.children.get(name)
        return child.process.pid if child and child.process and child.process.poll() is None else None

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send a signal to one service (fault injection); the monitor restarts it when `restart` is on."""
        pid = self.pid(name)
        if pid:
            os.kill(pid, sig)

    def start_service(self, name: str) -> None:
        """Start a stopped service again (when `restart` is off)."""
        self._spawn(self.children[name])

    def stop(self, timeout: float = 10.0) -> dict[str, int | None]:
        """SIGTERM every service, wait for them to drain (SIGKILL after `timeout`), then stop Redis; the data
        dir's lock is given up whatever fails on the way."""
        try:
            return self._stop(timeout)
        finally:
            health.forget_beat(self.settings.data_dir, health.PIPELINE)
            self.lock.release()

    def _stop(self, timeout: float) -> dict[str, int | None]:
        self._stopping.set()
        if self._monitor is not None and self._monitor is not threading.current_thread():
            self._monitor.join(5.0)  # no restart may race the stop
        procs = {n: c.process for n, c in self.children.items() if c.process is not None}
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        codes: dict[str, int | None] = {}
        for name, proc in procs.items():
            try:
                codes[name] = proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
                log.warning("service did not stop in time, killed", service=name)
            # Each service leads its own process group: nothing it started (parse children) outlives it.
            runlock.kill_group(proc.pid)
            runlock.forget_process(self.settings.data_dir, name)
        for child in self.children.values():
            for thread in child.threads:
                thread.join(1.0)
        if self.redis is not None:
            self.redis.stop()
            runlock.forget_process(self.settings.data_dir, "redis-server")
        return codes

    def wait(self) -> bool:
        """Block until interrupted (Ctrl-C, SIGTERM, or SIGHUP from a closed terminal): True. False when the
        monitor ended by itself (it should not): the caller stops everything rather than run unsupervised."""
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                if self._monitor is not None and not self._monitor.is_alive():
                    log.error("the supervisor's monitor ended; stopping the pipeline")
                    return False
        except KeyboardInterrupt:
            pass
        return True

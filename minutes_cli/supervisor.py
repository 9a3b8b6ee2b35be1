"""`minutes up` topology as processes: embedded Redis, ingest, N parsers, M stores; restarts what dies."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

from minutes_cli import runlock
from minutes_cli.redis_supervision import SupervisedRedis
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

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
        self.settings.inbox.mkdir(parents=True, exist_ok=True)
        if not self.redis_url:
            self.redis = SupervisedRedis(self.settings.data_dir, binary=self.settings.redis_server_bin)
            self.redis_url = self.redis.start()
            self._redis_pid = self.redis.pid
            runlock.record_process(self.settings.data_dir, "redis-server", self.redis.pid or 0)
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
        """`minutes check` before anything starts: refuse a corrupt database, re-announce lost events."""
        done = subprocess.run(
            [sys.executable, "-m", "minutes_cli.main", "check"], env=self._env(), capture_output=True
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
        # Own session: a Ctrl-C reaches only the supervisor, which then stops the services in order.
        proc = subprocess.Popen(
            child.args, env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
        )
        child.process, child.started_at = proc, time.monotonic()
        assert proc.stdout is not None
        runlock.record_process(self.settings.data_dir, child.name, proc.pid)
        sink = {"ingest": self._ingest_sink, "api": self._api_sink}.get(child.name, self.sink)
        pump = threading.Thread(target=_pump, args=(proc.stdout, f"[{child.name}]", sink), daemon=True)
        pump.start()
        child.threads = [pump]
        log.info("service started", service=child.name, pid=proc.pid)

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
            if self.redis is not None:
                self.redis.check()
                if self.redis.pid is not None and self.redis.pid != self._redis_pid:
                    # A restarted Redis is a new process: the record a later start checks for leftovers follows it.
                    self._redis_pid = self.redis.pid
                    runlock.record_process(self.settings.data_dir, "redis-server", self.redis.pid)
            for child in list(self.children.values()):
                proc = child.process
                if proc is None or proc.poll() is None or not self.restart or self._stopping.is_set():
                    continue
                if proc.returncode == REFUSED_EXIT:
                    if child.restarts >= 0:
                        log.error("service refused to start on bad state; not restarting it", service=child.name)
                        child.restarts = -1  # said once
                    continue
                # Back off a crash-looping service instead of spinning.
                delay = min(5.0, 0.25 * 2 ** min(child.restarts, 5))
                if time.monotonic() - child.started_at < delay:
                    continue
                child.restarts += 1
                log.warning(
                    "service died, restarting", service=child.name, code=proc.returncode, restarts=child.restarts
                )
                self._spawn(child)

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
        """SIGTERM every service, wait for them to drain (SIGKILL after `timeout`), then stop Redis."""
        self._stopping.set()
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
        self.lock.release()
        return codes

    def wait(self) -> None:
        """Block until interrupted (Ctrl-C, SIGTERM, or SIGHUP from a closed terminal)."""
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass

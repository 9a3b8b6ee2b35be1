"""Run `minutes` commands as real processes and read their output as it comes."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import psutil
import redis

from shared import streams
from shared.contracts.events import DecisionMade
from shared.contracts.meeting import Outcome


def cli_env(**extra: str) -> dict[str, str]:
    """The environment of a `minutes` child: ours without MINUTES_ settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINUTES_")}
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def run_cli(args: Sequence[str], cwd: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `minutes ARGS` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "minutes_cli.main", *args],
        cwd=cwd,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class Cli:
    """A running `minutes` process whose stdout and stderr lines are collected by threads."""

    def __init__(self, args: Sequence[str], cwd: Path, **env: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "minutes_cli.main", *args],
            cwd=cwd,
            env=cli_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: list[str] = []
        self.err: list[str] = []
        self._lines: queue.Queue[tuple[str, str]] = queue.Queue()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for name, stream, sink in (("out", self.proc.stdout, self.out), ("err", self.proc.stderr, self.err)):
            threading.Thread(target=self._read, args=(name, stream, sink), daemon=True).start()

    def _read(self, name: str, stream: IO[str], sink: list[str]) -> None:
        for line in stream:
            sink.append(line.rstrip("\n"))
            self._lines.put((name, line.rstrip("\n")))

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Until `predicate()` holds (checked whenever a line arrives, and every 0.2 s)."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout:g}s waiting for {what}; stderr: {self.err[-10:]}")
            with contextlib.suppress(queue.Empty):
                self._lines.get(timeout=min(0.2, left))

    def stop(self, sig: int, timeout: float = 15) -> int:
        """Send `sig` and wait for the exit code."""
        self.proc.send_signal(sig)
        return self.proc.wait(timeout)

    def close(self) -> None:
        """Test teardown: stop it and everything it started (a SIGKILL of `minutes up` alone orphans its tree)."""
        if self.proc.poll() is not None:
            return
        try:
            family = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.Error:
            family = []
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(30)
        for member in family:
            with contextlib.suppress(psutil.Error):
                member.kill()
        psutil.wait_procs(family, timeout=10)


def decision(n: int, *, municipality: str = "Vejle", day: dt.date = dt.date(2025, 3, 3)) -> DecisionMade:
    """A DecisionMade event with a unique id."""
    doc = uuid.uuid4().hex * 2
    return DecisionMade(
        event_id=str(uuid.uuid4()),
        municipality=municipality,
        municipality_code=630,
        committee="Økonomiudvalget",
        meeting_date=day,
        item_number=n,
        item_title=f"Punkt {n}",
        case_number=None,
        outcome=Outcome.APPROVED,
        decision_text=f"Godkendt {n}",
        document_id=doc,
        item_id=f"{doc}:{n}",
        item_url=f"minutes://items/{doc}:{n}",
        occurred_at=dt.datetime.now(dt.UTC),
    )


def publish(url: str, events: Sequence[DecisionMade]) -> None:
    """XADD the events to the public stream the way the store's relay does (plain JSON in field `json`)."""
    client = redis.Redis.from_url(url)
    try:
        with client.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.xadd(streams.DECISIONS, {streams.PUBLIC_FIELD: event.model_dump_json()})
            pipe.execute()
    finally:
        client.close()


def blocked_clients(url: str, command: str) -> int:
    """How many clients are blocked in `command` right now (CLIENT LIST flags=b)."""
    client = redis.Redis.from_url(url)
    try:
        return sum(1 for c in client.client_list() if "b" in c.get("flags", "") and c.get("cmd") == command)
    finally:
        client.close()

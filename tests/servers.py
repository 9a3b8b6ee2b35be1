"""A server process for a test (moto, Datasette): started, waited for until it answers, always stopped.

Ports come from `shared.redis_server.free_port`, the one free-port helper of the product and the tests.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def server_process(
    argv: Sequence[str],
    *,
    log: Path,
    ready: Callable[[], bool],
    timeout: float,
    env: Mapping[str, str] | None = None,
    poll: float = 0.1,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run the server `argv` (its output into `log`) for the block; enter once `ready()` is true.

    Fails the test when the server exits first or is not ready within `timeout` s. On leaving: SIGTERM,
    then SIGKILL after 10 s, so no server outlives the fixture that started it.
    """
    name = Path(argv[0]).name
    with log.open("wb") as out:
        proc = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"{name} exited with {proc.returncode}: {log.read_text(errors='replace')[-4000:]}")
                if ready():
                    break
                if time.monotonic() > deadline:
                    pytest.fail(f"{name} did not answer within {timeout:g} s")
                time.sleep(poll)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

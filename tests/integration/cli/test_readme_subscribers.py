"""The documented subscriber examples (docs/subscribing.md), run as written: idle, then they receive."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.cli.helpers import blocked_clients, cli_env, decision, publish

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

README = (Path(__file__).resolve().parents[3] / "docs" / "subscribing.md").read_text(encoding="utf-8")
SECTION = README.split("## Subscribing to decisions", 1)[1].split("\n## ", 1)[0]
# Longer than redis-py 8's default socket timeout (5 s), the one that killed the old example.
IDLE_S = 7.0


def _blocks(lang: str) -> list[str]:
    return [part.split("```", 1)[0] for part in SECTION.split(f"```{lang}\n")[1:]]


PYTHON = _blocks("python")
REDIS_CLI = [line.split("#", 1)[0].strip() for block in _blocks("sh") for line in block.splitlines()]


def test_the_section_has_the_examples() -> None:
    assert len(PYTHON) == 2
    assert any(line.startswith("redis-cli XREAD BLOCK 0") for line in REDIS_CLI)


def _idle_then_receive(cmd: list[str], url: str, blocked_in: str) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cli_env())
    try:
        deadline = time.monotonic() + 20
        while blocked_clients(url, blocked_in) == 0:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, f"the example never blocked in {blocked_in}"
            time.sleep(0.1)
        time.sleep(IDLE_S)  # idle on purpose: the failure being tested is a timeout while nothing arrives
        assert proc.poll() is None, f"the example died while idle: {proc.stderr.read() if proc.stderr else ''}"
        event = decision(7)
        publish(url, [event])
        deadline = time.monotonic() + 10
        assert proc.stdout is not None
        line = proc.stdout.readline()
        while event.decision_text not in line and time.monotonic() < deadline and line:
            line = proc.stdout.readline()
        assert event.decision_text in line
    finally:
        proc.kill()
        proc.wait(10)


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_python_example_idles_then_receives(index: int, redis_url: str) -> None:
    code = f"url = {redis_url!r}\n" + PYTHON[index]
    command = "xreadgroup" if "xreadgroup" in code else "xread"
    _idle_then_receive([sys.executable, "-c", code], redis_url, command)


def test_redis_cli_example_idles_then_receives(redis_url: str) -> None:
    binary = shutil.which("redis-cli")
    assert binary, "redis-cli is needed for this test (Debian package redis-tools)"
    line = next(line for line in REDIS_CLI if line.startswith("redis-cli XREAD"))
    args = line.split()[1:]
    args = [arg.strip("'") for arg in args]  # the shell's quoting of '$'
    _idle_then_receive([binary, "-u", redis_url, *args], redis_url, "xread")

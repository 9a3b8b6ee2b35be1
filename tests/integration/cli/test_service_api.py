"""`minutes service api` as a real process: says where it listens, stops cleanly, refuses a busy port."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
from pathlib import Path

import httpx
import pytest

from services.store.db import migrate
from tests.integration.cli.helpers import Cli, run_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(400)]


def test_serves_says_its_url_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    asyncio.run(migrate(f"sqlite+aiosqlite:///{data / 'minutes.db'}"))
    cli = Cli(["service", "api", "--data", str(data)], tmp_path, MINUTES_API_PORT="0", MINUTES_LOG_FORMAT="json")
    try:
        # Generous: on a loaded 2-core machine the imports alone have taken over a minute.
        cli.wait_for(lambda: any("api listening" in ln for ln in cli.err) or cli.proc.poll() is not None,
                     240, "listening")
        line = next(ln for ln in cli.err if "api listening" in ln)
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        assert httpx.get(found.group(0) + "readyz", timeout=10).json()["status"] == "ready"
        assert cli.stop(signal.SIGTERM, timeout=30) == 0
    finally:
        cli.close()


def test_a_busy_port_is_refused_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = run_cli(
            ["service", "api", "--data", str(tmp_path / "data")], tmp_path, timeout=240, MINUTES_API_PORT=str(port)
        )
    assert done.returncode == 78  # not restarted by `minutes up`
    assert f"api: 127.0.0.1:{port} is in use; set MINUTES_API_PORT" in done.stderr
    assert "Traceback" not in done.stderr

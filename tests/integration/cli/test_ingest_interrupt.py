"""Ctrl-C in the middle of `minutes ingest` prints the partial summary."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from shared.redis_server import RedisServer
from tests.integration.cli.helpers import Cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_ctrl_c_prints_the_partial_summary(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    files = 6000
    for n in range(files):
        (archive / f"referat-{n}.txt").write_text(f"Referat nummer {n}\n", encoding="utf-8")
    server = RedisServer(tmp_path / "redis")
    url = server.start()
    data = tmp_path / "data"
    cli = Cli(["ingest", str(archive), "--data", str(data), "--wait", "0"], tmp_path, MINUTES_REDIS_URL=url)
    try:
        blobs = data / "blobs"
        cli.wait_for(lambda: blobs.exists() and any(blobs.rglob("*")), 60, "the first stored blobs")
        # A frozen Redis holds the backfill mid-way (its next publish waits), so Ctrl-C lands in the middle.
        assert server.process is not None
        server.process.send_signal(signal.SIGSTOP)
        try:
            code = cli.stop(signal.SIGINT, timeout=60)
        finally:
            server.process.send_signal(signal.SIGCONT)
        text = "\n".join(cli.err)
        assert code == 130, text
        assert "Interrupted after" in text and f"of {files} files" in text
        done = int(text.split("Interrupted after ", 1)[1].split()[0])
        assert done < files
        assert "new documents" in text and "total" in text
    finally:
        cli.close()
        server.stop()

"""Ctrl-C in the middle of `minutes ingest` prints the partial summary."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.integration.cli.helpers import Cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_ctrl_c_prints_the_partial_summary(tmp_path: Path, redis_url: str) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    files = 6000
    for n in range(files):
        (archive / f"referat-{n}.txt").write_text(f"Referat nummer {n}\n", encoding="utf-8")
    data = tmp_path / "data"
    cli = Cli(["ingest", str(archive), "--data", str(data), "--wait", "0"], tmp_path, MINUTES_REDIS_URL=redis_url)
    try:
        blobs = data / "blobs"
        # Interrupt once the first documents are stored, long before all of them are.
        cli.wait_for(lambda: blobs.exists() and any(blobs.rglob("*")), 60, "the first stored blobs")
        code = cli.stop(signal.SIGINT, timeout=60)
        text = "\n".join(cli.err)
        assert code == 130, text
        assert "Interrupted after" in text and f"of {files} files" in text
        assert "new documents" in text and "total" in text
    finally:
        cli.close()

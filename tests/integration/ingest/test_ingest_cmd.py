"""`minutes ingest` as a function: progress, the count table, exit codes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from minutes_cli.ingest_cmd import ingest
from shared.settings import Settings
from tests.integration.ingest.helpers import make_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, force_terminal=False), out


def test_ingest_prints_counts_and_rejections(tmp_path: Path, redis_url: str) -> None:
    settings = make_settings(tmp_path, redis_url)
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "a.txt").write_text("Referat a")
    (folder / "b.txt").write_text("Referat a")
    (folder / "empty.pdf").write_bytes(b"")
    console, out = _console()
    assert ingest([folder], settings, console) == 1
    text = out.getvalue()
    assert "new documents" in text
    assert "already known" in text
    assert "rejected: empty file" in text
    assert str(folder / "empty.pdf") in text


def test_ingest_all_good_exits_zero(tmp_path: Path, redis_url: str) -> None:
    settings = make_settings(tmp_path, redis_url)
    (tmp_path / "a.txt").write_text("Referat")
    console, _ = _console()
    assert ingest([tmp_path / "a.txt"], settings, console) == 0


def test_ingest_without_redis_explains(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", redis_url=None)
    console, out = _console()
    assert ingest([tmp_path], settings, console) == 2
    assert "minutes up" in out.getvalue()

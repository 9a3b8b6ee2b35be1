"""`minutes up` passes MINUTES_PUBLIC_URL to every process it starts (links in notifications and feeds), also
when it came from `.env` rather than the environment; none when it is unset."""

from __future__ import annotations

from pathlib import Path

import pytest

from minutes_cli.supervisor import Stack
from shared.settings import Settings


def test_every_started_process_gets_the_public_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MINUTES_PUBLIC_URL", raising=False)
    (tmp_path / ".env").write_text("MINUTES_PUBLIC_URL=https://referater.example.dk\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    from_file = Settings(data_dir=tmp_path / "data")
    assert Stack(from_file)._env()["MINUTES_PUBLIC_URL"] == "https://referater.example.dk/"
    unset = Settings(data_dir=tmp_path / "data", _env_file=None)  # type: ignore[call-arg]
    assert "MINUTES_PUBLIC_URL" not in Stack(unset)._env()

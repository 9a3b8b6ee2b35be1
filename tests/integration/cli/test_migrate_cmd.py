"""`minutes migrate` says what it did."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.cli.helpers import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_migrate_reports_created_then_nothing_to_do(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = run_cli(["migrate", "--data", str(data)], tmp_path)
    assert first.returncode == 0, first.stderr
    assert "schema created at" in first.stdout
    assert (data / "minutes.db").is_file()
    again = run_cli(["migrate", "--data", str(data)], tmp_path)
    assert again.returncode == 0
    assert "already at" in again.stdout and "nothing to do" in again.stdout
    head = first.stdout.split("schema created at ", 1)[1].split()[0]
    assert f"already at {head}" in again.stdout

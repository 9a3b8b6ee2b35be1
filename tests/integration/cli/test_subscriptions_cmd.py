"""`minutes subscriptions` as a process on a migrated SQLite data dir: add, refusals, list, disable, remove."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from services.store.db import migrate
from tests.integration.cli.helpers import run_cli

pytestmark = pytest.mark.integration


def test_subscriptions_commands(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    asyncio.run(migrate(f"sqlite+aiosqlite:///{data / 'minutes.db'}"))
    base = ["subscriptions"]

    refused = run_cli([*base, "add", "--webhook", "ftp://example.org/x", "--data", str(data)], tmp_path)
    assert refused.returncode == 2 and "only http and https" in refused.stderr
    private = run_cli([*base, "add", "--webhook", "http://127.0.0.1:9/hook", "--data", str(data)], tmp_path)
    assert private.returncode == 2 and "MINUTES_ALLOW_PRIVATE_URLS" in private.stderr

    added = run_cli(
        [*base, "add", "--webhook", "http://127.0.0.1:9/hook", "--committee", "Økonomi", "--json", "--data", str(data)],
        tmp_path, MINUTES_ALLOW_PRIVATE_URLS="true",
    )
    assert added.returncode == 0, added.stderr
    created = json.loads(added.stdout)
    assert created["secret"].startswith("whsec_") and created["committee"] == "Økonomi"

    listed = run_cli([*base, "list", "--json", "--data", str(data)], tmp_path)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["id"] for r in rows] == [created["id"]]
    assert "secret" not in rows[0] and created["secret"] not in listed.stdout  # shown once, at creation

    assert run_cli([*base, "disable", created["id"], "--data", str(data)], tmp_path).returncode == 0
    listed = run_cli([*base, "list", "--json", "--data", str(data)], tmp_path)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert rows[0]["enabled"] is False and rows[0]["disabled_reason"] == "disabled by hand"

    unknown = run_cli([*base, "remove", "nope", "--data", str(data)], tmp_path)
    assert unknown.returncode == 2 and "no subscription 'nope'" in unknown.stderr
    assert run_cli([*base, "remove", created["id"], "--data", str(data)], tmp_path).returncode == 0
    assert run_cli([*base, "list", "--json", "--data", str(data)], tmp_path).stdout.strip() == ""


def test_replay_since_before_1970_is_refused_with_a_reason(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    asyncio.run(migrate(f"sqlite+aiosqlite:///{data / 'minutes.db'}"))
    done = run_cli(["subscriptions", "replay", "--since", "1960-01-01", "--data", str(data)], tmp_path)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "1970-01-01" in done.stderr and "--since" in done.stderr
    assert "Traceback" not in done.stderr

"""`minutes decisions` (stored) as a real process: every row with --json, the TTY says what it left out."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from services.store.db import create_engine, migrate
from services.store.repository import store_events
from shared.contracts.events import decision_event_id, utcnow
from tests.integration.cli.helpers import cli_env, run_cli
from tests.unit.store.factories import header, meeting

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

MEETINGS, ITEMS = 100, 30


async def _fill(url: str) -> set[str]:
    """3,000 decisions through the store's repository; returns their event ids as the store defines them."""
    await migrate(url)
    engine = create_engine(url)
    expected = set()
    try:
        async with engine.begin() as conn:
            for n in range(MEETINGS):
                # One meeting per day: documents of one committee on one day would be versions of each other.
                day = dt.date(2020, 1, 1) + dt.timedelta(days=n)
                parsed, items = meeting(f"backfill-{n}", ITEMS, hdr=header(day=day))
                await store_events(conn, [parsed, *items], now=utcnow(), public_base_url="minutes://items/")
                expected |= {decision_event_id(parsed.document_id, pos) for pos in range(ITEMS)}
    finally:
        await engine.dispose()
    return expected


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    data = tmp_path_factory.mktemp("filled") / "data"
    data.mkdir()
    return data, asyncio.run(_fill(f"sqlite+aiosqlite:///{data / 'minutes.db'}"))


def test_json_prints_every_one_of_3000_decisions(filled: tuple[Path, set[str]], tmp_path: Path) -> None:
    data, expected = filled
    assert len(expected) == MEETINGS * ITEMS
    done = run_cli(["decisions", "--json", "--data", str(data)], tmp_path)
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["event_id"] for line in done.stdout.splitlines()]
    assert len(ids) == len(expected)
    assert set(ids) == expected


def test_a_pipe_gets_every_row_and_limit_cuts(filled: tuple[Path, set[str]], tmp_path: Path) -> None:
    data, expected = filled
    piped = run_cli(["decisions", "--data", str(data)], tmp_path)
    assert len(piped.stdout.splitlines()) == len(expected)
    limited = run_cli(["decisions", "--data", str(data), "--limit", "7"], tmp_path)
    assert len(limited.stdout.splitlines()) == 7


def test_a_terminal_table_says_how_many_it_left_out(filled: tuple[Path, set[str]], tmp_path: Path) -> None:
    data, expected = filled
    leader, follower = os.openpty()
    env = cli_env(COLUMNS="80", LINES="50", TERM="xterm")
    proc = subprocess.Popen(
        [sys.executable, "-m", "minutes_cli.main", "decisions", "--data", str(data), "--limit", "5"],
        cwd=tmp_path, env=env, stdin=follower, stdout=follower, stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(60) == 0
    os.close(leader)
    screen = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode(errors="replace"))
    assert f"showing 5 of {len(expected)}" in screen
    assert "--json" in screen
    # At 80 columns the table wraps between words: the factory's decision texts stay whole.
    assert screen.count("Indstillingen") == 5, screen


def test_an_empty_data_dir_gets_a_short_error_and_stays_empty(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run_cli(["decisions", "--data", str(empty)], tmp_path)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert 1 <= len(done.stderr.strip().splitlines()) <= 2, done.stderr
    assert "minutes migrate" in done.stderr or "minutes up" in done.stderr
    assert list(empty.iterdir()) == []
    typo = run_cli(["decisions", "--data", str(tmp_path / "typo")], tmp_path)
    assert typo.returncode != 0 and "no data dir" in typo.stderr
    assert not (tmp_path / "typo").exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    done = run_cli(["--debug", "decisions", "--data", str(tmp_path / "typo")], tmp_path)
    assert done.returncode != 0
    assert "Traceback" in done.stderr


def test_a_database_without_schema_says_migrate(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "minutes.db").write_bytes(b"")
    done = run_cli(["decisions", "--json", "--data", str(tmp_path / "data")], tmp_path)
    assert done.returncode != 0
    assert "minutes migrate" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.postgres
def test_json_streams_every_row_from_postgres(fresh_postgres_url: str, tmp_path: Path) -> None:
    # asyncpg streams through a server-side cursor inside a transaction: the other path of stream_decisions.
    expected = asyncio.run(_fill(fresh_postgres_url))
    done = run_cli(["decisions", "--json"], tmp_path, MINUTES_DATABASE_URL=fresh_postgres_url)
    assert done.returncode == 0, done.stderr
    ids = [json.loads(line)["event_id"] for line in done.stdout.splitlines()]
    assert len(ids) == len(expected) and set(ids) == expected

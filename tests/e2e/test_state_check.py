"""State checked at start and on demand: a truncated AOF is reported and its lost announcements are
re-announced once; an accepted document whose DocumentReceived Redis lost is published again and parsed;
a corrupted SQLite database refuses to start with a message saying what to do."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis

from minutes_cli.supervisor import StartRefused
from services.ingest.backfill import backfill
from shared import streams
from shared.redis_server import RedisServer, generated_password
from shared.settings import Settings
from tests.conftest import SEEDS
from tests.e2e.harness import drop_seeds, expected_decisions, make_stack, read_decisions, wait_for
from tests.settings import TestSettings

pytestmark = pytest.mark.e2e


def _minutes(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "minutes_cli.main", *args], env={**os.environ, **env}, capture_output=True,
        text=True, timeout=120,
    )


def _drained(url: str) -> bool:
    """Every internal stream read and acknowledged by its group."""
    client = redis.Redis.from_url(url)
    try:
        for stream, group in ((streams.DOCUMENTS, streams.PARSER_GROUP), (streams.ITEMS, streams.STORE_GROUP)):
            info = {g["name"].decode(): g for g in client.xinfo_groups(stream)}[group]
            if info["pending"] or info.get("lag"):
                return False
        return True
    finally:
        client.close()


def _dead_letters(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.xlen(streams.DEAD_LETTER))
    finally:
        client.close()


def test_a_truncated_aof_is_reported_and_the_lost_announcements_are_reannounced_once(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}"
    want = len(expected_decisions())
    stack = make_stack(tmp_path, database_url)
    url = stack.start()
    try:
        drop_seeds(stack.settings.inbox)
        wait_for(lambda: len(read_decisions(url)) >= want, 90, f"{want} decisions")
    finally:
        stack.stop()
    folder = tmp_path / "data" / "redis"
    aofs = sorted(folder.glob("appendonlydir/*.incr.aof")) or [folder / "appendonly.aof"]
    aof = aofs[-1]
    with aof.open("r+b") as handle:  # half of it lost, as after a crash of the disk under it
        handle.truncate(aof.stat().st_size // 2)

    done = _minutes(["check"], {"MINUTES_DATA_DIR": str(tmp_path / "data"), "MINUTES_DATABASE_URL": database_url,
                                "MINUTES_REDIS_URL": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "truncated append-only file" in done.stdout, done.stdout
    found = re.search(r"re-announced (\d+) decisions", done.stdout)
    assert found, done.stdout
    reannounced = int(found.group(1))
    assert 0 < reannounced <= want

    again = make_stack(tmp_path, database_url)
    url = again.start()
    try:
        wait_for(lambda: len(read_decisions(url)) >= want, 60, f"{want} decisions after the restart")
        # Ingest republishes what the lost AOF forgot; let the pipeline finish before counting.
        wait_for(lambda: _drained(url), 60, "the pipeline to drain")
        # A sentinel dropped after ingest's start-up scan (which republishes what the lost AOF forgot): once it
        # is dead-lettered and the streams are drained again, everything published before it was stored.
        before = _dead_letters(url)
        (again.settings.inbox / "zz-sentinel.pdf").write_bytes(b"not a pdf at all")
        wait_for(lambda: _dead_letters(url) > before, 60, "the sentinel dead-lettered")
        wait_for(lambda: _drained(url), 60, "the pipeline to drain after the sentinel")
        events = read_decisions(url)
        assert len(events) == want
        assert max(Counter(e.event_id for e in events).values()) == 1
    finally:
        again.stop()


def test_an_accepted_document_whose_announcement_redis_lost_is_parsed_after_the_check(
    tmp_path: Path, test_settings: TestSettings
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}"
    data = tmp_path / "data"
    env = {"MINUTES_DATA_DIR": str(data), "MINUTES_DATABASE_URL": database_url, "MINUTES_REDIS_URL": "",
           "MINUTES_LOST_DOCUMENTS_GRACE_S": "0"}
    assert _minutes(["migrate"], env).returncode == 0
    seed = sorted(SEEDS.glob("*.txt"))[0]
    want = sum(1 for file, _number in expected_decisions() if file == seed.name)
    assert want
    dropped = tmp_path / "drop" / seed.name
    dropped.parent.mkdir()
    dropped.write_bytes(seed.read_bytes())

    # Ingest accepts the file on the data dir's Redis (bytes and record stored, DocumentReceived published,
    # marked seen); then Redis loses the entry, as an OS crash under `everysec` would, and keeps the mark.
    folder = data / "redis"
    server = RedisServer(folder, binary=test_settings.redis_server_bin, password=generated_password(folder))
    url = server.start()
    try:
        settings = Settings(redis_url=url, data_dir=data, inbox=tmp_path / "inbox", _env_file=None)
        assert asyncio.run(backfill([dropped], settings)).new == 1
        client = redis.Redis.from_url(url)
        try:
            entries: Any = client.xrange(streams.DOCUMENTS)
            client.xdel(streams.DOCUMENTS, *[entry_id for entry_id, _ in entries])
            assert client.xlen(streams.DOCUMENTS) == 0 and client.hlen(streams.SEEN_KEY) == 1
        finally:
            client.close()
    finally:
        server.stop()

    done = _minutes(["check"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 documents accepted but never parsed: re-published" in done.stdout, done.stdout

    stack = make_stack(tmp_path, database_url, MINUTES_LOST_DOCUMENTS_GRACE_S="0")
    url = stack.start()  # its own check (and the store's at start) find the document in flight: no second copy
    try:
        wait_for(lambda: len(read_decisions(url)) >= want, 90, f"{want} decisions of the recovered document")
        wait_for(lambda: _drained(url), 60, "the pipeline to drain")
        again = _minutes(["check"], env)  # on the running stack: the document is stored now
        assert again.returncode == 0, again.stdout + again.stderr
        assert "accepted but never parsed" not in again.stdout, again.stdout
        events = read_decisions(url)
        assert len(events) == want
        assert max(Counter(e.event_id for e in events).values()) == 1
    finally:
        stack.stop()
    conn = sqlite3.connect(tmp_path / "minutes.db")
    try:  # stored under its own name, from the blob's record
        assert conn.execute("SELECT original_name FROM documents").fetchall() == [(seed.name,)]
    finally:
        conn.close()


def _corrupt(path: Path) -> None:
    """Scribble over every page but the header: quick_check fails, the file still opens."""
    size = path.stat().st_size
    with path.open("r+b") as handle:
        for page in range(2, size // 4096):
            handle.seek(page * 4096 + 8)
            handle.write(b"\xde\xad\xbe\xef" * 200)
    conn = sqlite3.connect(path)
    try:
        # Either quick_check lists damage, or (when the scribble hits the schema's own pages, as it does now that
        # the store has more tables) SQLite refuses the file outright: both are a corrupt database.
        with contextlib.suppress(sqlite3.DatabaseError):
            assert conn.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    finally:
        conn.close()


def test_a_corrupted_sqlite_database_refuses_to_start_with_what_to_do(tmp_path: Path, redis_url: str) -> None:
    db = tmp_path / "data" / "minutes.db"
    database_url = f"sqlite+aiosqlite:///{db}"
    migrated = _minutes(["migrate"], {"MINUTES_DATABASE_URL": database_url, "MINUTES_DATA_DIR": str(db.parent)})
    assert migrated.returncode == 0, migrated.stderr
    _corrupt(db)

    stack = make_stack(tmp_path, database_url)
    with pytest.raises(StartRefused) as refused:
        stack.start()
    message = str(refused.value)
    assert "corrupt" in message or "quick_check" in message
    assert "restore it from a backup" in message
    assert stack.redis is not None and stack.redis.pid is None  # nothing left running
    assert not stack.children

    # The store alone (as compose runs it) refuses too, with the same advice, and is not restarted.
    done = _minutes(["service", "store"], {"MINUTES_DATABASE_URL": database_url, "MINUTES_REDIS_URL": redis_url,
                                            "MINUTES_DATA_DIR": str(db.parent)})
    assert done.returncode == 78
    assert "is corrupt" in done.stderr and "restore" in done.stderr

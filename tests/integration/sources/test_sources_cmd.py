"""`minutes sources` as a user runs it, against the stand-in portal, a migrated SQLite and the session Redis
(no parser or store: what a poll hands to the pipeline is on the documents stream)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
import redis

from services.store.db import migrate
from shared import streams
from tests.integration.cli.helpers import run_cli
from tests.integration.sources.portal import greve_meetings, serve

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def _followed(committee: str) -> bool:
    """The committees `--committee byråd --committee Økonomi` follow: a part of the name, any case."""
    return "byråd" in committee.casefold() or "økonomi" in committee.casefold()


def test_add_list_backfill_poll_remove(tmp_path: Path, redis_url: str) -> None:
    db = tmp_path / "data" / "minutes.db"
    db.parent.mkdir()
    asyncio.run(migrate(f"sqlite+aiosqlite:///{db}"))
    env = {"MINUTES_REDIS_URL": redis_url, "MINUTES_DATA_DIR": str(tmp_path / "data"),
           "MINUTES_SOURCES_MIN_INTERVAL_S": "0"}

    def cli(*args: str, **extra: str) -> object:
        return run_cli(list(args), tmp_path, timeout=120, **env, **extra)

    with serve() as portal:
        refused = cli("sources", "add", "firstagenda", portal.url)
        assert refused.returncode != 0 and "MINUTES_ALLOW_PRIVATE_URLS" in refused.stderr + refused.stdout
        allow = {"MINUTES_ALLOW_PRIVATE_URLS": "true"}
        added = cli("sources", "add", "firstagenda", portal.url, "--name", "greve", "--municipality", "Greve",
                    "--committee", "byråd", "--committee", "Økonomi", "--since", "2024-01-01", **allow)
        assert added.returncode == 0, added.stderr
        assert cli("sources", "add", "firstagenda", portal.url, "--name", "greve", **allow).returncode != 0
        [row] = [json.loads(line) for line in cli("sources", "list", "--json").stdout.splitlines()]
        assert (row["municipality"], row["committees"], row["since"], row["meetings_seen"]) == (
            "Greve", ["byråd", "Økonomi"], "2024-01-01", 0
        )

        # Filters: the meetings of `Byråd 2022-2025` and Økonomiudvalget from 2024 on, nothing else.
        wanted = [m for m in greve_meetings() if _followed(m.committee)
                  and m.entry["Dato"] >= "2024-01-01"]
        polled = cli("sources", "poll", "greve", **allow)
        assert polled.returncode == 0, polled.stderr
        assert f"{len(wanted)} fetched" in polled.stdout
        assert sorted(portal.meeting_requests()) == sorted(m.id for m in wanted)

        # A backfill moves the since-date back and fetches only what was not fetched yet.
        older = [m for m in greve_meetings() if _followed(m.committee)
                 and m.entry["Dato"] < "2024-01-01" and m.entry["Dato"] >= "2023-01-01"]
        backfilled = cli("sources", "backfill", "greve", "--since", "2023-01-01", **allow)
        assert backfilled.returncode == 0, backfilled.stderr
        assert f"{len(older)} fetched" in backfilled.stdout
        assert sorted(portal.meeting_requests()) == sorted(m.id for m in wanted + older)
        client = redis.Redis.from_url(redis_url)
        try:
            assert client.xlen(streams.DOCUMENTS) == len(wanted) + len(older)
        finally:
            client.close()
        [row] = [json.loads(line) for line in cli("sources", "list", "--json").stdout.splitlines()]
        assert row["meetings_seen"] == len(wanted) + len(older) and row["since"] == "2023-01-01"
        assert row["error"] is None and row["last_ok_at"] is not None

        assert cli("sources", "remove", "greve").returncode == 0
        assert cli("sources", "list", "--json").stdout.strip() == ""
        missing = cli("sources", "poll", "greve", **allow)
        assert missing.returncode != 0 and "no source named 'greve'" in missing.stderr + missing.stdout

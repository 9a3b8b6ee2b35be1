"""The sources endpoints over a real uvicorn: reads open, writes with the bearer token, URLs checked as for
webhooks (a private address refused unless MINUTES_ALLOW_PRIVATE_URLS), a poll asked for makes it due now."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from services.ingest.sources import state
from services.store.db import create_engine, migrate
from tests.integration.api.live_helpers import live_settings, serving

pytestmark = pytest.mark.integration
TOKEN = "test-token-of-this-api"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
GREVE = {"type": "firstagenda", "url": "http://127.0.0.1:9/", "name": "greve", "municipality": "Greve",
         "committees": ["Byråd"], "since": "2024-01-01"}


async def test_sources_over_the_api(database_url: str, redis_url: str, tmp_path: Path) -> None:
    await migrate(database_url)
    strict = live_settings(database_url, redis_url, tmp_path / "data", api_token=TOKEN)
    with serving(strict) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            assert (await client.post("/api/v1/sources", json=GREVE)).status_code == 401
            refused = await client.post("/api/v1/sources", json=GREVE, headers=AUTH)
            assert refused.status_code == 400 and "MINUTES_ALLOW_PRIVATE_URLS" in refused.json()["error"]
    allowing = live_settings(database_url, redis_url, tmp_path / "data", api_token=TOKEN, allow_private_urls=True)
    with serving(allowing) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            bad_type = await client.post("/api/v1/sources", json={**GREVE, "type": "ftp"}, headers=AUTH)
            assert bad_type.status_code == 400 and "firstagenda" in bad_type.json()["error"]
            created = await client.post("/api/v1/sources", json=GREVE, headers=AUTH)
            assert created.status_code == 201, created.text
            assert created.json()["url"] == "http://127.0.0.1:9" and created.json()["committees"] == ["Byråd"]
            again = await client.post("/api/v1/sources", json=GREVE, headers=AUTH)
            assert again.status_code == 400 and "exists" in again.json()["error"]
            listing = (await client.get("/api/v1/sources")).json()  # reads are open
            assert [(s["name"], s["meetings_seen"], s["error"], s["since"]) for s in listing] == [
                ("greve", 0, None, "2024-01-01")
            ]
            assert (await client.post("/api/v1/sources/greve/poll")).status_code == 401
            assert (await client.post("/api/v1/sources/nope/poll", headers=AUTH)).status_code == 404
            before = dt.datetime.now(dt.UTC)
            assert (await client.post("/api/v1/sources/greve/poll", headers=AUTH)).status_code == 202
            engine = create_engine(database_url)
            try:
                due = (await state.get_source(engine, "greve")).next_poll_at
            finally:
                await engine.dispose()
            assert due is not None and due >= before - dt.timedelta(seconds=1)
            assert (await client.delete("/api/v1/sources/greve")).status_code == 401
            assert (await client.delete("/api/v1/sources/greve", headers=AUTH)).status_code == 204
            assert (await client.delete("/api/v1/sources/greve", headers=AUTH)).status_code == 404
            assert (await client.get("/api/v1/sources")).json() == []

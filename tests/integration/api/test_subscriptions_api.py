"""The subscription endpoints over a real uvicorn, on SQLite and PostgreSQL: bearer token in constant time,
secrets shown once, the life of a subscription (add, show, attempts, enable, replay, remove)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from services.store.db import create_engine, migrate
from tests.integration.api.live_helpers import live_settings, publish, serving
from tests.unit.store.factories import header, meeting

pytestmark = pytest.mark.integration
TOKEN = "test-token-of-this-api"
HOOK = {"name": "city desk", "committee": "teknisk", "channel": "webhook", "url": "http://127.0.0.1:9/hook"}


async def test_without_a_configured_token_subscriptions_are_refused_with_a_reason(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    await migrate(database_url)
    with serving(live_settings(database_url, redis_url, tmp_path / "data")) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            post = await client.post("/api/v1/subscriptions", json=HOOK, headers={"Authorization": f"Bearer {TOKEN}"})
            listing = await client.get("/api/v1/subscriptions")
            other_write = await client.post("/api/v1/decisions", json={})
    assert post.status_code == 403 and "MINUTES_API_TOKEN" in post.json()["error"]
    assert listing.status_code == 403
    assert other_write.status_code == 405  # the rest of the API stays read-only


async def test_token_protected_writes_and_the_life_of_a_subscription(
    database_url: str, redis_url: str, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        m, items = meeting("subs-api", 2, hdr=header(committee="Teknisk Udvalg", day=dt.date(2025, 5, 5)))
        await publish(engine, redis_client, [m, *items])
    finally:
        await engine.dispose()
    settings = live_settings(database_url, redis_url, tmp_path / "data", api_token=TOKEN, allow_private_urls=True)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with serving(settings) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            missing = await client.post("/api/v1/subscriptions", json=HOOK)
            wrong = await client.post("/api/v1/subscriptions", json=HOOK, headers={"Authorization": "Bearer nope"})
            basic = await client.post("/api/v1/subscriptions", json=HOOK, headers={"Authorization": f"Basic {TOKEN}"})
            assert (missing.status_code, wrong.status_code, basic.status_code) == (401, 401, 401)
            assert (await client.get("/api/v1/subscriptions")).status_code == 401

            created = await client.post("/api/v1/subscriptions", json=HOOK, headers=auth)
            assert created.status_code == 201, created.text
            body = created.json()
            sub_id, secret = body["id"], body["secret"]
            assert secret.startswith("whsec_") and body["committee"] == "teknisk" and body["enabled"] is True

            listing = await client.get("/api/v1/subscriptions", headers=auth)
            one = await client.get(f"/api/v1/subscriptions/{sub_id}", headers=auth)
            assert [s["id"] for s in listing.json()] == [sub_id]
            # The secret was shown once, in the answer to the POST; never again.
            assert secret not in listing.text and secret not in one.text and "secret" not in one.json()

            refused = await client.post(
                "/api/v1/subscriptions", json={**HOOK, "url": "ftp://127.0.0.1/x"}, headers=auth
            )
            assert refused.status_code == 400 and refused.json()["error"]

            attempts = await client.get(f"/api/v1/subscriptions/{sub_id}/attempts", headers=auth)
            assert attempts.status_code == 200 and attempts.json() == []
            enabled = await client.post(f"/api/v1/subscriptions/{sub_id}/enable", headers=auth)
            assert enabled.status_code == 200 and enabled.json()["enabled"] is True
            replayed = await client.post(
                f"/api/v1/subscriptions/{sub_id}/replay", params={"since": "2000-01-01T00:00:00Z"}, headers=auth
            )
            # Both decisions of the stored meeting match the subscription's committee filter.
            assert replayed.status_code == 200 and replayed.json()["enqueued"] == 2
            # A time no stream id can stand for is the request's mistake, said as such (was a 500).
            for since in ("1960-01-01T00:00:00Z", "1969-12-31T23:59:59"):
                early = await client.post(
                    f"/api/v1/subscriptions/{sub_id}/replay", params={"since": since}, headers=auth
                )
                assert early.status_code == 400, early.text
                assert early.json()["error"].startswith("since:") and "1970" in early.json()["error"]
            after = await client.get(f"/api/v1/subscriptions/{sub_id}", headers=auth)
            assert after.json()["pending"] == 2

            gone = await client.delete(f"/api/v1/subscriptions/{sub_id}", headers=auth)
            assert gone.status_code == 204
            assert (await client.get(f"/api/v1/subscriptions/{sub_id}", headers=auth)).status_code == 404
            assert (await client.delete(f"/api/v1/subscriptions/{sub_id}", headers=auth)).status_code == 404


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("json://127.0.0.1:{port}/notify", "127.0.0.1, loopback"),
        ("form://127.0.0.1:{port}/notify", "127.0.0.1, loopback"),
        ("xml://127.0.0.1:{port}/notify", "127.0.0.1, loopback"),
        ("json://169.254.169.254/latest/meta-data", "169.254.169.254, link-local"),
        ("json://100.100.100.200/latest/meta-data", "100.100.100.200, shared address space"),
    ],
)
async def test_apprise_urls_to_private_hosts_are_refused_unless_allowed(
    database_url: str, redis_url: str, tmp_path: Path, url: str, address: str
) -> None:
    await migrate(database_url)
    spec = {"channel": "apprise", "url": url.format(port=8099)}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    strict = live_settings(database_url, redis_url, tmp_path / "data", api_token=TOKEN)
    with serving(strict) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            refused = await client.post("/api/v1/subscriptions", json=spec, headers=auth)
            listing = await client.get("/api/v1/subscriptions", headers=auth)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert f"resolves to {address}" in error and "MINUTES_ALLOW_PRIVATE_URLS=true" in error
    assert listing.json() == []  # nothing stored
    allowing = live_settings(database_url, redis_url, tmp_path / "data", api_token=TOKEN, allow_private_urls=True)
    with serving(allowing) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            created = await client.post("/api/v1/subscriptions", json=spec, headers=auth)
    assert created.status_code == 201, created.text

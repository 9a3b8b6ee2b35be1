"""A journalist follows a committee and opens the notification's link (issue 23), in Chromium on a real
meeting: the subscription is made through the read API (bearer token), the store and the alerts worker run as
in production on a real Redis and SQLite, Apprise's json:// posts to a receiver on loopback, and the link in
the Danish message — under MINUTES_PUBLIC_URL, here the running page's own address — opens the decision."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from playwright.sync_api import Page, expect

from services.alerts.messages import municipality_name
from services.parser.events import meeting_events
from services.store.db import create_engine, migrate
from shared.settings import Settings
from tests.browser.conftest import documented
from tests.integration.alerts.conftest import Receiver, caught_up, running_stack, wait_for
from tests.integration.api.server import running_api
from tests.integration.store.corpus_store import StoredDoc, corpus

pytestmark = pytest.mark.integration

TOKEN = "a-token-for-the-test"


def _followed() -> StoredDoc:
    """A real meeting whose municipality and committee are known and which decided something."""
    return next(d for d in corpus() if d.meeting.municipality and d.meeting.committee and d.meeting.decisions)


async def _follow_and_be_told(settings: Settings, api: str, doc: StoredDoc) -> list[dict[str, str]]:
    """Follow the meeting's committee through the API, store the meeting as the store does, and return the
    messages the receiver got once the alerts worker has caught up."""
    receiver = Receiver()
    await receiver.start()
    engine = create_engine(settings.database_url)
    redis = aioredis.Redis.from_url(settings.redis_url)
    try:
        async with httpx.AsyncClient(base_url=api.rstrip("/"), timeout=30) as client:
            made = await client.post(
                "/api/v1/subscriptions",
                headers={"Authorization": f"Bearer {TOKEN}"},
                json={"channel": "apprise", "url": f"json://127.0.0.1:{receiver.port}/follow",
                      "committee": doc.meeting.committee},
            )
            assert made.status_code in (200, 201), made.text
        async with running_stack(settings, engine, redis) as stack:
            parsed, *items = meeting_events(doc.received, doc.meeting)
            await stack.publish((parsed, items))  # type: ignore[arg-type]
            await wait_for(lambda: receiver.on("/follow"), 30, "a notification")
            await wait_for(lambda: caught_up(engine, redis), 30, "the alerts worker caught up")
    finally:
        await receiver.stop()
        await redis.aclose()
        await engine.dispose()
    return [json.loads(r.body) for r in receiver.on("/follow")]


def test_follow_a_committee_and_the_notifications_link_opens_the_decision(
    redis_url: str, tmp_path: Path, page: Page
) -> None:
    doc = _followed()
    data = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{data / 'minutes.db'}"
    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API holds this thread's event loop
        pool.submit(asyncio.run, migrate(url)).result(120)
    api_settings = Settings(database_url=url, data_dir=data, redis_url=redis_url, api_token=TOKEN,
                            allow_private_urls=True, _env_file=None)  # type: ignore[call-arg]
    with running_api(api_settings) as base:
        settings = Settings(**{**api_settings.model_dump(), "public_url": base.rstrip("/"),
                               "alerts_poll_s": 0.1, "claim_idle_ms": 1000}, _env_file=None)
        with ThreadPoolExecutor(1) as pool:
            messages = pool.submit(asyncio.run, _follow_and_be_told(settings, base, doc)).result(180)

        decided = doc.meeting.decisions
        assert len(messages) == len(decided)
        message = messages[0]
        where = municipality_name(doc.meeting.municipality, "da")
        assert where and message["title"].startswith(f"{where} · {doc.meeting.committee}: ")
        lines = message["message"].splitlines()
        assert lines[0].startswith("Ny afgørelse: ")
        link = lines[-1].removeprefix("Se afgørelsen: ")
        assert link.startswith(f"{base}meetings/{doc.received.document_id}#item-")

        page.goto(link)
        anchor = link.split("#", 1)[1]
        item = page.locator(f"#{anchor}")
        expect(item).to_be_visible()
        expect(item).to_be_in_viewport()  # the page opens at the decision, not at its top
        title = message["title"].split(": ", 1)[1]
        expect(item.locator("h3")).to_contain_text(title)
        told = next(it for it in decided if title.startswith(f"{it.number}. "))
        assert told.decision is not None
        expect(item.locator(".decision-text")).to_contain_text(told.decision.text.split("\n")[0][:60])
        documented(page, "notification-link", full_page=False)

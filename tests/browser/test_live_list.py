"""The result list updates live from the SSE stream in a real browser (headless Debian Chromium), and only
with decisions that match the page's filter; without JavaScript the page is the plain server-rendered list."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from playwright.sync_api import Browser, Page, expect

from services.store.db import create_engine, migrate
from shared.settings import Settings
from tests.browser.conftest import screenshot
from tests.integration.api.live_helpers import publish
from tests.integration.api.server import running_api
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration


def _run(coro: object) -> None:
    # Playwright's sync API runs an event loop in this thread: the store works from another, as a process would.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result(60)  # type: ignore[arg-type]


async def _publish(settings: Settings, redis_url: str, seed: str, committee: str, text: str, day: int) -> str:
    """One meeting (its own date: the same committee on the same date would be a new version of it)."""
    engine = create_engine(settings.effective_database_url)
    client = aioredis.Redis.from_url(redis_url)
    try:
        m, items = meeting(seed, hdr=header(committee=committee, day=dt.date(2031, 1, day)), items=[item(1, text=text)])
        await publish(engine, client, [m, *items])
        return items[0].item.title
    finally:
        await client.aclose()
        await engine.dispose()


@pytest.fixture
def live_site(redis_url: str, tmp_path: Path) -> Iterator[tuple[str, Settings]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}"
    settings = Settings(database_url=url, redis_url=redis_url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    _run(migrate(url))
    _run(_publish(settings, redis_url, "live-before", "Teknisk Udvalg", "Godkendt før siden blev åbnet.", 2))
    with running_api(settings) as base:
        yield base, settings


def test_a_matching_decision_appears_in_the_open_result_list(
    live_site: tuple[str, Settings], redis_url: str, page: Page
) -> None:
    base, settings = live_site
    page.goto(f"{base}?committee=teknisk")
    expect(page.locator("#result-list > li")).to_have_count(1)
    # The page's script has the stream open and says where it reads from.
    expect(page.locator("#result-list[data-live-state=listening]")).to_have_count(1)
    _run(_publish(settings, redis_url, "live-other", "Børneudvalget", "Ikke for denne side.", 3))
    _run(_publish(settings, redis_url, "live-match", "Teknisk Udvalg", "Vedtaget mens siden var åben.", 4))
    first = page.locator("#result-list > li").first
    expect(first).to_contain_text("Vedtaget mens siden var åben.")
    expect(first.locator(".live-badge")).to_have_text("ny")
    # The other committee's decision (published first) never showed: one new row, above the one there was.
    expect(page.locator("#result-list > li")).to_have_count(2)
    expect(page.locator("#result-list")).not_to_contain_text("Ikke for denne side.")
    href = first.locator("h3 a").get_attribute("href") or ""
    assert href.startswith("/meetings/") and href.endswith("#item-0")
    screenshot(page, "live-result-list")


def test_without_javascript_the_list_is_the_server_rendered_one(
    live_site: tuple[str, Settings], browser: Browser
) -> None:
    base, _ = live_site
    context = browser.new_context(java_script_enabled=False, locale="da-DK")
    try:
        page = context.new_page()
        page.goto(f"{base}?committee=teknisk")
        expect(page.locator("#result-list > li")).to_have_count(1)
        expect(page.locator("#result-list")).to_contain_text("Godkendt før siden blev åbnet.")
        feed = page.locator("a[type='application/atom+xml']")
        expect(feed).to_have_attribute("href", "/feeds/decisions.atom?committee=teknisk")
    finally:
        context.close()

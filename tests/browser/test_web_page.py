"""The web page in a real browser (headless Debian Chromium via Playwright): search -> results -> meeting
page -> download of the original; filters by keyboard alone; the page without JavaScript; English; live."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from services.store.db import create_engine
from services.store.repository import store_events
from shared.contracts.events import utcnow
from tests.browser.conftest import Site, screenshot
from tests.unit.store.factories import header, meeting

pytestmark = pytest.mark.integration


def decided(site: Site, municipality: str | None = None, outcome: str | None = None) -> set[str]:
    """Links (`/meetings/<document>#item-<position>`) of the corpus decisions that match, from the parses."""
    return {
        f"/meetings/{d.received.document_id}#item-{position}"
        for d in site.docs
        for position, it in enumerate(d.meeting.items)
        if it.decision is not None
        and (municipality is None or d.meeting.municipality == municipality)
        and (outcome is None or it.decision.outcome == outcome)
    }


def links(page: Page) -> list[str]:
    """The links of the decisions listed (one per item: titles repeat across meetings)."""
    return [a.get_attribute("href") or "" for a in page.locator("#result-list article h3 a").all()]


def titles(page: Page) -> list[str]:
    """The titles of the decisions listed, without their item numbers."""
    return [re.sub(r"^\d+\.\s*", "", t.strip()) for t in page.locator("#result-list article h3").all_inner_texts()]


def tab_to(page: Page, element_id: str, limit: int = 40) -> None:
    """Press Tab until the element with this id has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} never got the focus in {limit} tabs")


def test_search_results_meeting_page_and_download_of_the_original(site: Site, page: Page, tmp_path: Path) -> None:
    page.goto(site.base)
    expect(page.locator("html")).to_have_attribute("lang", "da")
    page.get_by_label("Søg i afgørelser").fill("fleksjobbet")
    page.keyboard.press("Enter")
    first = page.locator("#result-list article").first
    expect(first.locator(".snippet mark").first).to_be_visible()
    marks = [m.lower() for m in page.locator("#result-list .snippet mark").all_inner_texts()]
    assert marks and all(m.startswith("fleksjob") for m in marks), marks
    # Provenance on every decision: the source file's link, its name, the version and when it arrived.
    for card in page.locator("#result-list article").all():
        expect(card.locator("dl.provenance a.download")).to_have_attribute("href", re.compile(r"/file$"))
        expect(card.locator("dl.provenance")).to_contain_text("Modtaget")
        expect(card.locator("dl.provenance")).to_contain_text("gældende version")
    screenshot(page, "search")
    screenshot(page, "search-viewport", full_page=False)  # the README's picture (docs/web-page.png)

    first.locator("h3 a").click()
    expect(page.locator("h2#items-heading")).to_be_visible()
    document_id = page.url.split("/meetings/", 1)[1].split("#")[0]
    doc = next(d for d in site.docs if d.received.document_id == document_id)
    items = page.locator("ol.items > li > article h3")
    expect(items).to_have_count(len(doc.meeting.items))
    listed = [re.sub(r"^\d+\.\s*", "", t).strip() for t in items.all_inner_texts()]
    # In document order; a decided item's heading ends with its outcome badge.
    assert all(text.startswith(it.title) for it, text in zip(doc.meeting.items, listed, strict=True)), listed
    expect(page.locator(".source dl.provenance")).to_contain_text(doc.path.name)
    screenshot(page, "meeting")

    with page.expect_download() as caught:
        page.locator(".source a.download").click()
    download = caught.value
    assert download.suggested_filename == doc.path.name
    saved = tmp_path / "original"
    download.save_as(saved)
    assert saved.read_bytes() == doc.path.read_bytes()

    case_link = page.locator("ol.items a[href^='/cases/']").first
    case_number = case_link.inner_text()
    case_link.click()
    expect(page.locator("h1")).to_contain_text(case_number)
    assert page.locator("ol.case-items > li").count() >= 1
    screenshot(page, "case")


# No htmx request in flight and no swap still settling.
_HTMX_IDLE = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"


def test_filters_by_keyboard_alone(site: Site, page: Page) -> None:
    outcome, _ = Counter(
        it.decision.outcome for d in site.docs if d.meeting.municipality == "Aarhus"
        for it in d.meeting.items if it.decision is not None
    ).most_common(1)[0]
    want = decided(site, "Aarhus", outcome)
    page.goto(site.base)
    tab_to(page, "municipality")
    page.keyboard.type("Aarhus")
    tab_to(page, "outcome")
    for _ in range(10):  # a closed <select> steps through its options with the arrow keys
        if page.eval_on_selector("#outcome", "e => e.value") == outcome:
            break
        page.keyboard.press("ArrowDown")
    assert page.eval_on_selector("#outcome", "e => e.value") == outcome
    tab_to(page, "case_number")
    page.keyboard.press("Tab")  # the submit button
    focused = page.evaluate("[document.activeElement.tagName, getComputedStyle(document.activeElement).outlineStyle,"
                            " parseFloat(getComputedStyle(document.activeElement).outlineWidth)]")
    assert focused[0] == "BUTTON" and focused[1] != "none" and focused[2] >= 2, focused  # focus is visible
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_contain_text(f"{len(want)} afgørelser")
    assert "municipality=Aarhus" in page.url and f"outcome={outcome}" in page.url  # a link that can be shared
    shown = links(page)
    # The results came by an htmx swap: htmx binds the new pager while it swaps and settles, and an Enter on
    # the pager before that does nothing.
    page.wait_for_function(_HTMX_IDLE)
    while page.locator("#next-page").count():
        page.locator("#next-page").focus()
        page.keyboard.press("Enter")
        # The next page's rows arrive before htmx has swapped the pager out of band and settled: wait for both,
        # or the loop focuses a pager that is about to be replaced and its Enter does nothing.
        page.wait_for_function(f"n => document.querySelectorAll('#result-list > li').length > n && ({_HTMX_IDLE})()",
                               arg=len(shown))
        shown = links(page)
    assert len(shown) == len(set(shown)) and set(shown) == want
    screenshot(page, "keyboard-filters")


def test_the_page_works_without_javascript(site: Site, browser: Browser) -> None:
    context = browser.new_context(java_script_enabled=False, locale="da-DK")
    page = context.new_page()
    try:
        page.goto(site.base)
        page.get_by_label("Kommune eller region").fill("Aarhus")
        page.get_by_label("Kommune eller region").press("Enter")  # a plain GET form submit
        page.wait_for_url(re.compile(r"municipality=Aarhus"))
        pages = [links(page)]
        while page.locator("#next-page").count():
            page.locator("#next-page").click()
            page.wait_for_url(re.compile(r"cursor="))
            pages.append(links(page))
            if len(pages) == 2:
                screenshot(page, "no-javascript-page-2")
        assert len(pages) >= 2, "too few decisions to page"
        flat = [link for chunk in pages for link in chunk]
        assert len(flat) == len(set(flat)), "a decision came twice"
        assert set(flat) == decided(site, "Aarhus")
        assert all(len(chunk) <= 5 for chunk in pages)
    finally:
        context.close()


def test_english_by_parameter_and_by_browser_language(site: Site, browser: Browser) -> None:
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    try:
        page.goto(site.base)
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("h1")).to_have_text("Search decisions")
        page.get_by_role("link", name="Dansk").click()
        expect(page.locator("h1")).to_have_text("Søg i afgørelser")
        expect(page.get_by_role("link", name="English")).to_be_visible()
        page.goto(site.base + "?lang=en")
        page.locator("#result-list article h3 a").first.click()
        expect(page.locator("h2#items-heading")).to_have_text("Agenda items")
        assert "lang=en" in page.url
        screenshot(page, "meeting-en")
    finally:
        context.close()


def test_next_page_appends_in_place_with_htmx(site: Site, page: Page) -> None:
    page.goto(site.base + "?municipality=Aarhus")
    expect(page.locator("#result-list > li")).to_have_count(5)
    url = page.url
    page.locator("#next-page").click()
    expect(page.locator("#result-list > li")).to_have_count(10)
    assert page.url == url  # appended, no navigation
    assert len(set(links(page))) == 10


def test_a_new_decision_is_announced_on_the_open_page(site: Site, page: Page) -> None:
    page.goto(site.base)
    before = page.locator("#results-heading").inner_text()
    parsed, items = meeting("arrives-while-open", 1, hdr=header(day=dt.date(2031, 5, 6)))

    async def store() -> None:
        engine = create_engine(site.settings.effective_database_url)
        try:
            async with engine.begin() as conn:
                await store_events(conn, [parsed, *items], now=utcnow(), public_base_url="minutes://items/")
        finally:
            await engine.dispose()

    # Playwright's sync API runs an event loop in this thread: store from another one, as a store process would.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, store()).result(60)
    banner = page.locator("#live a")
    expect(banner).to_have_text(re.compile(r"^1 nye afgørelser"), timeout=15_000)
    banner.click()
    expect(page.locator("#results-heading")).not_to_have_text(before)
    first = page.locator("#result-list article").first
    expect(first).to_contain_text(items[0].item.title)  # the newest meeting comes first

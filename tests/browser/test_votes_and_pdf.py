"""A journalist's tasks in a real browser (headless Debian Chromium via Playwright), on the real corpus:
see who voted how on an item whose minutes print a vote, open the PDF at that item's page, and see what
changed in a corrected decision.

The item is chosen from the parses (a real referat whose items print votes and start on known PDF pages);
what the page must show is read from that parse, never written here. The correction is a new version of a
real meeting with one decision changed, stored through the store's own code path.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
from playwright.sync_api import Page, expect

from services.api.i18n import CATALOG
from services.parser.events import meeting_events
from services.store.db import create_engine
from shared.blobs import LocalBlobStore
from shared.contracts.meeting import AgendaItem
from tests.browser.conftest import Site, documented, screenshot
from tests.integration.store.corpus_store import StoredDoc, received_for, store

pytestmark = pytest.mark.integration

SIDES = ("in_favour", "against", "abstaining", "reserved")


def _voted_pdf_item(site: Site) -> tuple[StoredDoc, int, AgendaItem]:
    """A decided item of a PDF that prints a vote and starts on a known page (the one naming the most voters)."""
    found = [
        (doc, position, it)
        for doc in site.docs
        if doc.path.suffix == ".pdf"
        for position, it in enumerate(doc.meeting.items)
        if it.votes is not None and it.page and it.decision is not None
    ]
    assert found, "the corpus has a PDF referat with a vote"
    return max(found, key=lambda f: sum(len(getattr(f[2].votes, side)) for side in SIDES))


@pytest.mark.parametrize("width", [1280, 390])
def test_see_who_voted_how_and_open_the_pdf_at_the_items_page(site: Site, page: Page, width: int) -> None:
    doc, position, it = _voted_pdf_item(site)
    assert it.votes is not None and it.page is not None
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{site.base}meetings/{doc.received.document_id}#item-{position}")
    item = page.locator(f"#item-{position}")
    table = item.get_by_role("table")
    expect(table).to_be_visible()
    for side in SIDES:
        names = getattr(it.votes, side)
        if not names:
            continue
        row = table.get_by_role("row", name=CATALOG[f"votes_{side}"].da)
        expect(row).to_be_visible()
        for name in names:
            expect(row).to_contain_text(name)
    table.scroll_into_view_if_needed()
    screenshot(page, f"votes-{width}", full_page=False, docs=True)

    link = item.get_by_role("link", name=CATALOG["open_pdf_at_page"].da.format(page=it.page))
    expect(link).to_be_visible()
    with page.context.expect_page() as opened, page.context.expect_event("response") as served:
        link.click()
    viewer = opened.value
    response = served.value
    # A new tab at the inline PDF with the item's page in the fragment, shown in the tab by Chromium's own
    # PDF viewer (the tab's document is the PDF; a download would leave no document of that type).
    assert viewer.url.endswith(f"/api/v1/documents/{doc.received.document_id}/document.pdf#page={it.page}")
    assert response.url.split("#")[0] == viewer.url.split("#")[0]
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline;")
    assert viewer.evaluate("document.contentType") == "application/pdf"
    fetched = page.request.get(viewer.url.split("#")[0])
    assert fetched.body() == doc.path.read_bytes()
    screenshot(viewer, f"pdf-at-page-{width}", full_page=False)
    viewer.close()
    # The original file is still a download beside it.
    with page.expect_download() as download:
        item.locator("a.download").first.click()
    assert download.value.suggested_filename == doc.path.name


ADDED = "Tilføjet ved rettelsen af referatet."


def _store_corrected_version(site: Site) -> tuple[StoredDoc, str, int]:
    """A new version of a real (non-PDF) meeting whose first decision has a sentence added; returns the
    original, the new version's document id and the changed item's position."""
    doc = next(d for d in site.docs if d.path.suffix == ".json" and d.meeting.decisions)
    position = next(pos for pos, it in enumerate(doc.meeting.items) if it.decision is not None)
    old = doc.meeting.items[position]
    assert old.decision is not None
    new_decision = old.decision.model_copy(update={"text": f"{old.decision.text} {ADDED}"})
    new_item = old.model_copy(update={"decision": new_decision})
    items = (*doc.meeting.items[:position], new_item, *doc.meeting.items[position + 1 :])
    corrected = doc.meeting.model_copy(update={"items": items})
    data = b"corrected " + doc.path.read_bytes()  # other bytes: another document, a version of the same meeting
    ref = LocalBlobStore(site.settings.blobs_dir).put(data)
    received = received_for(doc.path, data, 90).model_copy(update={"blob_ref": ref})

    async def go() -> None:
        engine = create_engine(site.settings.database_url)
        try:
            await store(engine, list(meeting_events(received, corrected)))
        finally:
            await engine.dispose()

    # Playwright's sync API runs an event loop in this thread: store from another one, as a store process would.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, go()).result(60)
    return doc, received.document_id, position


def test_see_what_changed_in_a_corrected_decision(site: Site, page: Page) -> None:
    doc, corrected, position = _store_corrected_version(site)
    old = doc.meeting.items[position].decision
    assert old is not None
    page.goto(f"{site.base}meetings/{corrected}#item-{position}")
    item = page.locator(f"#item-{position}")
    expect(item.locator("h3 .badge.revised")).to_have_text(CATALOG["revised_mark"].da)
    expect(page.locator(".badge.revised")).to_have_count(1)  # only the changed decision
    expect(item.locator(".diff ins")).to_have_text(ADDED)
    expect(item.locator(".diff del")).to_have_count(0)
    item.locator("details.previous-text summary").click()
    expect(item.locator("details.previous-text p")).to_have_text(old.text)
    item.locator(".revision").scroll_into_view_if_needed()
    documented(page, "corrected-decision", full_page=False)
    # The earlier version is linked, and the list of versions names both.
    item.get_by_role("link", name=CATALOG["revised_previous_version"].da).click()
    expect(page).to_have_url(f"{site.base}meetings/{doc.received.document_id}#item-{position}")
    expect(page.locator(".badge.revised")).to_have_count(0)
    expect(page.locator("ol.versions li")).to_have_count(2)

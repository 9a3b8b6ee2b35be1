"""A journalist's tasks in a real browser (headless Debian Chromium via Playwright), on the real corpus:
see who voted how on an item whose minutes print a vote, and open the PDF at that item's page.

The item is chosen from the parses (a real referat whose items print votes and start on known PDF pages);
what the page must show is read from that parse, never written here.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from services.api.i18n import CATALOG
from shared.contracts.meeting import AgendaItem
from tests.browser.conftest import Site, screenshot
from tests.integration.store.corpus_store import StoredDoc

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
    screenshot(page, f"votes-{width}", full_page=False)

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

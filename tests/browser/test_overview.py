"""A journalist's tasks in headless Chromium (issue 23): one municipality's decisions of one month through the
picker typed as "X Kommune", then its overview with the charts. Screenshots at 1280 and 390 px are written
into docs/screenshots/ with MINUTES_UPDATE_SCREENSHOTS=1 (the pictures docs/web-and-api.md shows)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import Site, documented
from tests.browser.test_web_page import decided

pytestmark = pytest.mark.integration



def busiest(site: Site) -> tuple[str, tuple[int, int], Counter[tuple[int, int]]]:
    """The municipality with the most decisions, its busiest month and its decisions per month (the parses)."""
    per_place = Counter(d.meeting.municipality for d in site.docs for it in d.meeting.items
                        if it.decision is not None and d.meeting.municipality)  # fmt: skip
    name = str(per_place.most_common(1)[0][0])
    months = Counter((d.meeting.meeting_date.year, d.meeting.meeting_date.month) for d in site.docs
                     if d.meeting.municipality == name and d.meeting.meeting_date
                     for it in d.meeting.items if it.decision is not None)  # fmt: skip
    return name, months.most_common(1)[0][0], months


def test_a_month_of_one_municipality_through_the_picker_typed_as_x_kommune(site: Site, page: Page) -> None:
    name, (year, month), months = busiest(site)
    first = dt.date(year, month, 1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    want = {
        link for link in decided(site, name)
        for d in site.docs if link.startswith(f"/meetings/{d.received.document_id}#")
        and d.meeting.meeting_date and first <= d.meeting.meeting_date <= last
    }  # fmt: skip
    assert len(want) == months[(year, month)]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site.base)
    picker = page.get_by_label("Kommune eller region")
    expect(picker).to_have_attribute("list", "places")
    picker.fill(f"{name.lower()} kommune")  # as a person writes it, in any case
    page.get_by_label(re.compile("^Fra dato")).fill(first.isoformat())
    page.get_by_label(re.compile("^Til dato")).fill(last.isoformat())
    expect(page.locator("#date_from")).to_have_attribute("lang", "da")
    page.get_by_role("button", name="Søg").click()
    expect(page.locator("#results-heading")).to_have_text(f"{len(want)} afgørelser")
    cards = page.locator("#result-list article")
    expect(cards.first).to_be_visible()
    for card in cards.all():
        expect(card.locator(".meta span").first).to_have_text(name)
        href = card.locator("h3 a").get_attribute("href") or ""
        assert href in want, href
    documented(page, "picker-month", full_page=False)

    # A misspelt name finds nothing and offers the right one.
    page.goto(site.base)
    page.get_by_label("Kommune eller region").fill(name[0] + name[2:])
    page.get_by_role("button", name="Søg").click()
    suggestion = page.locator(".suggestions a").first
    expect(suggestion).to_have_text(name)
    suggestion.click()
    expect(page.locator("#results-heading")).to_have_text(f"{len(decided(site, name))} afgørelser")


def test_the_overview_of_a_municipality_with_its_charts(site: Site, page: Page) -> None:
    name, _, months = busiest(site)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(site.base)
    page.get_by_label("Kommune eller region").fill(f"{name} Kommune")
    page.get_by_role("button", name="Søg").click()
    page.get_by_role("link", name=re.compile(f"^Overblik over {re.escape(name)}")).click()
    expect(page.locator("h1")).to_have_text(f"Overblik: {name}")
    chart = page.locator("svg.chart.columns")
    expect(chart).to_be_visible()
    span = (max(months)[0] - min(months)[0]) * 12 + max(months)[1] - min(months)[1] + 1
    expect(chart.locator("rect.bar")).to_have_count(span)
    expect(page.get_by_role("img", name=re.compile("^Afgørelser pr. måned"))).to_be_visible()
    expect(page.locator("svg.chart.shares rect.bar").first).to_be_visible()
    # The figures as a table, one click away (no script needed).
    page.locator("section[aria-labelledby=months-heading] summary").click()
    expect(page.locator("section[aria-labelledby=months-heading] table tbody tr")).to_have_count(span)
    documented(page, "overview")
    # A committee's own overview is one link further.
    page.locator("ul.committees a").first.click()
    expect(page.locator("svg.chart.columns")).to_be_visible()
    expect(page.locator("h1")).to_contain_text(f"Overblik: {name} · ")


def test_the_meeting_page_reads_like_minutes(site: Site, page: Page) -> None:
    formality = re.compile(r"godkendelse af (?:dagsorden|referat)", re.I)
    doc = max((d for d in site.docs if any(formality.match(it.title) for it in d.meeting.items)),
              key=lambda d: sum(1 for it in d.meeting.items if it.decision is not None))  # fmt: skip
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{site.base}meetings/{doc.received.document_id}")
    toc = page.locator("nav.toc a")
    expect(toc).to_have_count(len(doc.meeting.items))
    # An item further down, reached from the list at the top.
    position, item = max(enumerate(doc.meeting.items), key=lambda p: p[0] if p[1].decision is not None else -1)
    toc.nth(position).click()
    assert page.url.endswith(f"#item-{position}")
    article = page.locator(f"li#item-{position} > article")
    expect(article).to_be_in_viewport()
    decision = article.locator(".decision-text")
    expect(decision).to_contain_text(" ".join(item.decision.text.split())[:40])  # type: ignore[union-attr]
    # The formality is folded: its heading shows, its body opens on a click.
    folded_at = next(i for i, it in enumerate(doc.meeting.items) if formality.match(it.title))
    folded = page.locator(f"li#item-{folded_at} details.procedural")
    expect(folded.locator(".decision-text")).to_be_hidden()
    folded.locator("summary").click()
    expect(folded.locator(".decision-text")).to_be_visible()
    page.goto(f"{site.base}meetings/{doc.received.document_id}")
    documented(page, "meeting", full_page=False)

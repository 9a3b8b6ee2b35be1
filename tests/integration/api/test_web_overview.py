"""The web page for people (issue 23), parsed as HTML on SQLite and PostgreSQL with the seeds and the real
corpus stored: the overview page's charts, the municipality picker, the meeting page read as minutes."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections import Counter
from pathlib import Path

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from services.store.db import migrate
from tests.integration.api.conftest import Served, api_settings
from tests.integration.api.server import running_api
from tests.integration.api.test_api import get
from tests.integration.store.corpus_store import StoredDoc

pytestmark = pytest.mark.integration


def flat(text: str | None) -> str:
    return " ".join((text or "").split())


def busiest_municipality(docs: tuple[StoredDoc, ...]) -> str:
    """The municipality with the most decisions in the corpus (read from the parses, not from the page)."""
    counts = Counter(d.meeting.municipality for d in docs for it in d.meeting.items if it.decision is not None)
    counts.pop(None, None)
    name, _ = counts.most_common(1)[0]
    assert name is not None
    return name


def decided_of(docs: tuple[StoredDoc, ...], municipality: str) -> list[tuple[StoredDoc, int]]:
    return [
        (d, i)
        for d in docs
        if d.meeting.municipality == municipality
        for i, it in enumerate(d.meeting.items)
        if it.decision is not None
    ]


def months_between(first: dt.date, last: dt.date) -> list[tuple[int, int]]:
    out, (y, m) = [], (first.year, first.month)
    while (y, m) <= (last.year, last.month):
        out.append((y, m))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def test_overview_draws_decisions_per_month_and_outcome_shares(served: Served) -> None:
    name = busiest_municipality(served.docs)
    decided = decided_of(served.docs, name)
    per_month = Counter((d.meeting.meeting_date.year, d.meeting.meeting_date.month) for d, _ in decided
                        if d.meeting.meeting_date)  # fmt: skip
    months = months_between(min(d.meeting.meeting_date for d, _ in decided if d.meeting.meeting_date),
                            max(d.meeting.meeting_date for d, _ in decided if d.meeting.meeting_date))  # fmt: skip
    outcomes = Counter(d.meeting.items[i].decision.outcome for d, i in decided)  # type: ignore[union-attr]

    # Asked as a person writes it: "X KOMMUNE".
    page = get(served, "/overview", municipality=f"{name.upper()} KOMMUNE")
    assert page.status_code == 200, page.text[:300]
    html = HTMLParser(page.text)
    chart = html.css_first("svg.chart.columns")
    assert chart is not None and chart.attributes.get("role") == "img"
    labelled = (chart.attributes.get("aria-labelledby") or "").split()
    assert [html.css_first(f"#{i}").tag for i in labelled] == ["title", "desc"]  # type: ignore[union-attr]
    bars = chart.css("rect.bar")
    # One bar per month from the first to the last, the months without a decision included (as 0).
    assert len(bars) == len(months)
    spoken = [flat(b.css_first("title").text()) for b in bars]  # type: ignore[union-attr]
    for (year, month), said in zip(months, spoken, strict=True):
        assert said.endswith(f"{year}: {per_month[(year, month)]} afgørelser"), said
    heights = [float(b.attributes["height"] or 0) for b in bars]
    assert [h > 0 for h in heights] == [per_month[m] > 0 for m in months]
    # The same figures as a table (the chart's text alternative).
    rows = html.css("section[aria-labelledby=months-heading] table tbody tr")
    assert [int(r.css_first("td").text()) for r in rows] == [per_month[m] for m in months]  # type: ignore[union-attr]

    shares = html.css("svg.chart.shares rect.bar")
    assert len(shares) == len(outcomes)
    share_rows = html.css("section[aria-labelledby=outcomes-heading] table tbody tr")
    assert sorted(int(r.css("td")[0].text()) for r in share_rows) == sorted(outcomes.values())

    # The busiest case: the case number with the most decisions comes first and links to its case page.
    cases = Counter(d.meeting.items[i].case_number for d, i in decided if d.meeting.items[i].case_number)
    listed = [(a.text(), int(a.parent.parent.css("td")[-1].text())) for a in html.css("table.busiest tbody tr th a")]  # type: ignore[union-attr]
    # Only cases decided more than once, the busiest first, each with its count.
    assert listed == sorted(((c, n) for c, n in cases.items() if n > 1), key=lambda p: (-p[1], p[0]))[:10]
    # Its committees link to their own overview.
    committees = {d.meeting.committee for d in served.docs if d.meeting.municipality == name}
    links = html.css("ul.committees a")
    assert {flat(a.text()) for a in links} == committees
    # An overview of nothing in particular is refused in words; a misspelt name is offered the right one.
    refused = get(served, "/overview")
    assert refused.status_code == 400 and "municipality, region or committee" in refused.text
    misspelt = HTMLParser(get(served, "/overview", municipality=name[0] + name[2:]).text)
    assert [a.text() for a in misspelt.css(".suggestions a")][:1] == [name]
    english = HTMLParser(get(served, "/overview", municipality=name, lang="en").text)
    assert english.css_first("html").attributes["lang"] == "en"  # type: ignore[union-attr]
    assert len(english.css("svg.chart.columns rect.bar")) == len(months)
    committee = sorted(committees)[0]
    sub = get(served, "/overview", municipality=name, committee=committee)
    want = sum(1 for d, _ in decided if d.meeting.committee and committee.lower() in d.meeting.committee.lower())
    assert sum(int(r.css_first("td").text()) for r in HTMLParser(sub.text).css(  # type: ignore[union-attr]
        "section[aria-labelledby=months-heading] table tbody tr")) == want  # fmt: skip


def test_picker_finds_a_municipality_written_as_x_kommune_in_any_case(served: Served) -> None:
    name = busiest_municipality(served.docs)
    want = len(decided_of(served.docs, name))
    for typed in (f"{name} Kommune", f"{name.lower()} kommune", name.upper()):
        page = get(served, "/", municipality=typed)
        html = HTMLParser(page.text)
        assert flat(html.css_first("#results-heading").text()) == f"{want} afgørelser", typed  # type: ignore[union-attr]
        places = {flat(c.css_first(".meta span").text()) for c in html.css("#result-list article")}  # type: ignore[union-attr]
        assert places == {name}
        # The API's filter is the same filter.
        api = get(served, "/api/v1/decisions", municipality=typed, limit=1)
        assert api.status_code == 200 and api.json()["items"][0]["municipality"] == name
    # The picker knows the 98 municipalities and the 5 regions, without script (a datalist).
    html = HTMLParser(get(served, "/").text)
    field = html.css_first("input#municipality")
    assert field is not None and field.attributes["list"] == "places"
    options = [o.attributes["value"] for o in html.css("datalist#places option")]
    assert len(options) == 103 and len(set(options)) == 103
    assert sum(1 for o in options if (o or "").startswith("Region ")) == 5

    # A misspelling (one letter dropped) finds nothing and suggests the municipality, linked.
    misspelt = name[0] + name[2:]
    page = HTMLParser(get(served, "/", municipality=misspelt).text)
    assert page.css("#result-list article") == []
    suggestion = page.css_first(".suggestions a")
    assert suggestion is not None and suggestion.text() == name
    href = suggestion.attributes["href"] or ""
    followed = HTMLParser(httpx.get(served.base.rstrip("/") + href, timeout=30).text)
    assert flat(followed.css_first("#results-heading").text()) == f"{want} afgørelser"  # type: ignore[union-attr]


def _text_of(node: Node) -> str:
    return flat(node.text(separator=" "))


def test_meeting_page_reads_like_minutes(served: Served) -> None:
    formality = re.compile(r"godkendelse af (?:dagsorden|referat)", re.I)

    def decided_with_cases(d: StoredDoc) -> tuple[bool, int]:
        has_formality = any(formality.match(it.title) for it in d.meeting.items)
        return has_formality, sum(1 for it in d.meeting.items if it.decision is not None and it.case_number)

    doc = max(served.docs, key=decided_with_cases)
    page = get(served, f"/meetings/{doc.received.document_id}")
    html = HTMLParser(page.text)
    # The items at the top, each an anchor to its item.
    toc = html.css("nav.toc ol li a")
    assert len(toc) == len(doc.meeting.items)
    targets = [(a.attributes["href"] or "").lstrip("#") for a in toc]
    assert all(html.css_first(f"li#{t}") is not None for t in targets)
    assert [flat(a.text()) for a in toc] == [f"{it.number}. {flat(it.title)}" for it in doc.meeting.items]

    # The meeting's municipality and committee lead to their overviews.
    overviews = [a.attributes["href"] or "" for a in html.css("dl.facts a[href^='/overview']")]
    assert len(overviews) == 2
    for href in overviews:
        heading = HTMLParser(httpx.get(served.base.rstrip("/") + href, timeout=30).text).css_first("h1")
        assert heading is not None and (doc.meeting.municipality or "") in heading.text()
    articles = html.css("ol.items > li > article")
    assert len(articles) == len(doc.meeting.items)
    folded_titles = []
    for item, article in zip(doc.meeting.items, articles, strict=True):
        blocks = [n for n in article.traverse() if n.tag in ("div", "section")]
        assert blocks[0].attributes.get("class") == "decision-text", item.title  # the decision before the sections
        sections = [_text_of(s) for s in article.css("section.section")]
        if item.case_number:
            # The case number once, in the item's line: no section that is only the case number.
            assert _text_of(article.css_first("p.meta")).count(item.case_number) == 1  # type: ignore[arg-type]
            assert not any(s.endswith(flat(item.case_number)) and len(s) < len(item.case_number) + 20
                           for s in sections), item.title  # fmt: skip
        if item.decision is not None:
            # The decision once: as the decision, not again as a section (a section's heading is in its text).
            decision = flat(item.decision.text)
            assert _text_of(article).count(decision) == 1 or len(decision) < 30, item.title
            assert not any(s.endswith(decision) for s in sections), item.title
        for name in item.attachments:
            if len(name) > 12:  # a short name ("Bilag 1") may well occur in the text too
                assert _text_of(article).count(flat(name)) == 1, name
        folded = article.css_first("details.procedural") is not None
        if folded:
            folded_titles.append(item.title)
        if formality.match(item.title):
            assert folded, item.title
    # Only formalities are folded.
    assert folded_titles and all(len(t) < 60 for t in folded_titles), folded_titles


def test_heading_reads_naturally_and_date_inputs_are_danish(served: Served) -> None:
    html = HTMLParser(get(served, "/").text)
    total = sum(1 for d in served.docs for it in d.meeting.items if it.decision is not None)
    assert flat(html.css_first("#results-heading").text()) == f"{total} afgørelser"  # type: ignore[union-attr]
    for field in ("date_from", "date_to"):
        node = html.css_first(f"input#{field}")
        assert node is not None and node.attributes["type"] == "date" and node.attributes["lang"] == "da"
        hint = html.css_first(f"#{node.attributes['aria-describedby']}")
        assert hint is not None and "dag.måned.år" in hint.text()
    # A date typed as the hint says (a browser without a date picker sends it as typed) filters as ISO does.
    per_day = Counter(d.meeting.meeting_date for d in served.docs if d.meeting.meeting_date
                      for it in d.meeting.items if it.decision)  # fmt: skip
    day, want = per_day.most_common(1)[0]
    assert day is not None
    iso = HTMLParser(get(served, "/", date_from=day.isoformat(), date_to=day.isoformat()).text)
    typed = {"date_from": day.strftime("%d.%m.%Y"), "date_to": f"{day.day}-{day.month}-{day.year}"}
    danish = HTMLParser(get(served, "/", **typed).text)
    for html in (iso, danish):
        assert flat(html.css_first("#results-heading").text()) == f"{want} afgørelser"  # type: ignore[union-attr]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_empty_page_says_how_to_add_documents(database_url: str, tmp_path: Path) -> None:
    asyncio.run(migrate(database_url))
    with running_api(api_settings(database_url, tmp_path / "data")) as base:
        html = HTMLParser(httpx.get(base, timeout=30).text)
        empty = html.css_first(".empty-state")
        assert empty is not None
        commands = [flat(c.text()) for c in empty.css("code")]
        assert any("inbox/" in c for c in commands) and any("sources add" in c for c in commands)
        # With a filter that finds nothing, it says so instead.
        html = HTMLParser(httpx.get(base, params={"q": "fleksjob"}, timeout=30).text)
        assert html.css_first(".empty-state") is None and "Ingen afgørelser matcher" in html.text()

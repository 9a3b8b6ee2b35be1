"""Who voted how, the PDF at the item's page and corrected decisions, through the read API, the exports and the
meeting page (issue 23), on SQLite and PostgreSQL under a real uvicorn.

The votes come from a real portal meeting of the corpus (Greve's council, with hand-made vote gold in
`portal/greve/gold-votes`), parsed by the parser core and stored by the store's own code path; every expected
vote is read from the gold file, never written here. The PDF is a real referat of the corpus. The corrected
minutes are built with the store tests' factories (two versions of one meeting).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from lxml import html as lxml_html

from services.api.i18n import CATALOG
from services.parser.core import parse_document
from services.parser.events import meeting_events
from services.store.db import create_engine, migrate
from services.store.models import outbox
from shared.blobs import LocalBlobStore
from shared.contracts.events import DocumentReceived
from shared.contracts.meeting import Outcome, ParsedMeeting
from tests.integration.api.conftest import api_settings
from tests.integration.api.server import running_api
from tests.integration.store.corpus_store import CORPUS, REAL_DOCS, RECEIVED_AT, store
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration

GREVE = CORPUS / "portal" / "greve"
# A council meeting whose gold records votes with printed counts, and members absent per item.
VOTE_GOLD = GREVE / "gold-votes" / "55490cd5-c0a9-465c-9b10-4c85da773fc4.json"
PDF = REAL_DOCS / "aarhus-byraad-2025-08-27-referat.pdf"
SIDES = ("in_favour", "against", "abstaining", "reserved")
LABELS = {"in_favour": "votes_in_favour", "against": "votes_against", "abstaining": "votes_abstaining",
          "reserved": "votes_reserved"}  # fmt: skip

FIRST_TEXT = "Indstillingen godkendes."
CORRECTED_TEXT = "Indstillingen godkendes med den ændring at fristen forlænges."


@dataclass(frozen=True)
class Doc:
    path: Path
    received: DocumentReceived
    meeting: ParsedMeeting

    @property
    def id(self) -> str:
        return self.received.document_id


@dataclass
class Stored:
    base: str
    votes: Doc
    pdf: Doc
    versions: list[str]  # document ids of the corrected meeting's versions, oldest first
    not_a_pdf: str  # a document named `.pdf` whose bytes are not a PDF


@functools.cache
def _parsed(path: Path) -> ParsedMeeting:
    return parse_document(path.read_bytes(), path.name)


def _gold() -> dict[int, dict[str, Any]]:
    """The gold votes of the items that record one, by item number."""
    gold = json.loads(VOTE_GOLD.read_text(encoding="utf-8"))
    return {entry["number"]: entry["votes"] for entry in gold["items"] if entry["votes"]}


def _doc(blobs: LocalBlobStore, path: Path, content_type: str, minute: int) -> Doc:
    data = path.read_bytes()
    ref = blobs.put(data)
    received = DocumentReceived(
        document_id=ref.rsplit("/", 1)[-1],
        original_name=path.name,
        size=len(data),
        content_type=content_type,
        blob_ref=ref,
        received_at=RECEIVED_AT + dt.timedelta(minutes=minute),
    )
    return Doc(path, received, _parsed(path))


@pytest.fixture
async def stored(database_url: str, tmp_path: Path) -> AsyncIterator[Stored]:
    await migrate(database_url)
    settings = api_settings(database_url, tmp_path / "data")
    blobs = LocalBlobStore(settings.blobs_dir)
    votes = _doc(blobs, GREVE / "dagsorden" / json.loads(VOTE_GOLD.read_text(encoding="utf-8"))["file"],
                 "application/json", 0)  # fmt: skip
    pdf = _doc(blobs, PDF, "application/pdf", 1)
    hdr = header(day=dt.date(2025, 6, 2))
    v1, v1_items = meeting("rev-v1", hdr=hdr, items=[item(1, text=FIRST_TEXT), item(2, text=FIRST_TEXT)])
    v2, v2_items = meeting("rev-v2", hdr=hdr, items=[item(1, text=FIRST_TEXT), item(2, text=CORRECTED_TEXT)])
    # A third version repeating the correction word for word: the stream says nothing, the mark stays.
    v3, v3_items = meeting("rev-v3", hdr=hdr, items=[item(1, text=FIRST_TEXT), item(2, text=CORRECTED_TEXT)])
    # The factories name their documents `<seed>.pdf`; the bytes of v1 are its seed (its id is their digest).
    v1 = v1.model_copy(update={"blob_ref": blobs.put(b"rev-v1")})
    engine = create_engine(database_url)
    try:
        for doc in (votes, pdf):
            await store(engine, list(meeting_events(doc.received, doc.meeting)))
        for events in ([v1, *v1_items], [v2, *v2_items], [v3, *v3_items]):
            await store(engine, events)
    finally:
        await engine.dispose()
    with running_api(settings) as base:
        yield Stored(base, votes, pdf, [v1.document_id, v2.document_id, v3.document_id], v1.document_id)


def get(stored: Stored, path: str, **params: Any) -> httpx.Response:
    return httpx.get(stored.base.rstrip("/") + path, params=params, timeout=60)


def _position(doc: Doc, number: int) -> int:
    return next(pos for pos, it in enumerate(doc.meeting.items) if it.number == number)


def _expect(gold: dict[str, Any], side: str) -> tuple[list[str], int | None]:
    return list(gold.get(side, [])), gold.get(f"{side}_count")


def test_the_api_says_who_voted_how_and_who_was_absent(stored: Stored) -> None:
    gold = _gold()
    assert len(gold) >= 3 and any(v.get("in_favour_count") for v in gold.values())
    hits = get(stored, "/api/v1/decisions", municipality=stored.votes.meeting.municipality, limit=7)
    by_number: dict[int, dict[str, Any]] = {}
    body = hits.json()
    while True:
        by_number |= {h["item_number"]: h for h in body["items"] if h["document_id"] == stored.votes.id}
        if body["next"] is None:
            break
        body = httpx.get(stored.base.rstrip("/") + body["next"], timeout=60).json()
    meeting_items = {it["number"]: it for it in get(stored, f"/api/v1/meetings/{stored.votes.id}").json()["items"]}
    for number, votes in gold.items():
        for where in (by_number[number]["votes"], meeting_items[number]["votes"]):
            for side in SIDES:
                names, count = _expect(votes, side)
                assert (where[side], where[f"{side}_count"]) == (names, count), (number, side)
    # Per-item absence: the parse's list, item by item (this meeting records some for most items).
    absent = {it.number: list(it.absent) for it in stored.votes.meeting.items if it.decision is not None}
    assert sum(1 for names in absent.values() if names) >= 3
    assert {n: by_number[n]["absent"] for n in absent} == absent
    # An item without a printed vote says so with null, not with empty sides.
    plain = next(n for n, hit in by_number.items() if n not in gold and hit["votes"] is None)
    assert meeting_items[plain]["votes"] is None


async def test_every_export_and_the_decision_event_carry_the_vote(stored: Stored, database_url: str) -> None:
    gold = _gold()
    where = {"municipality": stored.votes.meeting.municipality}
    table_csv = csv.DictReader(io.StringIO(get(stored, "/api/v1/exports/csv", **where).text))
    rows = {int(r["item_number"]): r for r in table_csv}
    lines = [json.loads(line) for line in get(stored, "/api/v1/exports/jsonl", rows="items", **where).text.splitlines()]
    items = {r["number"]: r for r in lines}
    table = pq.read_table(io.BytesIO(get(stored, "/api/v1/exports/parquet", **where).content)).to_pylist()
    parquet = {r["item_number"]: r for r in table}
    oparl = json.loads(get(stored, "/api/v1/exports/oparl", **where).text)
    oparl_items = {int(a["number"]): a for m in oparl["data"] for a in m["agendaItem"]}
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            payloads = (await conn.execute(sa.select(outbox.c.payload))).scalars().all()
    finally:
        await engine.dispose()
    events = {e["item_number"]: e for e in map(orjson.loads, payloads) if e["document_id"] == stored.votes.id}
    for number, votes in gold.items():
        for side in SIDES:
            names, count = _expect(votes, side)
            assert rows[number][f"votes_{side}"] == "; ".join(names), (number, side)
            assert rows[number][f"votes_{side}_count"] == ("" if count is None else str(count))
            assert (items[number][f"votes_{side}"], items[number][f"votes_{side}_count"]) == (names, count)
            assert items[number]["votes"][side] == names
            assert (parquet[number][f"votes_{side}"], parquet[number][f"votes_{side}_count"]) == (names, count)
            assert oparl_items[number]["minutes:votes"][side] == names
            assert (events[number]["votes"][side], events[number]["votes"][f"{side}_count"]) == (names, count)
    plain = next(n for n, e in events.items() if n not in gold and e["votes"] is None)
    assert rows[plain]["votes_in_favour"] == "" and rows[plain]["votes_in_favour_count"] == ""
    assert "minutes:votes" not in oparl_items[plain]


def test_the_meeting_page_shows_who_voted_how(stored: Stored) -> None:
    gold = _gold()
    page = get(stored, f"/meetings/{stored.votes.id}")
    assert page.status_code == 200
    tree = lxml_html.fromstring(page.text)
    for number, votes in gold.items():
        (article,) = tree.xpath(f'//li[@id="item-{_position(stored.votes, number)}"]')
        (table,) = article.xpath('.//table[contains(@class, "votes-table")]')
        shown = {
            row.xpath("string(th)").strip(): [cell.text_content().strip() for cell in row.xpath("td")]
            for row in table.xpath("./tbody/tr")
        }
        expected = {}
        for side in SIDES:
            names, count = _expect(votes, side)
            if names or count is not None:
                expected[CATALOG[LABELS[side]].da] = [
                    "–" if count is None else str(count), ", ".join(names) if names else "–"
                ]
        assert shown == expected, number
    plain = next(n for n, it in enumerate(stored.votes.meeting.items) if it.decision and it.votes is None)
    assert not tree.xpath(f'//li[@id="item-{plain}"]//table[contains(@class, "votes-table")]')
    # The search results say it in one line per decision, and the case page has the table.
    number, votes = next(iter(gold.items()))
    position = _position(stored.votes, number)
    parts = []
    for side in SIDES:
        names, count = _expect(votes, side)
        if names or count is not None:
            counted = f" ({count})" if count is not None else ""
            parts.append(CATALOG[LABELS[side]].da + counted + (": " + ", ".join(names) if names else ""))
    case_number = stored.votes.meeting.items[position].case_number
    assert case_number
    results = lxml_html.fromstring(get(stored, "/", case_number=case_number).text)
    href = f"/meetings/{stored.votes.id}#item-{position}"
    (card,) = results.xpath(f'//article[@class="decision"][.//h3/a[@href="{href}"]]')
    line = " ".join(card.xpath('string(.//p[contains(@class, "votes-line")])').split())
    assert line == f"{CATALOG['votes'].da}: " + "; ".join(parts)
    case = lxml_html.fromstring(get(stored, f"/cases/{case_number}").text)
    assert case.xpath(f'//article[.//a[@href="{href}"]]//table[contains(@class, "votes-table")]')
    english = lxml_html.fromstring(get(stored, f"/meetings/{stored.votes.id}", lang="en").text)
    assert english.xpath('//table[contains(@class, "votes-table")]//th[@scope="row"][text()="Abstained"]')


def test_the_pdf_opens_inline_at_the_items_page_and_the_download_stays(stored: Stored) -> None:
    doc = stored.pdf
    paged = [(pos, it.page) for pos, it in enumerate(doc.meeting.items) if it.page and it.page > 1]
    assert len(paged) >= 3
    tree = lxml_html.fromstring(get(stored, f"/meetings/{doc.id}").text)
    for position, page in paged:
        links = tree.xpath(f'//li[@id="item-{position}"]//a[contains(@class, "pdf-page")]/@href')
        assert links and set(links) == {f"/api/v1/documents/{doc.id}/document.pdf#page={page}"}, position
    viewer = get(stored, f"/api/v1/documents/{doc.id}/document.pdf")
    assert viewer.status_code == 200 and viewer.headers["content-type"] == "application/pdf"
    assert viewer.headers["content-disposition"].startswith("inline;")
    assert viewer.content == doc.path.read_bytes()
    original = get(stored, f"/api/v1/documents/{doc.id}/file")
    assert original.headers["content-disposition"].startswith("attachment;")
    assert original.content == doc.path.read_bytes()
    assert tree.xpath(f'//a[@class="download"][@href="/api/v1/documents/{doc.id}/file"]')
    # The exports link the same page of the same viewer (under the public API address); other formats: empty.
    exported = csv.DictReader(io.StringIO(get(stored, "/api/v1/exports/csv", rows="items").text))
    page_urls = {(r["document_id"], int(r["position"])): r["source_page_url"] for r in exported}
    for position, page in paged:
        assert page_urls[(doc.id, position)].endswith(f"/api/v1/documents/{doc.id}/document.pdf#page={page}")
    assert {url for (doc_id, _), url in page_urls.items() if doc_id == stored.votes.id} == {""}
    info = get(stored, f"/api/v1/documents/{doc.id}").json()
    assert info["view_url"] == f"/api/v1/documents/{doc.id}/document.pdf"
    # Not a PDF: no viewer link and no inline serving, by type or by bytes (a file named `.pdf` that is not one).
    assert get(stored, f"/api/v1/documents/{stored.votes.id}").json()["view_url"] is None
    assert get(stored, f"/api/v1/documents/{stored.votes.id}/document.pdf").status_code == 404
    assert "document.pdf" not in get(stored, f"/meetings/{stored.votes.id}").text
    fake = get(stored, f"/api/v1/documents/{stored.not_a_pdf}/document.pdf")
    assert fake.status_code == 404 and "not a PDF" in fake.json()["error"]


def test_a_corrected_decision_is_marked_with_its_earlier_text_and_word_diff(stored: Stored) -> None:
    v1, v2, v3 = stored.versions
    for current in (v2, v3):  # the mark lasts when a later version repeats the correction
        items = get(stored, f"/api/v1/meetings/{current}").json()["items"]
        assert items[0]["revision"] is None
        revision = items[1]["revision"]
        assert revision["previous_document_id"] == v1 and revision["previous_text"] == FIRST_TEXT
        assert revision["previous_outcome"] == Outcome.APPROVED.value
        assert revision["diff"] == [
            {"op": "equal", "old": "Indstillingen", "new": "Indstillingen"},
            {"op": "replace", "old": "godkendes.", "new": "godkendes med den ændring at fristen forlænges."},
        ]
        tree = lxml_html.fromstring(get(stored, f"/meetings/{current}").text)
        (second,) = tree.xpath('//li[@id="item-1"]')
        assert [b.text for b in second.xpath('.//h3/span[contains(@class, "revised")]')] == [CATALOG["revised_mark"].da]
        assert not tree.xpath('//li[@id="item-0"]//span[contains(@class, "revised")]')
        (diff,) = second.xpath('.//p[@class="diff"]')
        assert [d.text for d in diff.xpath("del")] == ["godkendes."]
        assert [i.text for i in diff.xpath("ins")] == ["godkendes med den ændring at fristen forlænges."]
        assert diff.text_content().split() == ["Indstillingen", "godkendes.", *CORRECTED_TEXT.split()[1:]]
        assert second.xpath('string(.//details[@class="previous-text"]/p)') == FIRST_TEXT
        assert second.xpath(f'.//a[@href="/meetings/{v1}#item-1"]') and second.xpath('.//a[@href="#versions"]')
        assert tree.xpath('//h3[@id="versions"]')
    first = get(stored, f"/api/v1/meetings/{v1}").json()["items"]
    assert [it["revision"] for it in first] == [None, None]
    assert not lxml_html.fromstring(get(stored, f"/meetings/{v1}").text).xpath('//span[contains(@class, "revised")]')

"""The read API (services/readmodel) on SQLite and PostgreSQL, on a store filled from the seeds and the
real corpus by the store's own code path: filters, keyset pages while decisions arrive, provenance, the
meeting and case views, the streamed iterators."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pypdfium2 as pdfium
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.readmodel.cursor import CursorError
from services.readmodel.decisions import count_decisions, iter_decisions, search_decisions
from services.readmodel.filter import ReadFilter
from services.readmodel.items import count_items, get_case, iter_items
from services.readmodel.meetings import count_meetings, get_document, get_meeting, list_meetings
from services.readmodel.results import DecisionHit
from shared.contracts.meeting import AgendaItem, Decision, EarlierDecision, MeetingHeader, Outcome
from tests.integration.store.corpus_store import REAL_DOCS, REAL_GOLD, StoredDoc, corpus, fill, store
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration

Pred = Callable[[StoredDoc, AgendaItem], bool]


def expected(pred: Pred) -> set[tuple[str, int]]:
    """(document_id, item number) of the corpus decisions the predicate selects, computed from the parses."""
    return {
        (d.received.document_id, it.number)
        for d in corpus()
        for it in d.meeting.items
        if it.decision is not None and pred(d, it)
    }


async def all_hits(engine: AsyncEngine, flt: ReadFilter, limit: int = 7) -> list[DecisionHit]:
    """Every hit of `flt`, page by page."""
    out: list[DecisionHit] = []
    cursor = None
    while True:
        page = await search_decisions(engine, flt, cursor=cursor, limit=limit)
        out += page.items
        cursor = page.next_cursor
        if cursor is None:
            return out


def keys(hits: list[DecisionHit]) -> set[tuple[str, int]]:
    return {(h.document_id, h.item_number) for h in hits}


def _absent(name: str) -> Pred:
    return lambda _d, it: any(a.lower() == name.lower() or a.lower().startswith(name.lower() + " (") for a in it.absent)


CASES: list[tuple[ReadFilter, Pred]] = [
    (ReadFilter(), lambda _d, _it: True),
    (ReadFilter(municipality="aarhus"), lambda d, _it: d.meeting.municipality == "Aarhus"),
    (ReadFilter(committee="ARBEJDSMARKED"), lambda d, _it: "arbejdsmarked" in (d.meeting.committee or "").lower()),
    (
        ReadFilter(date_from=dt.date(2022, 1, 1), date_to=dt.date(2023, 12, 31)),
        lambda d, _it: dt.date(2022, 1, 1) <= d.meeting.meeting_date <= dt.date(2023, 12, 31),  # type: ignore[operator]
    ),
    (ReadFilter(outcome=Outcome.NOTED), lambda _d, it: it.decision is not None and it.decision.outcome == "noted"),
    (ReadFilter(case_number="21/24328"), lambda _d, it: it.case_number == "21/24328"),
    (ReadFilter(kle="15"), lambda _d, it: (it.case_number or "").startswith("15.")),
    (ReadFilter(kle="15.20"), lambda _d, it: (it.case_number or "").startswith("15.20.")),
    (ReadFilter(kle="00.22.04"), lambda _d, it: (it.case_number or "").startswith("00.22.04")),
    (ReadFilter(absent="liv gro jensen"), _absent("liv gro jensen")),
    (ReadFilter(absent="Torben Hoffmann"), _absent("Torben Hoffmann")),
    (
        ReadFilter(municipality="Greve", outcome=Outcome.APPROVED),
        lambda d, it: (
            d.meeting.municipality == "Greve" and it.decision is not None and it.decision.outcome == "approved"
        ),
    ),
]


async def test_each_filter_returns_exactly_the_matching_decisions(engine: AsyncEngine) -> None:
    await fill(engine)
    for flt, pred in CASES:
        want = expected(pred)
        assert want or flt == ReadFilter(municipality="nowhere"), f"case {flt} selects nothing in the corpus"
        hits = await all_hits(engine, flt)
        assert keys(hits) == want, flt
        assert len(hits) == len(want), f"{flt}: a decision repeated across pages"
        assert await count_decisions(engine, flt) == len(want), flt
    assert await all_hits(engine, ReadFilter(municipality="Nowhere")) == []


async def test_region_filter_and_meetings_list(engine: AsyncEngine) -> None:
    await fill(engine)
    region = MeetingHeader(region="Region Midtjylland", committee="Regionsrådet", meeting_date=dt.date(2025, 6, 2))
    parsed, events = meeting("region-1", hdr=region, items=[item(1), item(2, decided=False)])
    await store(engine, [parsed, *events])

    hits = await all_hits(engine, ReadFilter(region="region midtjylland"))
    assert [(h.document_id, h.item_number, h.region, h.municipality) for h in hits] == [
        (parsed.document_id, 1, "Region Midtjylland", None)
    ]
    page = await list_meetings(engine, ReadFilter(region="Region Midtjylland"))
    assert [(m.document_id, m.item_count, m.decision_count) for m in page.items] == [(parsed.document_id, 2, 1)]

    # Meetings newest first, every complete meeting once across pages; item filters keep meetings with such items.
    seen: list[str] = []
    cursor = None
    while True:
        mpage = await list_meetings(engine, ReadFilter(), cursor=cursor, limit=4)
        seen += [m.document_id for m in mpage.items]
        dates = [m.meeting_date for m in mpage.items]
        assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
        if (cursor := mpage.next_cursor) is None:
            break
    assert sorted(seen) == sorted([d.received.document_id for d in corpus()] + [parsed.document_id])
    assert await count_meetings(engine, ReadFilter()) == len(seen)
    kle_meetings = await list_meetings(engine, ReadFilter(kle="15"), limit=100)
    want = {
        d.received.document_id
        for d in corpus()
        if any((i.case_number or "").startswith("15.") for i in d.meeting.items)
    }
    assert {m.document_id for m in kle_meetings.items} == want


async def test_pages_lose_and_repeat_nothing_while_decisions_arrive(engine: AsyncEngine) -> None:
    await fill(engine)
    before = keys(await all_hits(engine, ReadFilter(), limit=500))
    seen: list[tuple[str, int]] = []
    cursor = None
    arrivals = iter(
        [dt.date(2030, 1, 1), dt.date(2023, 11, 23), dt.date(2020, 1, 1), dt.date(2024, 5, 5), dt.date(2013, 6, 20)] * 4
    )
    for step in range(100):
        page = await search_decisions(engine, ReadFilter(), cursor=cursor, limit=6)
        seen += [(h.document_id, h.item_number) for h in page.items]
        if (cursor := page.next_cursor) is None:
            break
        # A new meeting between two pages: newer, older, or on the same day as the rows around the cursor.
        day = next(arrivals, dt.date(2021, 1, 1))
        parsed, events = meeting(f"arrival-{step}", hdr=header(committee=f"Udvalg {step}", day=day), n_items=2)
        await store(engine, [parsed, *events])
    assert len(seen) == len(set(seen)), "a decision was repeated across pages"
    assert before <= set(seen), f"lost across pages: {sorted(before - set(seen))[:5]}"


async def test_provenance_of_every_decision_and_the_document(engine: AsyncEngine) -> None:
    docs = await fill(engine)
    by_id = {d.received.document_id: d for d in docs}
    hits = await all_hits(engine, ReadFilter(), limit=100)
    assert len(hits) == len(expected(lambda _d, _it: True))
    for hit in hits:
        rec = by_id[hit.document_id].received
        p = hit.provenance
        assert (p.original_name, p.blob_ref, p.size, p.content_type) == (
            rec.original_name, rec.blob_ref, rec.size, rec.content_type,
        )  # fmt: skip
        assert p.received_at == rec.received_at and p.blob_available and p.current and p.kind == "minutes"
    for doc in docs:
        info = await get_document(engine, doc.received.document_id)
        assert info is not None
        assert (info.original_name, info.blob_ref, info.received_at) == (
            doc.path.name, doc.received.blob_ref, doc.received.received_at,
        )  # fmt: skip
    assert await get_document(engine, "0" * 64) is None


def _pdf_start_pages(name: str) -> dict[int, int]:
    """Item number -> the first page after the table of contents that prints the item's gold title."""
    pdf = pdfium.PdfDocument(REAL_DOCS / f"{name}.pdf")
    texts = [" ".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf))]
    gold = json.loads((REAL_GOLD / f"{name}.json").read_text())
    out: dict[int, int] = {}
    previous = 1
    for g in gold["items"]:
        title = " ".join(g["title"][0].split())
        page = next(
            (p for p in range(previous, len(texts) + 1) if "Indholdsfortegnelse" not in texts[p - 1]
             and title in texts[p - 1]),
            None,
        )  # fmt: skip
        if page is not None:
            out[g["number"]] = previous = page
    return out


async def test_the_page_of_each_pdf_item_is_the_page_where_it_starts(engine: AsyncEngine) -> None:
    await fill(engine)
    for name in ("aarhus-byraad-2025-08-27-referat", "syddjurs-plan-udvikling-kultur-2013-06-20-referat"):
        want = _pdf_start_pages(name)
        doc = next(d for d in corpus() if d.path.stem == name)
        assert len(want) >= 0.9 * len(doc.meeting.items), f"{name}: the oracle found too few titles"
        detail = await get_meeting(engine, doc.received.document_id)
        assert detail is not None
        got = {i.number: i.page for i in detail.items if i.number in want}
        assert got == want, name
        hits = await all_hits(engine, ReadFilter(municipality=doc.meeting.municipality), limit=100)
        assert {h.item_number: h.provenance.page for h in hits if h.document_id == doc.received.document_id and
                h.item_number in want} == want  # fmt: skip


async def test_meeting_view_has_every_item_in_order_with_its_parts(engine: AsyncEngine) -> None:
    await fill(engine)
    for doc in corpus():
        detail = await get_meeting(engine, doc.received.document_id)
        assert detail is not None and detail.complete and detail.current
        m = doc.meeting
        assert (detail.municipality, detail.committee, detail.meeting_date, detail.location) == (
            m.municipality, m.committee, m.meeting_date, m.location,
        )  # fmt: skip
        assert detail.participants == list(m.participants)
        assert [i.number for i in detail.items] == [i.number for i in m.items]
        for got, it in zip(detail.items, m.items, strict=True):
            assert [(s.name, s.text) for s in got.sections] == [(s.name, s.text) for s in it.sections]
            assert (got.title, got.case_number, got.absent, got.attachments) == (
                it.title, it.case_number, list(it.absent), list(it.attachments),
            )  # fmt: skip
            assert got.decision_text == (it.decision.text if it.decision else None)
            assert [(h.date, h.body, h.text) for h in got.history] == [(h.date, h.body, h.text) for h in it.history]
        assert detail.decision_count == len(m.decisions)
    syddjurs = next(d for d in corpus() if d.path.stem.startswith("syddjurs"))
    detail = await get_meeting(engine, syddjurs.received.document_id)
    # README: one item with three dated decisions — two earlier ones (history) and this meeting's own.
    assert detail is not None and detail.items[0].decision_text and len(detail.items[0].history) == 2
    assert all(h.date and h.date < dt.date(2013, 6, 20) for h in detail.items[0].history)
    assert await get_meeting(engine, "f" * 64) is None


async def test_case_view_follows_a_case_across_meetings_in_date_order(engine: AsyncEngine) -> None:
    await fill(engine)
    case = "21/24328"
    earlier = EarlierDecision(date=dt.date(2022, 10, 5), body="Arbejdsmarkedsudvalget", text="Taget til efterretning.")
    later_item = AgendaItem(
        number=4, title="Opfølgning", case_number=case, decision=Decision(text="Godkendt.", outcome=Outcome.APPROVED),
        history=(earlier, EarlierDecision(date=dt.date(2021, 3, 1), body="Byrådet", text="Udsat.")),
    )  # fmt: skip
    parsed, events = meeting(
        "later", hdr=header(committee="Økonomiudvalget", day=dt.date(2024, 1, 9)), items=[later_item]
    )
    undated_item = later_item.model_copy(update={"history": (earlier,)})
    undated_header = MeetingHeader(municipality="Høje-Taastrup", committee="Byrådet")
    undated, undated_events = meeting("undated", hdr=undated_header, items=[undated_item])
    await store(engine, [parsed, *events, undated, *undated_events])

    view = await get_case(engine, case)
    assert view is not None and view.kle is None
    seed = next(d for d in corpus() if any(i.case_number == case for i in d.meeting.items))
    want_seed = [(seed.received.document_id, i.number) for i in seed.meeting.items if i.case_number == case]
    assert [(r.item.document_id, r.item.number) for r in view.items] == [
        *want_seed, (parsed.document_id, 4), (undated.document_id, 4),
    ]  # fmt: skip
    assert [r.committee for r in view.items][-2:] == ["Økonomiudvalget", "Byrådet"]
    # The earlier decisions the items cite, once each, oldest first.
    assert [(h.date, h.body) for h in view.history] == [
        (dt.date(2021, 3, 1), "Byrådet"), (dt.date(2022, 10, 5), "Arbejdsmarkedsudvalget"),
    ]  # fmt: skip
    kle_case = await get_case(engine, "15.00.00-G01-517-23")
    assert kle_case is not None and kle_case.kle == "15.00.00"
    assert await get_case(engine, "99/99999") is None


async def test_versions_and_all_versions(engine: AsyncEngine) -> None:
    same = header()  # one municipality, committee and date: two versions of one meeting
    v1, v1_items = meeting("v1", n_items=2, hdr=same)
    v2, v2_items = meeting("v2", items=[item(1, text="Godkendt med rettelse"), item(2)], hdr=same)
    await store(engine, [v1, *v1_items])
    await store(engine, [v2, *v2_items])
    current = await all_hits(engine, ReadFilter())
    assert {h.document_id for h in current} == {v2.document_id}
    every = await all_hits(engine, ReadFilter(all_versions=True))
    assert {(h.document_id, h.provenance.current) for h in every} == {(v1.document_id, False), (v2.document_id, True)}
    detail = await get_meeting(engine, v1.document_id)
    assert detail is not None and not detail.current and detail.superseded_by == v2.document_id
    assert [(v.document_id, v.current) for v in detail.versions] == [(v1.document_id, False), (v2.document_id, True)]
    listed = await list_meetings(engine, ReadFilter())
    assert [m.document_id for m in listed.items] == [v2.document_id]


async def test_streamed_iterators_yield_every_row_in_page_order(engine: AsyncEngine) -> None:
    await fill(engine)
    flt = ReadFilter(committee="udvalg")
    paged = await all_hits(engine, flt, limit=5)
    streamed = [h async for h in iter_decisions(engine, flt)]
    assert [h.item_id for h in streamed] == [h.item_id for h in paged]
    assert len(streamed) == await count_decisions(engine, flt) == len(expected(
        lambda d, _it: "udvalg" in (d.meeting.committee or "").lower()
    ))  # fmt: skip
    items = [r async for r in iter_items(engine, ReadFilter())]
    want_items: Any = {(d.received.document_id, i.number) for d in corpus() for i in d.meeting.items}
    assert {(r.item.document_id, r.item.number) for r in items} == want_items
    assert len(items) == sum(len(d.meeting.items) for d in corpus()) == await count_items(engine, ReadFilter())
    undecided = [r for r in items if r.item.outcome is None]
    assert len(undecided) == sum(1 for d in corpus() for i in d.meeting.items if i.decision is None)


async def test_a_tampered_or_foreign_cursor_is_refused(engine: AsyncEngine) -> None:
    await fill(engine)
    page = await search_decisions(engine, ReadFilter(), limit=3)
    assert page.next_cursor is not None
    with pytest.raises(CursorError, match="another search or filter"):
        await search_decisions(engine, ReadFilter(municipality="Aarhus"), cursor=page.next_cursor)
    tampered = page.next_cursor[:-3] + ("A" if page.next_cursor[-3] != "A" else "B") + page.next_cursor[-2:]
    with pytest.raises(CursorError, match="changed or cut short"):
        await search_decisions(engine, ReadFilter(), cursor=tampered)

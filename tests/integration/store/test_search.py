"""Full-text search with Danish stemming on SQLite (FTS5 + Snowball) and PostgreSQL (tsvector 'danish'):
inflections, snippets, the query syntax, ranked pages while decisions arrive, the index kept in step, and the
migrations that build it for a database that already holds rows."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.readmodel.decisions import count_decisions, search_decisions
from services.readmodel.filter import ReadFilter
from services.readmodel.meetings import get_meeting
from services.readmodel.results import DecisionHit
from services.store.db import create_engine, migrate
from services.store.search import SearchSyntaxError
from shared.contracts.events import AgendaItemParsed, MeetingParsed
from shared.contracts.meeting import AgendaItem, Decision, Outcome, Section
from tests.integration.store.corpus_store import corpus, fill, store
from tests.unit.store.factories import header, meeting

pytestmark = pytest.mark.integration

_FLEKSJOB = re.compile(r"\bfleksjob(s|bet|bets|bene|ber)?\b", re.IGNORECASE)


def _texts(it: AgendaItem) -> list[str]:
    return [it.title, it.decision.text if it.decision else "", *(f"{s.name} {s.text}" for s in it.sections)]


async def all_hits(engine: AsyncEngine, flt: ReadFilter, limit: int = 4) -> list[DecisionHit]:
    out: list[DecisionHit] = []
    cursor = None
    while True:
        page = await search_decisions(engine, flt, cursor=cursor, limit=limit)
        out += page.items
        if (cursor := page.next_cursor) is None:
            return out


def decided(seed: str, *texts: str) -> tuple[MeetingParsed, list[AgendaItemParsed]]:
    """A meeting whose items have these decision texts (titles neutral)."""
    items = [
        AgendaItem(number=n + 1, title=f"Sag {n + 1}", decision=Decision(text=t, outcome=Outcome.APPROVED))
        for n, t in enumerate(texts)
    ]
    return meeting(seed, hdr=header(), items=items)


async def test_fleksjobbet_finds_the_seeds_fleksjob_items_and_vice_versa(engine: AsyncEngine) -> None:
    await fill(engine)
    want = {
        (d.received.document_id, it.number)
        for d in corpus()
        for it in d.meeting.items
        if it.decision is not None and any(_FLEKSJOB.search(t) for t in _texts(it))
    }
    assert len(want) >= 3, "the seeds mention fleksjob in several decided items"
    for q in ("fleksjobbet", "fleksjob", "Fleksjobbene"):
        hits = await all_hits(engine, ReadFilter(q=q))
        assert {(h.document_id, h.item_number) for h in hits} == want, q
        for h in hits:
            assert h.snippet and h.rank is not None and h.rank > 0
            marked = re.findall(r"<mark>(.*?)</mark>", h.snippet)
            assert marked and all(_FLEKSJOB.fullmatch(m) for m in marked), h.snippet
        ranks = [h.rank or 0.0 for h in hits]
        assert ranks == sorted(ranks, reverse=True)

    # The other way round: a stored "fleksjobbet" is found by "fleksjob".
    parsed, events = decided("defined", "Borgeren bevarer fleksjobbet efter revurderingen.")
    await store(engine, [parsed, *events])
    hits = await all_hits(engine, ReadFilter(q="fleksjob"))
    new = [h for h in hits if h.document_id == parsed.document_id]
    assert len(new) == 1 and "<mark>fleksjobbet</mark>" in (new[0].snippet or "")


async def test_snippets_are_escaped_html_around_the_match(engine: AsyncEngine) -> None:
    filler = " ".join(f"ord{n}" for n in range(80))
    parsed, events = decided(
        "html",
        f"{filler} Udvalget <b>godkendte</b> & vedtog lokalplanen for <script>alert(1)</script> havnen. {filler}",
    )
    await store(engine, [parsed, *events])
    (hit,) = await all_hits(engine, ReadFilter(q="lokalplaner"))
    assert hit.snippet is not None
    assert "<mark>lokalplanen</mark>" in hit.snippet
    assert "<script>" not in hit.snippet and "<b>" not in hit.snippet
    assert "&amp;" in hit.snippet
    if engine.dialect.name == "sqlite":
        assert "&lt;b&gt;" in hit.snippet  # PostgreSQL's ts_headline parser drops markup tags instead
    # A window around the match, not the whole 160-word text.
    assert len(hit.snippet.split()) < 60


SYNTAX_ITEMS = {
    "A": "Lokalplan for skolen godkendt",
    "B": "Skolen lukkes",
    "C": "Budget for dagtilbud",
    "D": "Planen for lokal skole",
    "E": "Budget for skolen",
    "F": "Dagtilbud uden penge",
}


@pytest.mark.parametrize(
    ("q", "want"),
    [
        ('"lokalplan for skolen"', {"A"}),
        ('"skolen lokalplan"', set()),
        ("skolen -lukkes", {"A", "D", "E"}),
        ('skole -"lokalplan for skolen"', {"B", "D", "E"}),
        ("budget OR lokalplan", {"A", "C", "E"}),
        # OR binds tighter than AND: budget AND (skolen OR dagtilbud) — F has dagtilbud but no budget.
        ("budget skolen OR dagtilbud", {"C", "E"}),
        ("Skolerne LUKKET", {"B"}),
        ("skole, budget!", {"E"}),
    ],
)
async def test_search_syntax(engine: AsyncEngine, q: str, want: set[str]) -> None:
    names = list(SYNTAX_ITEMS)
    parsed, events = decided("syntax", *SYNTAX_ITEMS.values())
    await store(engine, [parsed, *events])
    hits = await all_hits(engine, ReadFilter(q=q))
    assert {names[h.item_number - 1] for h in hits} == want
    assert await count_decisions(engine, ReadFilter(q=q)) == len(want)


async def test_the_rank_weights_title_over_decision_over_sections(engine: AsyncEngine) -> None:
    items = [
        AgendaItem(number=1, title="Sag", sections=(Section(name="Sagsfremstilling", text="Om vandløbet."),),
                   decision=Decision(text="Godkendt.", outcome=Outcome.APPROVED)),
        AgendaItem(number=2, title="Vandløbene ved åen", decision=Decision(text="Godkendt.", outcome=Outcome.APPROVED)),
        AgendaItem(number=3, title="Sag", decision=Decision(text="Vandløbet oprenses.", outcome=Outcome.APPROVED)),
    ]  # fmt: skip
    parsed, events = meeting("ranked", hdr=header(), items=items)
    await store(engine, [parsed, *events])
    hits = await all_hits(engine, ReadFilter(q="vandløb"))
    assert [h.item_number for h in hits] == [2, 3, 1]
    assert hits[0].rank is not None and hits[2].rank is not None and hits[0].rank > hits[2].rank > 0


async def test_a_query_without_anything_to_find_is_refused(engine: AsyncEngine) -> None:
    for q in ("-lokalplan", '-"kollektiv trafik"', "OR", '"" ,.'):
        with pytest.raises(SearchSyntaxError):
            await search_decisions(engine, ReadFilter(q=q))


async def test_ranked_pages_lose_and_repeat_nothing_while_matching_decisions_arrive(engine: AsyncEngine) -> None:
    await fill(engine)
    flt = ReadFilter(q="godkendt OR godkender")
    before = {h.item_id for h in await all_hits(engine, flt, limit=500)}
    assert len(before) > 20
    seen: list[str] = []
    cursor = None
    for step in range(200):
        page = await search_decisions(engine, flt, cursor=cursor, limit=5)
        seen += [h.item_id for h in page.items]
        if (cursor := page.next_cursor) is None:
            break
        # New matches with weak and strong ranks (one mention, or in the title and many times).
        strong = "Godkendt. " * (step % 4)
        parsed, events = meeting(
            f"arrival-{step}",
            hdr=header(committee=f"Udvalg {step}"),
            items=[AgendaItem(number=1, title="Godkendt" if step % 2 else "Sag",
                              sections=(Section(name="Beslutning", text=strong + "Godkendt."),),
                              decision=Decision(text=strong + "Godkendt.", outcome=Outcome.APPROVED))],
        )  # fmt: skip
        await store(engine, [parsed, *events])
    assert len(seen) == len(set(seen)), "a hit was repeated across pages"
    assert before <= set(seen), f"lost across pages: {sorted(before - set(seen))[:5]}"


async def test_the_index_follows_a_redelivered_item_with_new_text(engine: AsyncEngine) -> None:
    parsed, events = decided("redo", "Sagen udsat til næste møde.")
    await store(engine, [parsed, *events])
    assert len(await all_hits(engine, ReadFilter(q="udsat"))) == 1
    changed = [events[0].model_copy(update={"item": events[0].item.model_copy(
        update={"decision": Decision(text="Vindmøllerne godkendt.", outcome=Outcome.APPROVED)})})]  # fmt: skip
    await store(engine, changed)
    assert await all_hits(engine, ReadFilter(q="udsat")) == []
    assert [h.decision_text for h in await all_hits(engine, ReadFilter(q="vindmølle"))] == ["Vindmøllerne godkendt."]


async def _insert_at_0002(engine: AsyncEngine) -> None:
    """Rows as a store at revision 0002 wrote them (no provenance columns, no index)."""
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    doc = "a" * 64
    async with engine.begin() as conn:
        await conn.execute(
            sa.text("INSERT INTO documents (document_id, original_name, parsed_at, stored_at) VALUES (:d, :n, :t, :t)"),
            {"d": doc, "n": "old.pdf", "t": now},
        )
        await conn.execute(
            sa.text(
                "INSERT INTO meetings (document_id, kind, municipality, committee, meeting_date, participants, "
                "item_count, complete, completed_at, meeting_key) VALUES (:d, 'minutes', 'Lemvig', 'Byrådet', "
                ":day, '[]', 2, :yes, :t, 'lemvig|byrådet|2020-08-13')"
            ),
            {"d": doc, "day": dt.date(2020, 8, 13), "yes": True, "t": now},
        )
        for pos, (case, title, text) in enumerate(
            [("15.20.00G01-1-20", "Fleksjobordningen", "Ledighedsydelsen taget til efterretning."),
             ("EMN-2025-000502", "Cykelstier", "Cykelstierne godkendt.")]
        ):  # fmt: skip
            item_id = f"{doc}:{pos}"
            await conn.execute(
                sa.text(
                    "INSERT INTO agenda_items (id, document_id, position, number, title, case_number, is_closed, "
                    "sections, absent, attachments, stored_at) VALUES (:id, :d, :pos, :num, :title, :case, :no, "
                    ":sections, '[]', '[]', :t)"
                ),
                {"id": item_id, "d": doc, "pos": pos, "num": pos + 1, "title": title, "case": case, "no": False,
                 "sections": '[{"name": "Sagsfremstilling", "text": "Om borgernes cykler og ledighed."}]', "t": now},
            )  # fmt: skip
            await conn.execute(
                sa.text(
                    "INSERT INTO decisions (item_id, document_id, event_id, text, outcome, stored_at) "
                    "VALUES (:id, :d, :e, :text, 'noted', :t)"
                ),
                {"id": item_id, "d": doc, "e": f"00000000-0000-0000-0000-00000000000{pos}", "text": text, "t": now},
            )


async def test_migrations_0003_and_0004_upgrade_a_store_with_rows(database_url: str) -> None:
    await migrate(database_url, "0002")
    engine = create_engine(database_url)
    try:
        await _insert_at_0002(engine)
        await migrate(database_url, "0003_provenance")
        async with engine.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT case_number, kle FROM agenda_items"))).all()
        kle: dict[str, str | None] = {r[0]: r[1] for r in rows}
        assert kle == {"15.20.00G01-1-20": "15.20.00", "EMN-2025-000502": None}
        await migrate(database_url)  # 0004_search: the index is built for the rows already stored

        # Stemmed matches in title (fleksjob-ordningen), decision (ledighedsydelse) and sections (cykler).
        assert [h.item_title for h in await all_hits(engine, ReadFilter(q="fleksjobordning"))] == ["Fleksjobordningen"]
        assert [h.item_title for h in await all_hits(engine, ReadFilter(q="ledighedsydelse"))] == ["Fleksjobordningen"]
        assert {h.item_title for h in await all_hits(engine, ReadFilter(q="cyklen"))} == {
            "Fleksjobordningen",
            "Cykelstier",
        }
        (hit,) = await all_hits(engine, ReadFilter(kle="15.20"))
        p = hit.provenance
        assert (p.original_name, p.blob_ref, p.received_at, p.page, p.blob_available) == (
            "old.pdf",
            None,
            None,
            None,
            False,
        )
        detail = await get_meeting(engine, "a" * 64)
        assert detail is not None and detail.region is None and [i.history for i in detail.items] == [[], []]
        # New rows after the upgrade are indexed by the store as usual.
        parsed, events = decided("after", "Cykelparkering godkendt.")
        await store(engine, [parsed, *events])
        assert len(await all_hits(engine, ReadFilter(q="cykelparkeringen"))) == 1
    finally:
        await engine.dispose()

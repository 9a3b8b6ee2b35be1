"""One decision filter, two evaluations (services/readmodel/filter.py): the same filters select the same decisions
as SQL (every read that takes a filter: a page at a time, streamed, as items) and on each event the store
announced (what the SSE endpoint, the feeds, `minutes decisions --follow` and the alerts evaluate), on SQLite
and PostgreSQL.

The store holds the seeds and the real corpus (stored by the store's own code path, then indexed) and a few
invented meetings for the edges: spellings of one case number, a member absent under a longer name, `%` and
`_` in a text, a region meeting, an undated meeting, a word only in an item's sections. Filters on the corpus
take their values from the stored data at run time; the invented meetings' filters also name the decisions
they must select.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.matching import compiled, matches
from services.readmodel.decisions import count_decisions, iter_decisions, search_decisions
from services.readmodel.filter import Event, Facts, Matcher, ReadFilter, event_facts, event_stems
from services.readmodel.items import iter_items
from services.store.kle import kle_of
from services.store.models import outbox
from shared import streams
from shared.contracts.events import PublicEvent
from shared.contracts.meeting import AgendaItem, Decision, MeetingHeader, Outcome, Section
from tests.integration.store.corpus_store import fill, store
from tests.unit.store.factories import meeting

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

_EVENT: TypeAdapter[Event] = TypeAdapter(PublicEvent)
LABEL = re.compile(r"^Prøvepunkt (\w\d)\b")
CASE = "27.00.00-P20-1-31"
# A word that occurs only in one item's sections (an invented compound, stemmed like any other).
SECTION_WORD = "grønspættebroen"
# Whole words of letters only, long enough to be no stop word on PostgreSQL (its Danish ones have at most six
# letters), not part of a hyphenated compound (which PostgreSQL's parser numbers as three positions).
_WORD = re.compile(r"(?<![\w-])([a-zæøå]{7,})(?![\w-])")
_PAIR = re.compile(r"(?<![\w-])([a-zæøå]{7,}) ([a-zæøå]{7,})(?![\w-])")


def _item(label: str, outcome: Outcome, title: str, decision: str, *, case: str | None = None,
          absent: tuple[str, ...] = (), sections: tuple[tuple[str, str], ...] = ()) -> AgendaItem:  # fmt: skip
    return AgendaItem(
        number=int(label[1]),
        title=f"Prøvepunkt {label} {title}",
        case_number=case,
        sections=tuple(Section(name=n, text=t) for n, t in sections),
        decision=Decision(text=decision, outcome=outcome),
        absent=absent,
    )


INVENTED = [
    (
        "one-filter-m1",
        MeetingHeader(municipality="Testrup Kommune", committee="Økonomiudvalget", meeting_date=dt.date(2031, 2, 3)),
        [
            _item("A1", Outcome.APPROVED, "om grundvandsplanen", "Udvalget godkendte grundvandsplanen.", case=CASE,
                  absent=("Karla Testesen (X)",), sections=(("Sagsfremstilling", "Planen beskriver boringerne."),)),
            _item("A2", Outcome.REJECTED, "rabat 100% på_takst", "Forslaget blev forkastet.", case="31/12345",
                  absent=("Karla Testesen-Berg",)),
            _item("A3", Outcome.NOTED, "orientering", "Taget til efterretning.",
                  sections=(("Sagsfremstilling", f"Projektet ved {SECTION_WORD} fortsætter."),)),
        ],
    ),
    (
        "one-filter-m2",
        MeetingHeader(region="Region Prøvejylland", committee="Regionsrådet", meeting_date=dt.date(2031, 5, 6)),
        [
            _item("B1", Outcome.APPROVED, "om grundvand", "Regionsrådet godkendte indstillingen.",
                  case="27.00.00 - p20-1-31", absent=("KARLA TESTESEN",)),
            _item("B2", Outcome.DISCUSSED, "om kollektiv trafik", "Drøftet.", case="27.01.00-P20-2-31"),
        ],
    ),
    (
        "one-filter-m3",
        MeetingHeader(municipality="Ølstrup Prøvekommune", committee="Udvalget for Ældre og Sundhed"),
        [
            _item("C1", Outcome.APPROVED, "om takster", "Godkendt med 0% stigning."),
            _item("C2", Outcome.APPROVED, "om plejehjem", "Vedtaget.", absent=("karla testesen (Y)",)),
        ],
    ),
]  # fmt: skip

# The invented decisions each filter must select (among the invented ones; the corpus may add its own).
NAMED: list[tuple[ReadFilter, set[str]]] = [
    (ReadFilter(case_number="27.00.00-p20-1-31"), {"A1", "B1"}),  # spacing and case ignored
    (ReadFilter(case_number=" 27.00.00 - P20 - 1 - 31 "), {"A1", "B1"}),
    (ReadFilter(kle="27"), {"A1", "B1", "B2"}),
    (ReadFilter(kle="27.00"), {"A1", "B1"}),
    (ReadFilter(absent="karla testesen"), {"A1", "B1", "C2"}),  # not "Karla Testesen-Berg"
    (ReadFilter(match="0%"), {"A2", "C1"}),  # % and _ are literal
    (ReadFilter(match="0% P"), {"A2"}),
    (ReadFilter(match="_takst"), {"A2"}),
    (ReadFilter(municipality="ØLSTRUP PRØVEKOMMUNE"), {"C1", "C2"}),
    # "X Kommune" and X are one municipality, whichever of the two is stored.
    (ReadFilter(municipality="testrup"), {"A1", "A2", "A3"}),
    (ReadFilter(municipality="TESTRUP  kommune"), {"A1", "A2", "A3"}),
    (ReadFilter(region="region prøvejylland"), {"B1", "B2"}),
    (ReadFilter(region="region prøvejylland", outcome=Outcome.DISCUSSED), {"B2"}),
    (ReadFilter(committee="ÆLDRE OG"), {"C1", "C2"}),
    (ReadFilter(date_from=dt.date(2031, 1, 1)), {"A1", "A2", "A3", "B1", "B2"}),  # not the undated meeting
    (ReadFilter(date_from=dt.date(2031, 1, 1), date_to=dt.date(2031, 3, 1)), {"A1", "A2", "A3"}),
    (ReadFilter(q="grundvandsplanerne"), {"A1"}),  # another inflection, the same stem
    (ReadFilter(q=SECTION_WORD), {"A3"}),  # only in a section
    (ReadFilter(q=f"efterretning -{SECTION_WORD}"), set()),
]


@dataclass(frozen=True)
class Stored:
    """The announced events (one per stored decision here: no versions) and what the store knows of each."""

    events: list[Event]
    facts: dict[str, Facts]


async def _fill(engine: AsyncEngine) -> Stored:
    await fill(engine)
    for seed, header, items in INVENTED:
        parsed, events = meeting(seed, hdr=header, items=items)
        await store(engine, [parsed, *events])
    stmt = sa.select(outbox.c.payload).where(outbox.c.stream == streams.DECISIONS).order_by(outbox.c.id)
    async with engine.connect() as conn:
        events = [_EVENT.validate_json(p) for p in (await conn.execute(stmt)).scalars()]
    facts = {}
    for event in events:
        found = await event_facts(engine, event.item_id)  # what the SSE endpoint reads per event
        assert found is not None
        facts[event.item_id] = found
    return Stored(events, facts)


async def _sql(engine: AsyncEngine, flt: ReadFilter) -> set[str]:
    """The decisions the reads select (event ids), by every read that takes a filter; they must agree."""
    streamed = {hit.event_id async for hit in iter_decisions(engine, flt)}
    paged: list[str] = []
    cursor = None
    while True:
        page = await search_decisions(engine, flt, cursor=cursor, limit=97)
        paged += [hit.event_id for hit in page.items]
        if (cursor := page.next_cursor) is None:
            break
    items = {row.item.event_id async for row in iter_items(engine, flt) if row.item.event_id is not None}
    assert len(paged) == len(set(paged)) == await count_decisions(engine, flt), flt
    assert set(paged) == streamed == items, flt
    return streamed


def _on_events(stored: Stored, flt: ReadFilter) -> set[str]:
    """The decisions the event evaluation selects, given what the store knows (as the SSE endpoint does)."""
    matcher = Matcher(flt)
    return {e.event_id for e in stored.events if matcher.accepts(e, stored.facts[e.item_id])}


def _by_alerts(stored: Stored, flt: ReadFilter) -> set[str]:
    """The decisions a subscription with these fields gets: the alerts' entry points, with the region."""
    sub = compiled(flt.municipality, flt.region, flt.committee, flt.outcome.value if flt.outcome else None,
                   flt.case_number, flt.q)  # fmt: skip
    return {
        e.event_id
        for e in stored.events
        if matches(sub, e, region=stored.facts[e.item_id].region, text_stems=event_stems(e))
    }


def _subscribable(flt: ReadFilter) -> bool:
    fields = {k for k, v in flt.model_dump().items() if v not in (None, False)}
    return fields <= {"municipality", "region", "committee", "outcome", "case_number", "q"}


def _from_corpus(events: list[Event]) -> list[ReadFilter]:
    """Filters whose values are taken from the stored corpus decisions (none written into this file)."""
    events = [e for e in events if not LABEL.match(e.item_title)]
    first = next(e for e in events if e.municipality)
    dated = sorted({e.meeting_date for e in events if e.meeting_date and e.meeting_date.year < 2031})
    committee = next(e.committee for e in events if e.committee and len(e.committee) > 8)
    case = next(e.case_number for e in events if e.case_number and kle_of(e.case_number))
    kle = kle_of(case)
    assert kle is not None
    absentee = next(a for e in events for a in e.absent).split(" (")[0]
    words = [w for e in events for w in _WORD.findall(e.decision_text.lower())]
    common = max(set(words), key=words.count)
    rare = next(w for w in words if words.count(w) == 1)
    pair = next(m.groups() for e in events for m in _PAIR.finditer(e.decision_text.lower()))
    return [
        ReadFilter(),
        ReadFilter(municipality=(first.municipality or "").upper()),
        ReadFilter(committee=committee[2:8].upper()),
        ReadFilter(date_from=dated[len(dated) // 3], date_to=dated[2 * len(dated) // 3]),
        ReadFilter(date_to=dated[len(dated) // 2]),
        *(ReadFilter(outcome=o) for o in Outcome),
        ReadFilter(case_number=case.lower()),
        ReadFilter(case_number=f"{case[:2]} {case[2:]}"),
        ReadFilter(kle=kle[:2]),
        ReadFilter(kle=kle),
        ReadFilter(absent=absentee.upper()),
        ReadFilter(match=first.decision_text[2:9].upper()),
        ReadFilter(q=common),
        ReadFilter(q=rare),
        ReadFilter(q=f'"{pair[0]} {pair[1]}"'),
        ReadFilter(q=f"{rare} OR {pair[1]}"),
        ReadFilter(q=f"{common} -{pair[0]}"),
        ReadFilter(municipality=first.municipality, outcome=first.outcome),
        ReadFilter(committee=committee[2:8], q=common, date_from=dated[len(dated) // 2]),
    ]


def _label(stored: Stored) -> Callable[[str], str | None]:
    titles = {e.event_id: e.item_title for e in stored.events}

    def label(event_id: str) -> str | None:
        found = LABEL.match(titles[event_id])
        return found.group(1) if found else None

    return label


async def test_both_evaluations_select_the_same_decisions(engine: AsyncEngine) -> None:
    stored = await _fill(engine)
    label = _label(stored)
    everything = {e.event_id for e in stored.events}
    assert len(everything) == len(stored.events) > 80  # one announcement per stored decision

    corpus_cases = _from_corpus(stored.events)
    for flt in corpus_cases + [f for f, _ in NAMED]:
        sql = await _sql(engine, flt)
        assert _on_events(stored, flt) == sql, flt
    for flt in corpus_cases[1:]:  # each one tells decisions apart: neither none nor all
        assert 0 < len(await _sql(engine, flt)) < len(everything), flt
    for flt, named in NAMED:
        assert {label(e) for e in await _sql(engine, flt)} - {None} == named, flt


async def test_a_subscription_gets_what_the_same_filter_reads(engine: AsyncEngine) -> None:
    stored = await _fill(engine)
    label = _label(stored)
    cases = [f for f in _from_corpus(stored.events) + [f for f, _ in NAMED] if _subscribable(f)]
    assert len([f for f in cases if not f.q]) > 12
    for flt in cases:
        sql = await _sql(engine, flt)
        if flt.q is None:
            assert _by_alerts(stored, flt) == sql, flt
        else:
            # A subscription's phrase is matched on the title and the decision text, not the sections (as
            # documented for subscriptions): the same filter, evaluated without the sections.
            without_sections = Matcher(flt)
            assert _by_alerts(stored, flt) == {
                e.event_id
                for e in stored.events
                if without_sections.accepts(e, Facts(region=stored.facts[e.item_id].region))
            }, flt
    only_in_sections = ReadFilter(q=SECTION_WORD)
    assert {label(e) for e in await _sql(engine, only_in_sections)} == {"A3"}
    assert _by_alerts(stored, only_in_sections) == set()

"""Versions of one meeting (agenda, minutes, corrected minutes) on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt

import orjson
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.readmodel.filter import ReadFilter
from services.readmodel.meetings import list_meetings
from services.store.db import create_engine, migrate
from services.store.models import meetings, outbox
from services.store.repository import ItemsEvent, store_events
from shared.contracts.events import AgendaItemParsed, MeetingParsed, utcnow
from shared.contracts.meeting import DocumentKind, MeetingHeader, Outcome
from tests.unit.store.dump import listed, totals
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration
BASE = "https://minutes.test/items/"


async def store(engine: AsyncEngine, events: list[ItemsEvent]) -> None:
    async with engine.begin() as conn:
        await store_events(conn, events, now=utcnow(), public_base_url=BASE)


async def superseded(engine: AsyncEngine) -> dict[str, str | None]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(meetings.c.document_id, meetings.c.superseded_by))).all()
    return {r.document_id: r.superseded_by for r in rows}


def version(seed: str, hdr: MeetingHeader, text_: str, n: int = 2) -> tuple[MeetingParsed, list[AgendaItemParsed]]:
    return meeting(seed, hdr=hdr, items=[item(i + 1, text=f"{text_} ({i + 1})") for i in range(n)])


async def test_corrected_minutes_replace_the_earlier_version_in_queries(engine: AsyncEngine) -> None:
    v1, v1_items = version("v1", header(), "Godkendt")
    v2, v2_items = version("v2", header(), "Godkendt med rettelse")
    await store(engine, [v1, *v1_items])
    await store(engine, [v2, *v2_items])

    assert await superseded(engine) == {v1.document_id: v2.document_id, v2.document_id: None}
    current = await listed(engine)
    assert {d.document_id for d in current} == {v2.document_id}
    assert [d.decision_text for d in current] == ["Godkendt med rettelse (1)", "Godkendt med rettelse (2)"]
    assert len(await listed(engine, all_versions=True)) == 4
    meetings_listed = (await list_meetings(engine, ReadFilter())).items
    assert [m.document_id for m in meetings_listed] == [v2.document_id]
    # Every version stays stored.
    assert (await totals(engine)).meetings == 2


async def test_minutes_stay_current_when_their_agenda_arrives_later(engine: AsyncEngine) -> None:
    minutes, minutes_items = version("minutes", header(), "Godkendt")
    agenda_header = header().model_copy(update={"kind": DocumentKind.AGENDA})
    agenda, agenda_items = meeting("agenda", hdr=agenda_header, items=[item(1, decided=False)])
    await store(engine, [minutes, *minutes_items])
    await store(engine, [agenda, *agenda_items])
    assert await superseded(engine) == {agenda.document_id: minutes.document_id, minutes.document_id: None}
    assert {d.document_id for d in await listed(engine)} == {minutes.document_id}


async def test_only_the_same_municipality_committee_and_date_are_versions(engine: AsyncEngine) -> None:
    base, base_items = version("base", header("Aarhus Kommune", "Økonomiudvalget"), "A")
    # Case and spacing of the committee do not make another meeting.
    same, same_items = version("same", header("aarhus kommune", " økonomiudvalget  "), "B")
    other_day, other_day_items = version("day", header(day=dt.date(2025, 3, 4)), "C")
    other_committee, oc_items = version("committee", header(committee="Byrådet"), "D")
    no_date, no_date_items = version("no-date", header().model_copy(update={"meeting_date": None}), "E")
    no_date2, no_date2_items = version("no-date-2", header().model_copy(update={"meeting_date": None}), "F")
    for m, items in [
        (base, base_items),
        (same, same_items),
        (other_day, other_day_items),
        (other_committee, oc_items),
        (no_date, no_date_items),
        (no_date2, no_date2_items),
    ]:
        await store(engine, [m, *items])
    links = await superseded(engine)
    assert links.pop(base.document_id) == same.document_id
    # A header without a date cannot be matched to another: each such document is its own meeting.
    assert set(links.values()) == {None}


async def test_an_incomplete_version_does_not_replace_a_complete_one(engine: AsyncEngine) -> None:
    v1, v1_items = version("v1", header(), "Godkendt")
    v2, v2_items = version("v2", header(), "Rettet", n=3)
    await store(engine, [v1, *v1_items])
    await store(engine, [v2, *v2_items[:2]])
    assert (await superseded(engine))[v1.document_id] is None
    assert {d.document_id for d in await listed(engine)} == {v1.document_id}
    await store(engine, [v2_items[2]])
    assert (await superseded(engine))[v1.document_id] == v2.document_id


async def test_redelivering_an_old_version_does_not_make_it_current_again(engine: AsyncEngine) -> None:
    v1, v1_items = version("v1", header(), "Godkendt")
    v2, v2_items = version("v2", header(), "Rettet")
    await store(engine, [v1, *v1_items])
    await store(engine, [v2, *v2_items])
    await store(engine, [v1, *v1_items])  # at-least-once delivery: the same events again
    assert await superseded(engine) == {v1.document_id: v2.document_id, v2.document_id: None}


async def test_versions_completed_by_two_workers_at_once_leave_exactly_one_current(database_url: str) -> None:
    await migrate(database_url)
    one, other = create_engine(database_url), create_engine(database_url)
    try:
        for n in range(5):
            day = dt.date(2025, 1, 1) + dt.timedelta(days=n)
            a, a_items = version(f"race-a-{n}", header(day=day), "A", n=6)
            b, b_items = version(f"race-b-{n}", header(day=day), "B", n=6)
            # Each worker finishes one version and stores part of the other: both complete concurrently.
            await asyncio.gather(store(one, [a, *a_items, *b_items[:3]]), store(other, [b, *b_items[3:], *a_items[:2]]))
            links = await superseded(one)
            pair = {a.document_id: links[a.document_id], b.document_id: links[b.document_id]}
            current = [d for d, s in pair.items() if s is None]
            assert len(current) == 1, pair
            assert [s for s in pair.values() if s is not None] == current, pair
    finally:
        await one.dispose()
        await other.dispose()


async def test_the_migration_keys_and_resolves_meetings_stored_before_it(database_url: str) -> None:
    await migrate(database_url, revision="0001")
    eng = create_engine(database_url)
    try:
        now = dt.datetime(2025, 3, 5, 10, tzinfo=dt.UTC)
        async with eng.begin() as conn:
            for doc, kind, committee, completed in [
                ("a" * 64, "minutes", "Økonomiudvalget", "2025-03-05 10:00:00"),
                ("b" * 64, "minutes", "ØKONOMIUDVALGET", "2025-03-06 10:00:00"),
                ("c" * 64, "agenda", "Økonomiudvalget", "2025-03-07 10:00:00"),
                ("d" * 64, "minutes", "Byrådet", "2025-03-05 10:00:00"),
            ]:
                await conn.execute(
                    text("INSERT INTO documents (document_id, original_name, stored_at) VALUES (:d, '', :now)"),
                    {"d": doc, "now": now},
                )
                await conn.execute(
                    text(
                        "INSERT INTO meetings (document_id, kind, municipality, committee, meeting_date, "
                        "participants, item_count, complete, completed_at) VALUES "
                        "(:d, :kind, 'Aarhus Kommune', :committee, :day, '[]', 0, :true, :completed)"
                    ),
                    {
                        "d": doc,
                        "kind": kind,
                        "committee": committee,
                        "day": dt.date(2025, 3, 3),
                        "true": True,
                        "completed": dt.datetime.fromisoformat(completed).replace(tzinfo=dt.UTC),
                    },
                )
        await migrate(database_url)
        links = await superseded(eng)
        # b: the later of the two minutes; c is only an agenda; d is another committee.
        assert links == {"a" * 64: "b" * 64, "b" * 64: None, "c" * 64: "b" * 64, "d" * 64: None}
        async with eng.connect() as conn:
            keys = dict((await conn.execute(select(meetings.c.document_id, meetings.c.meeting_key))).all())
        assert keys["a" * 64] == keys["b" * 64] == "aarhus kommune|økonomiudvalget|2025-03-03"
    finally:
        await eng.dispose()


# --- revisions: a new version announces only what changed ----------------------------------------------


async def announced(engine: AsyncEngine) -> list[dict[str, object]]:
    """Every event in the outbox, oldest first, as the JSON subscribers receive."""
    async with engine.connect() as conn:
        rows = (await conn.execute(select(outbox.c.payload).order_by(outbox.c.id))).all()
    return [orjson.loads(r.payload) for r in rows]


async def test_corrected_minutes_announce_only_the_changed_decisions(engine: AsyncEngine) -> None:
    hdr = header(day=dt.date(2025, 6, 2))
    original = [
        item(1, text="Indstillingen godkendes."),
        item(2, text="Indstillingen godkendes."),
        item(3, text="Udvalget anbefaler forslaget.", outcome=Outcome.APPROVED),
    ]
    corrected = [
        # Only re-wrapped: the same decision to a reader.
        item(1, text="Indstillingen\n  godkendes."),
        item(2, text="Indstillingen godkendes med den ændring at fristen forlænges."),
        item(3, text="Udvalget anbefaler forslaget.", outcome=Outcome.REJECTED),
        item(4, text="Sagen blev taget til efterretning."),  # not in the first version
    ]
    v1, v1_items = meeting("rev-v1", hdr=hdr, items=original)
    v2, v2_items = meeting("rev-v2", hdr=hdr, items=corrected)
    await store(engine, [v1, *v1_items])
    first = await announced(engine)
    assert [e["event"] for e in first] == ["DecisionMade"] * 3
    made = {e["item_number"]: e for e in first}

    await store(engine, [v2, *v2_items])
    await store(engine, [v2, *v2_items])  # redelivered: nothing more
    later = (await announced(engine))[3:]
    assert sorted((e["event"], e["item_number"]) for e in later) == [
        ("DecisionMade", 4),
        ("DecisionRevised", 2),
        ("DecisionRevised", 3),
    ]
    revised = {e["item_number"]: e for e in later if e["event"] == "DecisionRevised"}
    two = revised[2]
    assert two["revises_event_id"] == made[2]["event_id"]
    assert two["previous_document_id"] == v1.document_id and two["document_id"] == v2.document_id
    assert two["previous_text"] == "Indstillingen godkendes."
    assert two["decision_text"] == "Indstillingen godkendes med den ændring at fristen forlænges."
    assert two["diff"] == [
        {"op": "equal", "old": "Indstillingen", "new": "Indstillingen"},
        {"op": "replace", "old": "godkendes.", "new": "godkendes med den ændring at fristen forlænges."},
    ]
    three = revised[3]
    assert (three["previous_outcome"], three["outcome"]) == ("approved", "rejected")
    same = "Udvalget anbefaler forslaget."
    assert three["diff"] == [{"op": "equal", "old": same, "new": same}]

    # A second correction revises what subscribers last heard (the revision), and repeats nothing else.
    third = [*corrected[:1], item(2, text="Indstillingen godkendes."), *corrected[2:]]
    v3, v3_items = meeting("rev-v3", hdr=hdr, items=third)
    await store(engine, [v3, *v3_items])
    (again,) = (await announced(engine))[6:]
    assert (again["event"], again["item_number"]) == ("DecisionRevised", 2)
    assert again["revises_event_id"] == two["event_id"]
    assert again["previous_text"] == two["decision_text"]


async def test_two_versions_in_one_batch_announce_each_item_once(engine: AsyncEngine) -> None:
    """A backfill hands the store several versions of a meeting in one batch: the later compares with the
    earlier as if they had come one by one (and two items of one document never compare with each other)."""
    hdr = header(day=dt.date(2025, 6, 9))
    twin = [item(1, text="Godkendt."), item(2, text="Godkendt.")]
    twin = [twin[0], twin[1].model_copy(update={"case_number": twin[0].case_number})]  # one case, two items
    v1, v1_items = meeting("batch-v1", hdr=hdr, items=twin)
    v2, v2_items = meeting(
        "batch-v2",
        hdr=hdr,
        items=[
            twin[0],
            twin[1].model_copy(
                update={"decision": twin[1].decision.model_copy(update={"text": "Godkendt med rettelse."})}
            ),
        ],
    )  # type: ignore[union-attr]
    await store(engine, [v1, *v1_items, v2, *v2_items])
    events = await announced(engine)
    assert [(e["event"], e["document_id"], e["item_number"]) for e in events] == [
        ("DecisionMade", v1.document_id, 1),
        ("DecisionMade", v1.document_id, 2),
        ("DecisionRevised", v2.document_id, 2),
    ]


async def _page_keys_drift(engine: AsyncEngine) -> list[tuple[object, ...]]:
    """Decisions whose copied page keys differ from what their meeting and item say now (should be none)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT d.item_id, d.listed, d.date_order, d.position, d.case_number, d.kle, m.complete, "
                    "m.superseded_by, m.meeting_date, a.position AS item_position, a.case_number AS item_case, "
                    "a.kle AS item_kle FROM decisions d JOIN meetings m ON m.document_id = d.document_id "
                    "JOIN agenda_items a ON a.id = d.item_id"
                )
            )
        ).all()
    drift = []
    for r in rows:
        day = r.meeting_date if isinstance(r.meeting_date, dt.date | None) else dt.date.fromisoformat(r.meeting_date)
        want = (bool(r.complete) and r.superseded_by is None, -day.toordinal() if day else 0, r.item_position,
                r.item_case, r.item_kle)  # fmt: skip
        if (bool(r.listed), r.date_order, r.position, r.case_number, r.kle) != want:
            drift.append((r.item_id, r.listed, r.date_order, want))
    return drift


async def test_decision_page_keys_follow_completion_supersession_and_redelivery(engine: AsyncEngine) -> None:
    v1, v1_items = version("keys-v1", header(), "Godkendt", n=3)
    v2, v2_items = version("keys-v2", header(), "Godkendt med rettelse", n=3)
    undated, undated_items = version("keys-undated", header().model_copy(update={"meeting_date": None}), "U")
    await store(engine, [v1, *v1_items[:2]])  # incomplete: its decisions are stored but not listed
    assert await _page_keys_drift(engine) == []
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM decisions WHERE listed"))).scalar_one() == 0
    await store(engine, [v1_items[2]])  # completes v1 in a batch that holds only its last item
    await store(engine, [v2, *v2_items, undated, *undated_items])  # supersedes v1
    await store(engine, [v1, *v1_items])  # a redelivery of the superseded version changes nothing
    assert await _page_keys_drift(engine) == []
    async with engine.connect() as conn:
        listed = (await conn.execute(text("SELECT document_id FROM decisions WHERE listed"))).scalars().all()
    assert sorted(listed) == sorted([v2.document_id] * 3 + [undated.document_id] * 2)

"""Builders of items-stream events for the store tests."""

from __future__ import annotations

import datetime as dt
import hashlib

from shared.contracts.events import AgendaItemParsed, MeetingParsed
from shared.contracts.meeting import AgendaItem, Decision, MeetingHeader, Outcome, Section, Votes

PARSED_AT = dt.datetime(2025, 3, 4, 12, 0, tzinfo=dt.UTC)


def doc_id(seed: str) -> str:
    """A sha256-shaped document id."""
    return hashlib.sha256(seed.encode()).hexdigest()


def header(
    municipality: str = "Aarhus Kommune", committee: str = "Økonomiudvalget", day: dt.date = dt.date(2025, 3, 3)
) -> MeetingHeader:
    """A meeting header."""
    return MeetingHeader(
        municipality=municipality,
        municipality_code=751,
        committee=committee,
        meeting_date=day,
        start_time="16:00",
        location="Rådhuset",
        participants=("Anna Jensen (A)", "Bo Hansen (V)"),
    )


def item(
    number: int,
    *,
    decided: bool = True,
    outcome: Outcome = Outcome.APPROVED,
    title: str | None = None,
    text: str | None = None,
) -> AgendaItem:
    """An agenda item, with a decision unless `decided` is false."""
    return AgendaItem(
        number=number,
        title=title or f"Punkt {number}: Ændring af lokalplan {number}",
        case_number=f"25/{1000 + number}",
        sections=(Section(name="Sagsfremstilling", text="..."), Section(name="Beslutning", text="Godkendt")),
        decision=Decision(text=text or f"Indstillingen godkendt ({number}).", outcome=outcome) if decided else None,
        absent=("Bo Hansen (V)",) if number % 2 else (),
        attachments=(f"bilag-{number}.pdf",),
        votes=Votes(in_favour=("A", "F"), against=("V",), in_favour_count=7, against_count=2) if number == 2 else None,
    )


def meeting(
    seed: str = "doc-1",
    n_items: int = 3,
    *,
    undecided: tuple[int, ...] = (),
    hdr: MeetingHeader | None = None,
    items: list[AgendaItem] | None = None,
) -> tuple[MeetingParsed, list[AgendaItemParsed]]:
    """A MeetingParsed and its AgendaItemParsed events."""
    document_id = doc_id(seed)
    # Different seeds are different meetings (another date) unless the test passes one header: the same
    # municipality, committee and date would make them versions of one meeting (services/store/versions.py).
    hdr = hdr or header(day=dt.date(2025, 1, 1) + dt.timedelta(days=int(document_id[:6], 16) % 3650))
    items = items if items is not None else [item(n + 1, decided=n not in undecided) for n in range(n_items)]
    count = len(items)
    parsed = MeetingParsed(
        document_id=document_id, original_name=f"{seed}.pdf", meeting=hdr, item_count=count, parsed_at=PARSED_AT
    )
    events = [
        AgendaItemParsed(
            document_id=document_id,
            original_name=f"{seed}.pdf",
            meeting=hdr,
            item=it,
            position=pos,
            item_count=count,
            parsed_at=PARSED_AT,
        )
        for pos, it in enumerate(items)
    ]
    return parsed, events

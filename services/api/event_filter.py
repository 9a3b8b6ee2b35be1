"""The read API's filter (`ReadFilter`) applied to one public event: what the live stream and the feeds send.

The matching itself is the alerts' (services/alerts/matching.py: the same rules as the search, the phrase
on Danish stems), so a subscription, the SSE stream and a feed with the same filter agree. This adds the
filter fields subscriptions do not have (dates, KLE, absent member) and an `EventContext` looked up in the
store for what an event does not carry: the region, the KLE number, and the item's sections, so a phrase
found only in a section matches here as it does in the search. Without a context a filter on those does
not match (never a false alert). `all_versions` means nothing for an announcement and is ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.matching import Filter, event_stems, matches
from services.store import search
from services.store.models import agenda_items, meetings
from services.store.read_models import ReadFilter
from shared.contracts.events import DecisionMade, DecisionRevised

Announcement = DecisionMade | DecisionRevised


@dataclass(frozen=True)
class EventContext:
    """What the store knows about an event's item that the event itself does not carry."""

    region: str | None = None
    kle: str | None = None
    body: str = ""


class EventMatcher:
    """A compiled filter: build once per subscriber, call `accepts` per event.

    Raises SearchSyntaxError (from `search.parse_query`) for a bad `q`, like the search does.
    """

    def __init__(self, flt: ReadFilter) -> None:
        self.filter = flt
        outcome = flt.outcome.value if flt.outcome else None
        q = (flt.q or "").strip() or None
        self._alerts = Filter(flt.municipality, flt.region, flt.committee, outcome, flt.case_number, q)

    @property
    def needs_context(self) -> bool:
        """True when `accepts` needs an EventContext (region, KLE or full text over the sections)."""
        return bool(self.filter.region or self.filter.kle or self._alerts.query)

    def accepts(self, event: Announcement, context: EventContext | None = None) -> bool:
        """Whether the event passes every part of the filter."""
        flt = self.filter
        if not _in_dates(event.meeting_date, flt.date_from, flt.date_to):
            return False
        if flt.absent and flt.absent.strip() and not _absent(event.absent, flt.absent):
            return False
        if flt.region and context is None:
            return False
        if flt.kle and (context is None or not (context.kle or "").startswith(flt.kle)):
            return False
        text = None
        if self._alerts.query is not None and context is not None and context.body:
            text = [*event_stems(event), "\x00", *search.stems(context.body)]
        return matches(self._alerts, event, region=context.region if context else None, text_stems=text)


def _in_dates(day: dt.date | None, start: dt.date | None, end: dt.date | None) -> bool:
    if start is None and end is None:
        return True
    if day is None:  # as in SQL: an undated meeting is outside every date range
        return False
    return (start is None or day >= start) and (end is None or day <= end)


def _absent(names: Sequence[str], wanted: str) -> bool:
    """The member is absent: the exact name, or the name followed by ` (party)`, any case."""
    needle = wanted.strip().lower()
    return any(n.lower() == needle or n.lower().startswith(needle + " (") for n in names)


async def event_context(engine: AsyncEngine, item_id: str) -> EventContext | None:
    """The region, KLE number and sections of a stored item (None when the store has no such item)."""
    stmt = (
        sa.select(meetings.c.region, agenda_items.c.kle, agenda_items.c.sections)
        .select_from(agenda_items.join(meetings, meetings.c.document_id == agenda_items.c.document_id))
        .where(agenda_items.c.id == item_id)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    return EventContext(region=row.region, kle=row.kle, body=search.sections_text(row.sections or []))

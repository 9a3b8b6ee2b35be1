"""The read layer's filter applied to one public event in memory: what live subscribers (SSE, feeds, alerts)
use to decide whether a `DecisionMade` / `DecisionRevised` is one they asked for.

The rules are those of `reader._meeting_conditions` / `_item_conditions`, and the full-text part is the
search syntax of `search.parse_query` matched on the same Danish Snowball stems as the SQLite index (title,
decision and — when the caller looked them up — the item's sections). An event does not carry the region,
the KLE number or the sections, so a filter on those needs an `EventContext` from the store
(`event_context`); without one such a filter does not match (never a false alert).

Differences from the database search, on purpose: PostgreSQL drops Danish stop words from a query, this
keeps them (as SQLite does); `all_versions` has no meaning for an announcement and is ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

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


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    return any(list(haystack[i : i + n]) == list(needle) for i in range(len(haystack) - n + 1))


class EventMatcher:
    """A compiled filter: build once per subscriber, call `accepts` per event.

    Raises SearchSyntaxError (from `search.parse_query`) for a bad `q`, like the search does.
    """

    def __init__(self, flt: ReadFilter) -> None:
        self.filter = flt
        q = (flt.q or "").strip()
        query = search.parse_query(q) if q else None
        # Terms as stem sequences: a phrase matches when its stems occur next to each other, in order.
        self._groups = [[search.stems(" ".join(term)) for term in group] for group in query.groups] if query else []
        self._excluded = [search.stems(" ".join(term)) for term in query.excluded] if query else []

    @property
    def needs_context(self) -> bool:
        """True when `accepts` needs an EventContext (region, KLE or full text over the sections)."""
        return bool(self.filter.region or self.filter.kle or self._groups)

    def accepts(self, event: Announcement, context: EventContext | None = None) -> bool:
        """Whether the event passes every part of the filter."""
        flt = self.filter
        if flt.municipality and (event.municipality or "").strip().lower() != flt.municipality.strip().lower():
            return False
        if flt.committee and flt.committee.strip().lower() not in (event.committee or "").lower():
            return False
        if not _in_dates(event.meeting_date, flt.date_from, flt.date_to):
            return False
        if flt.outcome and event.outcome != flt.outcome:
            return False
        if flt.case_number and (event.case_number or "") != flt.case_number.strip():
            return False
        if flt.absent and flt.absent.strip() and not _absent(event.absent, flt.absent):
            return False
        if flt.region and (context is None or (context.region or "").lower() != flt.region.strip().lower()):
            return False
        if flt.kle and (context is None or not (context.kle or "").startswith(flt.kle)):
            return False
        if self._groups or self._excluded:
            body = context.body if context is not None else ""
            words = search.stems("\n".join((event.item_title, event.decision_text, body)))
            if not all(any(_contains(words, term) for term in group) for group in self._groups):
                return False
            if any(_contains(words, term) for term in self._excluded):
                return False
        return True


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

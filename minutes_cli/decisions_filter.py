"""What a user asks `minutes decisions` for: the same rules for stored and for live decisions."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.contracts.events import DecisionMade, DecisionRevised
from shared.contracts.meeting import Outcome


@dataclass(frozen=True)
class DecisionFilter:
    """What a user wants to see; None means any."""

    since: dt.date | None = None
    municipality: str | None = None
    committee: str | None = None
    outcome: Outcome | None = None
    match: str | None = None
    # Stored decisions only: the live stream announces every version as it is stored.
    all_versions: bool = False

    def accepts(self, event: DecisionMade | DecisionRevised) -> bool:
        """Whether a live event passes the filter (the same rules the database query applies)."""
        if self.since and (event.meeting_date is None or event.meeting_date < self.since):
            return False
        if self.municipality and (event.municipality or "").casefold() != self.municipality.casefold():
            return False
        if self.committee and self.committee.casefold() not in (event.committee or "").casefold():
            return False
        if self.outcome and event.outcome != self.outcome:
            return False
        if self.match:
            needle = self.match.casefold()
            return needle in event.decision_text.casefold() or needle in event.item_title.casefold()
        return True

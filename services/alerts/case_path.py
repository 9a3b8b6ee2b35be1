"""A case's path through the bodies that treated it (e.g. AU → ØK → BY), each step with its decision.

Built from the read layer's `get_case`: the stored items with the case number (across meetings and
committees), merged with the earlier decisions those items cite in their history (a step the store never
saw a document of is still on the path). A cited decision of the same body on the same date as a stored
item is that item, not a second step.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

from services.readmodel.common import Target
from services.readmodel.items import get_case


class CaseStep(BaseModel):
    """One treatment of the case: a stored item, or an earlier decision cited in an item's history."""

    model_config = ConfigDict(frozen=True)

    date: dt.date | None
    body: str | None
    decision_text: str
    outcome: str | None = None
    source: Literal["item", "history"]
    item_id: str | None = None
    municipality: str | None = None


class CasePath(BaseModel):
    """The case's steps, oldest first, and the bodies in that order (repeats in a row folded)."""

    model_config = ConfigDict(frozen=True)

    case_number: str
    steps: list[CaseStep]
    bodies: list[str]

    @property
    def text(self) -> str:
        """The path as one line: `AU → ØK → BY`."""
        return " → ".join(self.bodies)


def _key(date: dt.date | None, body: str | None) -> tuple[dt.date | None, str]:
    return date, " ".join((body or "").split()).casefold()


async def case_path(target: Target, case_number: str) -> CasePath | None:
    """The path of a case number (spacing and case ignored), or None when no stored item has it."""
    case = await get_case(target, case_number)
    if case is None:
        return None
    steps: list[CaseStep] = []
    for row in case.items:
        if row.item.decision_text is None and row.kind != "minutes":
            continue  # an agenda's item: the case was on the table, nobody decided yet
        steps.append(
            CaseStep(
                date=row.meeting_date,
                body=row.committee,
                decision_text=row.item.decision_text or "",
                outcome=row.item.outcome.value if row.item.outcome else None,
                source="item",
                item_id=row.item.id,
                municipality=row.municipality,
            )
        )
    stored = {_key(s.date, s.body) for s in steps}
    for h in case.history:
        if _key(h.date, h.body) not in stored:
            steps.append(CaseStep(date=h.date, body=h.body, decision_text=h.text, source="history"))
    steps.sort(key=lambda s: (s.date or dt.date.max, s.source != "history"))
    bodies: list[str] = []
    for s in steps:
        if s.body and (not bodies or bodies[-1].casefold() != s.body.casefold()):
            bodies.append(s.body)
    return CasePath(case_number=case_number, steps=steps, bodies=bodies)

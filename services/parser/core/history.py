"""The case's history inside an item: decisions of earlier meetings, never this meeting's decision.

Agenda systems print it in two ways. As a history section (`Sagsforløb`, `Tidligere behandling`,
`Sagens forløb`) of entries, each opened by labels (`Udvalg: Magistraten` / `Dato: 19-08-2025` /
`Punktnummer: 4`) or by a dated heading (`Økonomiudvalget, 12. maj 2022:`, `18. september 2012:`);
and as a chain of dated decision headings of which only the one of this meeting is current
(`Beslutning i Udvalget for … den 10-04-2013`). Both become `EarlierDecision`s (date, body, text).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Final

from services.parser.core.dates import find_date
from services.parser.core.sections import chain_heading
from shared.contracts.meeting import EarlierDecision

# Labels that open or date an entry of a history section.
_BODY_LABEL: Final = re.compile(r"^(?:udvalg|forum|møde|mødeforum|organ|behandlet\s+i)\s*:\s*(?P<value>.+)$", re.I)
_DATE_LABEL: Final = re.compile(r"^(?:dato|mødedato)\s*:\s*(?P<value>.+)$", re.I)
_SKIP_LABEL: Final = re.compile(r"^(?:punktnummer|punkt|pkt\.?|sagsnr\.?|sagsnummer)\s*:", re.I)
_MAX_TEXT: Final = 4000


@dataclass
class _Entry:
    body: str | None = None
    date: dt.date | None = None
    lines: list[str] = field(default_factory=list)

    def done(self) -> EarlierDecision | None:
        text = "\n".join(self.lines).strip()
        if not text and self.body is None and self.date is None:
            return None
        return EarlierDecision(date=self.date, body=self.body, text=text[:_MAX_TEXT])


def history_entries(lines: list[str]) -> list[EarlierDecision]:
    """The entries of one history section, in printed order."""
    entries: list[EarlierDecision] = []
    current: _Entry | None = None

    def close() -> None:
        if current is not None and (done := current.done()) is not None:
            entries.append(done)

    for line in lines:
        body = _BODY_LABEL.match(line)
        if body is not None:
            close()
            current = _Entry(body=body.group("value").strip())
            continue
        date = _DATE_LABEL.match(line)
        if date is not None:
            if current is None or current.date is not None or current.lines:
                close()
                current = _Entry()
            current.date = find_date(date.group("value"))
            continue
        if _SKIP_LABEL.match(line):
            continue
        heading = chain_heading(line) if len(line) < 200 else None
        if heading is not None and heading.date is not None:
            close()
            current = _Entry(body=heading.who, date=heading.date)
            if heading.inline:
                current.lines.append(heading.inline)
            continue
        if current is None:
            current = _Entry()
        current.lines.append(line)
    close()
    return entries


def earlier_decision(who: str | None, date: dt.date | None, lines: list[str]) -> EarlierDecision:
    """A decision block of an earlier meeting, kept as history."""
    return EarlierDecision(date=date, body=who, text="\n".join(lines).strip()[:_MAX_TEXT])

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

from services.parser.core.dates import DATE, find_date, parse_date
from services.parser.core.sections import chain_heading
from shared.contracts.meeting import EarlierDecision

# Labels that open or date an entry of a history section.
_BODY_LABEL: Final = re.compile(r"^(?:udvalg|forum|møde|mødeforum|organ|behandlet\s+i)\s*:\s*(?P<value>.+)$", re.I)
_DATE_LABEL: Final = re.compile(r"^(?:dato|mødedato)\s*:\s*(?P<value>.+)$", re.I)
_SKIP_LABEL: Final = re.compile(r"^(?:punktnummer|punkt|pkt\.?|sagsnr\.?|sagsnummer)\s*:", re.I)
_MAX_TEXT: Final = 4000
# `… Punkt 4` after a history entry's body: the item number at that meeting, not part of the name.
_ITEM_REF: Final = re.compile(r"\s*[,-]?\s*(?:punkt|pkt\.?)\s*\d{1,4}\.?\s*$", re.I)
_HEAD_MAX: Final = 160
_WHO_MAX: Final = 100
_BODY_KEY: Final = 10


@dataclass
class _Entry:
    body: str | None = None
    date: dt.date | None = None
    lines: list[str] = field(default_factory=list)

    def done(self) -> EarlierDecision | None:
        text = "\n".join(self.lines).strip()
        # Text before the first dated or labelled entry (`Sagen har tidligere været behandlet:`) is no decision.
        if self.body is None and self.date is None:
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
        opened = _entry_head(line)
        if opened is not None:
            close()
            current = _Entry(body=opened[1], date=opened[0])
            if opened[2]:
                current.lines.append(opened[2])
            continue
        if current is None:
            current = _Entry()
        current.lines.append(line)
    close()
    return entries


def _entry_head(line: str) -> tuple[dt.date, str | None, str] | None:
    """(date, body, inline text) of a line that opens a dated entry, else None.

    `Økonomiudvalget, 4. oktober 2023: Anbefales` (a chained heading, inline text after the colon),
    `18. september 2012: Sagen udsat`, `15-01-2024 Teknik- og Miljøudvalget`, `IT-udvalget den 3. marts
    2021 Punkt 4`. A sentence that mentions a date (`Udvalget besluttede den 5. maj at …`) is text.
    """
    if len(line) > _HEAD_MAX:
        return None
    chained = chain_heading(line)
    if chained is not None and chained.date is not None:
        return chained.date, chained.who, chained.inline
    if line.rstrip().endswith("."):
        return None
    m = DATE.search(line)
    date = parse_date(m) if m is not None else None
    if m is None or date is None:
        return None
    before = re.sub(r"\s+(?:den|d\.)$", "", line[: m.start()].strip(" ,:-–"), flags=re.I).strip()
    after = _ITEM_REF.sub("", line[m.end() :].strip(" ,:-–")).strip(" ,:-–")
    if before and after:
        return None
    who = before or after or None
    if who is not None and len(who) > _WHO_MAX:
        return None
    return date, who, ""


def only_earlier(entries: list[EarlierDecision], before: dt.date | None,
                 committee: str | None = None) -> list[EarlierDecision]:
    """History entries before the meeting, oldest first; none dated after it (a plan is no history),
    and not this meeting's own entry (same day, same body) when a portal lists it in the case's course."""
    if before is not None:
        entries = [
            e for e in entries
            if e.date is None or e.date < before
            or (e.date == before and not (e.body and committee and same_body(e.body, committee)))
        ]
    return sorted(entries, key=lambda e: e.date or dt.date.min)


def same_body(a: str, b: str) -> bool:
    """`Klima, Teknik og Miljøudvalget` is `Klima-, Teknik- og Miljøudvalget`; `Byrådet` is `Byråd`."""
    ka, kb = (re.sub(r"\W+", "", x.casefold())[:_BODY_KEY] for x in (a, b))
    return bool(ka) and bool(kb) and (ka.startswith(kb) or kb.startswith(ka))


def earlier_decision(who: str | None, date: dt.date | None, lines: list[str]) -> EarlierDecision:
    """A decision block of an earlier meeting, kept as history."""
    return EarlierDecision(date=date, body=who, text="\n".join(lines).strip()[:_MAX_TEXT])

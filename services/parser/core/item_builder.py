"""One agenda item from its body lines: sections, case number, decision, absentees, attachments."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from services.parser.core.decisions import (
    absent_names,
    classify_outcome,
    current_block,
    decision_blocks,
    decision_lines,
    parse_votes,
)
from services.parser.core.header import split_people
from services.parser.core.items import ItemSpan, clean_title
from services.parser.core.normalize import continues
from services.parser.core.patterns import (
    ATTACHMENTS,
    ATTENDANCE,
    CASE_LABEL,
    CASE_SHAPES,
    CLOSED_LINES,
    LOOSE_CASE_LABELS,
    OPEN_CLOSED_SUFFIX,
    OPEN_LINES,
)
from services.parser.core.sections import Heading, RawSection, split_sections
from shared.contracts.meeting import AgendaItem, Decision, Section

_CASE_WINDOW: Final = 4
# `Bilag 1 - Notat.pdf` / `Bilag 2: Kort` printed as a line of its own anywhere in an item.
_BILAG_LINE: Final = re.compile(r"^Bilag\s+\d{1,3}\s*[:.\-–]\s*\S", re.I)
_BILAG_NUMBERING: Final = re.compile(r"^(?:\d{1,3}\s*[.)]\s+|bilag\s+\d{1,3}\s*[:.\-–]?\s*)", re.I)
# Link residue after an attachment title: `([3613113](#))`, `(3613113)`, `(PDF, 2 MB)`.
_LINK_TAIL: Final = re.compile(r"\s*\((?:\[\d+\]\(#?[^)]*\)|\d{4,}|pdf[^)]{0,20})\)\s*$", re.I)
_NO_ATTACHMENT: Final = frozenset({"ingen", "ingen bilag", "intet", "ingen.", "-", "bilag", "intet bilag"})
_ABSENCE_TITLES: Final = frozenset({"fraværende", "afbud", "fravær", "afbud og fravær", "fraværende/afbud",
                                    "afbud/fraværende", "fremmøde", "deltagere og fravær"})
_POLWEB_CASE: Final = re.compile(r"^(\d{3})-\d{4}-\d+$")


@dataclass(frozen=True)
class MeetingContext:
    """What items need to know about their meeting to pick the current decision."""

    meeting_date: dt.date | None
    committee: str | None
    width: int | None


def build_item(span: ItemSpan, lines: list[str], headings: list[Heading | None],
               ctx: MeetingContext) -> AgendaItem:
    """An AgendaItem from the body lines of one item span."""
    preamble, sections = split_sections(lines, headings)
    closed = span.closed
    intro: list[str] = []
    for line in preamble:
        marker = _marker(line, span.title)
        if marker is None:
            intro.append(line)
        elif marker:
            closed = True
    blocks = decision_blocks(sections)
    block = current_block(blocks, ctx.meeting_date, ctx.committee)
    decision = None
    votes = None
    attendance: list[str] = list(intro)
    if block is not None:
        text = "\n".join(decision_lines(block.lines))
        decision = Decision(text=text, outcome=classify_outcome(text))
        votes = parse_votes(text)
        attendance.extend(block.lines)
    # A decision section holding only attendance (`Beslutning` / `X havde meldt afbud`) records no
    # decision, but its absentees count.
    attendance.extend(
        line for b in blocks if b is not block and b.date is None and not decision_lines(b.lines) for line in b.lines
    )
    for section in sections:
        if section.heading.kind == ATTENDANCE:
            attendance.extend(f"{section.heading.name}: {ln}" for ln in section.lines)
    absent = absent_names(attendance)
    if span.title.casefold().rstrip(":") in _ABSENCE_TITLES:
        absent = absent or _listed_people(intro + (block.lines if block else []))
    return AgendaItem(
        number=span.number,
        title=span.title,
        case_number=span.case_number or find_case_number(intro, lines),
        is_closed=closed,
        sections=tuple(_sections(intro, sections)),
        decision=decision,
        absent=tuple(absent),
        attachments=tuple(_attachments(sections, lines, ctx.width)),
        votes=votes,
    )


def _marker(line: str, title: str) -> bool | None:
    """True/False for a closed/open marker line (`Lukket punkt`, `1. Title (Åben)`), None otherwise."""
    key = line.casefold().rstrip(".:")
    if key in CLOSED_LINES:
        return True
    if key in OPEN_LINES:
        return False
    if OPEN_CLOSED_SUFFIX.search(line):
        # The item heading printed again with its access marker.
        _, closed = clean_title(line)
        return closed
    return None


def find_case_number(intro: list[str], body: list[str]) -> str | None:
    """The case number on its own line under the heading, else the first labelled one in the item."""
    for line in intro[:_CASE_WINDOW]:
        if CASE_SHAPES.match(line):
            return line
    for line in body:
        if len(line) > 400:
            continue
        for m in CASE_LABEL.finditer(line):
            value = m.group("value").rstrip(".,;:")
            label = m.group("label").casefold()
            if not any(ch.isdigit() for ch in value) or len(value) < 4:
                continue
            if label in LOOSE_CASE_LABELS and not CASE_SHAPES.match(value):
                continue
            return value
    return None


def polweb_prefix(case_number: str | None) -> int | None:
    """The municipality code leading a KMD PolWeb case number (`306-2009-600` -> 306)."""
    m = _POLWEB_CASE.match(case_number or "")
    return int(m.group(1)) if m else None


def _sections(intro: list[str], sections: list[RawSection]) -> list[Section]:
    out: list[Section] = []
    if intro:
        out.append(Section(name="", text="\n".join(intro)))
    out.extend(Section(name=s.heading.name, text="\n".join(s.lines)) for s in sections)
    return out


def _attachments(sections: list[RawSection], body: list[str], width: int | None) -> list[str]:
    """Attachment titles from Bilag sections and `Bilag N - …` lines, each once."""
    entries: list[str] = []
    for section in sections:
        if section.heading.kind == ATTACHMENTS:
            entries.extend(_join_wrapped(section.lines, width))
    entries.extend(line for line in body if _BILAG_LINE.match(line))
    seen: set[str] = set()
    out: list[str] = []
    for entry in entries:
        title = _LINK_TAIL.sub("", entry).strip()
        if _marker(title, "") is not None or title.casefold().rstrip(".") in _NO_ATTACHMENT:
            continue
        key = _BILAG_NUMBERING.sub("", title).casefold().strip(" .")
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(title)
    return out


def _join_wrapped(lines: list[str], width: int | None) -> list[str]:
    """Re-join attachment titles that a hard-wrapped PDF broke over two lines."""
    out: list[str] = []
    for line in lines:
        if out and continues(out[-1], line, width, strict=True):
            sep = "" if out[-1].endswith(("-", "_")) or " " not in out[-1] else " "
            out[-1] = f"{out[-1]}{sep}{line}"
        else:
            out.append(line)
    return out


def _listed_people(lines: list[str]) -> list[str]:
    """Names listed under an item called `Fraværende`/`Afbud`."""
    people: list[str] = []
    for line in lines:
        if len(line) < 120 and not any(ch.isdigit() for ch in line):
            people.extend(p for p in split_people(line) if p[:1].isupper() and len(p.split()) <= 5)
    return people

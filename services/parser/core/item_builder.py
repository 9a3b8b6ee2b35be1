"""One agenda item from its body lines: sections, case number, decision, absentees, attachments."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from services.parser.core.attachments import join_unfinished, list_lines, unfinished
from services.parser.core.blocks import ATTACHMENT, Block
from services.parser.core.cover import pair_columns
from services.parser.core.decisions import (
    absent_names,
    current_block,
    decision_blocks,
    decision_lines,
    has_outcome,
    is_attendance,
    is_unreleased,
    item_outcome,
)
from services.parser.core.header import split_people
from services.parser.core.history import earlier_decision, history_entries
from services.parser.core.items import ItemSpan, clean_title
from services.parser.core.normalize import continues, paragraphs
from services.parser.core.patterns import (
    ATTACHMENTS,
    ATTENDANCE,
    CASE_LABEL,
    CASE_SHAPES,
    CLOSED_LINES,
    HISTORY,
    LOOSE_CASE_LABELS,
    OPEN_CLOSED_SUFFIX,
    OPEN_LINES,
    PLACEHOLDERS,
)
from services.parser.core.sections import Heading, RawSection, split_sections
from services.parser.core.votes import read_votes
from shared.contracts.meeting import AgendaItem, Decision, Section

_CASE_WINDOW: Final = 4
# `Sagsnr.:` alone on its line: a label whose value the PDF printed in the next column.
_BARE_FIELD: Final = re.compile(r"^[A-ZÆØÅ][\w.\- ]{1,30}:$")
# `Bilag 1 - Notat.pdf` / `Bilag 2: Kort` printed as a line of its own anywhere in an item.
_BILAG_LINE: Final = re.compile(r"^Bilag\s+\d{1,3}\s*[:.\-–]\s*\S", re.I)
_BILAG_NUMBERING: Final = re.compile(r"^(?:\d{1,3}\s*[.)]\s+|bilag\s+\d{1,3}\s*[:.\-–]?\s*)", re.I)
# Link residue after an attachment title: `([3613113](#))`, `(3613113)`, `(PDF, 2 MB)`.
_LINK_TAIL: Final = re.compile(r"\s*\((?:\[\d+\]\(#?[^)]*\)|\d{4,}|pdf[^)]{0,20})\)\s*$", re.I)
_NO_ATTACHMENT: Final = frozenset({"ingen", "ingen bilag", "intet", "ingen.", "-", "bilag", "intet bilag"})
_ABSENCE_TITLES: Final = frozenset({"fraværende", "afbud", "fravær", "afbud og fravær", "fraværende/afbud",
                                    "afbud/fraværende", "fremmøde", "deltagere og fravær"})
_POLWEB_CASE: Final = re.compile(r"^(\d{3})-\d{4}-\d+$")
# A closed item's bare minute is a few lines; a longer preamble is case text.
_BARE_MINUTE_MAX: Final = 1500
_TITLE_TAIL_MAX: Final = 80  # the wrapped end of a title is shorter than a body line
# A line closer than this share of a list's usual line spacing continues the entry above it.
_WRAP_GAP: Final = 0.75


@dataclass(frozen=True)
class MeetingContext:
    """What items need to know about their meeting to pick the current decision."""

    meeting_date: dt.date | None
    committee: str | None
    width: int | None


def build_item(span: ItemSpan, body: list[Block], headings: list[Heading | None],
               ctx: MeetingContext) -> AgendaItem:
    """An AgendaItem from the body blocks of one item span."""
    lines = [b.text for b in body]
    preamble, sections = split_sections(lines, headings)
    title = span.title
    if preamble and _title_wraps_onto(title, preamble[0]):
        # `2. Redegørelse fra Træning og Aktivitet vedrørende` / `Ældrerådets høringssvar`: the title goes on.
        title, preamble = f"{title} {preamble[0]}", preamble[1:]
    closed = span.closed
    intro: list[str] = []
    for line in preamble:
        marker = _marker(line, title)
        if marker is None:
            intro.append(line)
        elif marker:
            closed = True
    blocks = [b for b in decision_blocks(sections) if not _placeholder(b.lines)]
    block = current_block(blocks, ctx.meeting_date, ctx.committee)
    history = [
        earlier_decision(b.who, b.date, decision_lines(b.lines))
        for b in blocks
        if b is not block and b.date is not None and b.date != ctx.meeting_date and decision_lines(b.lines)
    ]
    for section in sections:
        if section.heading.kind == HISTORY:
            history.extend(history_entries(section.lines))
    decision_text: str | None = None
    attendance: list[str] = list(intro)
    if block is not None:
        decision_text = paragraphs(decision_lines(block.lines), ctx.width)
        attendance.extend(block.lines)
    elif closed and not blocks:
        # A closed item is often printed as its minute alone, without a decision heading (`Lukket: Køb af
        # ejendom` / case number / `Tilbagesendes … har vedtaget …`): the lines that state an outcome are it.
        decision_text = _bare_minute(intro)
    decision = None
    votes = None
    if decision_text:
        decision = Decision(text=decision_text, outcome=item_outcome(title, decision_text))
        votes = read_votes(decision_text)
    # A decision section holding only attendance (`Beslutning` / `X havde meldt afbud`) records no
    # decision, but its absentees count.
    attendance.extend(
        line for b in blocks if b is not block and b.date is None and not decision_lines(b.lines) for line in b.lines
    )
    for section in sections:
        if section.heading.kind == ATTENDANCE:
            attendance.extend(f"{section.heading.name}: {ln}" for ln in section.lines)
    absent = absent_names(attendance)
    if title.casefold().rstrip(":") in _ABSENCE_TITLES:
        absent = absent or _listed_people(intro + (block.lines if block else []))
    marked = [b.text for b in body if b.kind == ATTACHMENT]
    return AgendaItem(
        number=span.number,
        title=title,
        case_number=span.case_number or find_case_number(intro, lines),
        is_closed=closed,
        sections=tuple(_sections(intro, sections, ctx.width)),
        decision=decision,
        absent=tuple(absent),
        # Links the format marks as attachments are the list; the text rules only where it marks none.
        attachments=tuple(marked) if marked else tuple(_attachments(sections, lines, ctx.width, body)),
        votes=votes,
        history=tuple(history),
        page=span.page,
    )


def _placeholder(lines: list[str]) -> bool:
    """A decision field holding only a template's placeholder (`Tomt indhold`): no decision at all."""
    text = " ".join(lines).strip().casefold().rstrip(".")
    return bool(text) and (text in PLACEHOLDERS or is_unreleased(text))


def _bare_minute(intro: list[str]) -> str | None:
    lines = [ln for ln in intro if not CASE_SHAPES.match(ln) and not is_attendance(ln)]
    text = "\n".join(lines)
    if not text or len(text) > _BARE_MINUTE_MAX or not has_outcome(text):
        return None
    return text


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
    """The case number on its own line under the heading, else the first labelled one in the item.

    Labels printed before their values (`Sagsnr.:` / `Sagen afgøres i:` / `22/10554` / `Byrådet`) are paired.
    """
    intro = pair_columns(intro[: _CASE_WINDOW * 2], _is_bare_field) + intro[_CASE_WINDOW * 2 :]
    for line in intro[:_CASE_WINDOW]:
        if CASE_SHAPES.match(line):
            return line
    for line in intro + body:
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


def _is_bare_field(line: str) -> bool:
    return _BARE_FIELD.match(line) is not None


def polweb_prefix(case_number: str | None) -> int | None:
    """The municipality code leading a KMD PolWeb case number (`306-2009-600` -> 306)."""
    m = _POLWEB_CASE.match(case_number or "")
    return int(m.group(1)) if m else None


def _title_wraps_onto(title: str, line: str) -> bool:
    """A title cut on a word no title ends with, continued by a short line that is no label or case number."""
    if not unfinished(title) or len(line) > _TITLE_TAIL_MAX or ":" in line or not line[:1].isalpha():
        return False
    return not CASE_SHAPES.match(line) and not line.endswith(".")


def _sections(intro: list[str], sections: list[RawSection], width: int | None) -> list[Section]:
    out: list[Section] = []
    if intro:
        out.append(Section(name="", text="\n".join(intro)))
    out.extend(Section(name=s.heading.name, text=paragraphs(s.lines, width)) for s in sections)
    return out


def _attachments(sections: list[RawSection], body: list[str], width: int | None,
                 blocks: list[Block] | None = None) -> list[str]:
    """Attachment titles from Bilag sections and `Bilag N - …` lines, each once."""
    entries: list[str] = []
    for section in sections:
        if section.heading.kind == ATTACHMENTS:
            listed_lines = list_lines(section.lines)
            entries.extend(join_unfinished(_join_wrapped(listed_lines, width, _gaps(listed_lines, blocks))))
    # `Bilag 2: Kort` lines outside the attachment list (the list's own lines are in it already, joined).
    listed = {id(line) for section in sections if section.heading.kind == ATTACHMENTS for line in section.lines}
    # The first letter before the regex (`_BILAG_LINE` opens with `Bilag`): this runs on every line of every item.
    entries.extend(line for line in body if line[:1] in "bB" and _BILAG_LINE.match(line) and id(line) not in listed)
    seen: set[str] = set()
    out: list[str] = []
    for entry in entries:
        title = _LINK_TAIL.sub("", entry).strip()
        # A line of document numbers (`222359/12`) under an entry is its reference, not another attachment.
        if not any(ch.isalpha() for ch in title):
            continue
        if _marker(title, "") is not None or title.casefold().rstrip(".") in _NO_ATTACHMENT:
            continue
        key = _BILAG_NUMBERING.sub("", title).casefold().strip(" .")
        if not key or key in seen:
            continue
        seen.add(key)
        out.append(title)
    return out


def _gaps(lines: list[str], blocks: list[Block] | None) -> list[float] | None:
    """Vertical distance of each line from the one before (PDF), to tell wrapped lines from new entries."""
    if not blocks or not lines or blocks[0].top < 0:
        return None  # no positions (text, HTML, DOCX)
    by_text: dict[str, list[Block]] = {}
    for b in blocks:
        by_text.setdefault(b.text, []).append(b)
    found: list[Block] = []
    for line in lines:
        candidates = by_text.get(line)
        if not candidates:
            return None
        found.append(candidates.pop(0) if len(candidates) > 1 else candidates[0])
    if any(b.top < 0 for b in found):
        return None
    gaps = [-1.0]
    for prev, cur in pairwise(found):
        gaps.append(cur.top - prev.top if cur.page == prev.page and cur.top > prev.top else -1.0)
    return gaps


def _join_wrapped(lines: list[str], width: int | None, gaps: list[float] | None = None) -> list[str]:
    """Re-join attachment titles that a PDF broke over two lines.

    With positions, a line set closer under the previous one than the list's usual spacing wraps
    it (entries of a list are spaced wider than the lines of one entry); without, the text rule.
    """
    spacing = sorted(g for g in gaps if g > 0) if gaps else []
    usual = spacing[len(spacing) // 2] if len(spacing) >= 2 else 0.0
    out: list[str] = []
    for i, line in enumerate(lines):
        # Set close under the entry above, and reading on from it (lower case, or a dangling comma or hyphen).
        tight = (
            gaps is not None and usual > 0 and 0 < gaps[i] < _WRAP_GAP * usual and bool(out)
            and (line[:1].islower() or out[-1].endswith(("-", ",", "/", "_")))
        )
        if out and (tight or (not usual and continues(out[-1], line, width, strict=True))):
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

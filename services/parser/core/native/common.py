"""What both native readers do with a field once its text is known: decision, attendance, history.

The rules themselves live in `decisions.py`, `header.py` and `patterns.py` and are only called here,
so a structured export and a PDF of the same minutes are judged alike.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET  # the tree type only
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from services.parser.core.decisions import (
    DecisionBlock,
    absent_names,
    classify_outcome,
    current_block,
    decision_blocks,
    decision_lines,
    is_unreleased,
)
from services.parser.core.header import split_people
from services.parser.core.history import history_entries, only_earlier, same_body
from services.parser.core.municipality import Municipality, detect_municipality, detect_region
from services.parser.core.native.fields import html_blocks, split_sections
from services.parser.core.patterns import (
    ATTENDANCE,
    DECISION,
    DECISION_HEADING,
    FILLER,
    OTHER,
    RECOMMENDATION,
    SECTION_NAMES,
)
from services.parser.core.sections import Heading, RawSection, classify_heading
from services.parser.core.votes import read_votes
from shared.contracts.meeting import (
    AgendaItem,
    Decision,
    DocumentKind,
    EarlierDecision,
    ParsedMeeting,
    Section,
    Votes,
)

# Texts an agenda system leaves in a field nobody filled in: they are no decision.
PLACEHOLDERS: Final = frozenset(
    {"tomt indhold", "tomt", "intet indhold", "ingen indhold", "ingen tekst", "ingen beslutning", "beslutning",
     "udfyldes efter mødet", "udfyldes på mødet", "afventer", "afventer mødet", "ikke udfyldt", "-", "–", "—",
     ".", "..", "...", "…", "x", "xx", "xxx", "n/a"}
)
# Captions of fields that hold the case's earlier treatment: dated lines there are history.
HISTORY_CAPTIONS: Final = frozenset(
    {"tidligere behandling", "tidligere behandlinger", "tidligere beslutninger", "tidligere beslutning",
     "sagens forløb", "sagsforløb", "historik", "tidl. politisk behandling", "tidligere politisk behandling",
     "tidligere politiske behandlinger", "politisk behandling"}
)
# Captions that say who decides, not what was decided (`Beslutningen træffes af`, `Beslutningskompetence`).
_NOT_DECISION: Final = re.compile(r"^(?:beslutningen\s|beslutnings(?:kompetence|niveau|tema|punkter))", re.I)


def caption_kind(caption: str) -> str:
    """The parser's section kind for a field caption: decision, recommendation, attachments, ..."""
    key = caption.casefold().strip().rstrip(" :")
    if not key:
        return OTHER
    if key in SECTION_NAMES:
        return SECTION_NAMES[key]
    if _NOT_DECISION.match(key):
        return OTHER
    if DECISION_HEADING.match(key):
        return DECISION
    heading = classify_heading(caption.strip())
    if heading is not None:
        return heading.kind
    if key.startswith("indstilling"):
        return RECOMMENDATION
    return OTHER


def is_history_caption(caption: str) -> bool:
    return caption.casefold().strip().rstrip(" :") in HISTORY_CAPTIONS


def is_placeholder(text: str) -> bool:
    """Whether a field's text is empty or only a placeholder (`Tomt indhold`, `-`)."""
    key = re.sub(r"\s+", " ", text).strip().casefold().rstrip(" .:!")
    return not key or key in PLACEHOLDERS or bool(FILLER.match(key)) or is_unreleased(key)


@dataclass(frozen=True)
class ReadDecision:
    """This meeting's decision of a field, the members it records as absent, any vote, and the
    earlier decisions the field also printed (chained `Beslutning i X den <date>` blocks)."""

    decision: Decision | None
    absent: tuple[str, ...]
    votes: Votes | None
    history: tuple[EarlierDecision, ...] = ()


def read_decision(caption: str, lines: list[str], meeting_date: dt.date | None,
                  committee: str | None) -> ReadDecision:
    """A decision field's lines to this meeting's decision.

    The field is split at dated decision sub-headings as the text path does (`decision_blocks`,
    `current_block`); a caption dated another day or naming another body makes it history. Attendance
    notes (`Afbud: X`) of the chosen block give absentees and never the decision text.
    """
    heading = classify_heading(caption) if caption else None
    if heading is None or heading.kind != DECISION:
        heading = Heading(caption, DECISION)
    blocks = decision_blocks([RawSection(heading, lines)])
    chosen = current_block(blocks, meeting_date, committee)
    if chosen is not None and _other_meeting(chosen, meeting_date, committee):
        chosen = None
    history = tuple(
        EarlierDecision(date=b.date, body=b.who, text="\n".join(decision_lines(b.lines)))
        for b in blocks
        if b is not chosen and (b.date or b.who) and decision_lines(b.lines)
    )
    if chosen is None:
        # No decision, but `Afbud: X` alone in this meeting's field still records an absence.
        own = [line for b in blocks if b.date is None and not _other_meeting(b, meeting_date, committee)
               for line in b.lines]
        return ReadDecision(None, tuple(absent_names(own)), None, history)
    absent = tuple(absent_names(chosen.lines))
    text = "\n".join(decision_lines(chosen.lines)).strip()
    if is_placeholder(text):
        return ReadDecision(None, absent, None, history)
    decision = Decision(text=text, outcome=classify_outcome(text))
    return ReadDecision(decision, absent, read_votes(text), history)


def _other_meeting(block: DecisionBlock, meeting_date: dt.date | None, committee: str | None) -> bool:
    """A decision dated another day, or taken by a body that is not this meeting's committee."""
    if block.date is not None and meeting_date is not None:
        return block.date != meeting_date
    if block.who and committee:
        return not same_body(block.who, committee)
    return False


def people(names: Iterable[str]) -> list[str]:
    """Member names without party letters and roles, each once, in order."""
    out: dict[str, str] = {}
    for raw in names:
        for name in split_people(raw):
            out.setdefault(name.casefold(), name)
    return list(out.values())


def merge_names(*groups: Iterable[str]) -> tuple[str, ...]:
    out: dict[str, str] = {}
    for group in groups:
        for name in group:
            out.setdefault(name.casefold(), name)
    return tuple(out.values())


def municipality_of(addresses: Iterable[str], texts: Iterable[str] = ()) -> Municipality | None:
    """The municipality from the export's own web and mail addresses, else from its header texts.

    Addresses (`https://dagsordener.vejle.dk/…`, `post@odder.dk`) are the system's own and name its
    owner; the text of the items would also name neighbours and partners, so it is read only when
    the addresses name no municipality.
    """
    links = " ".join(a for a in addresses if a)
    if links:
        found = detect_municipality("", 0, [], links)
        if found is not None:
            return found
    header = "\n".join(t for t in texts if t)
    return detect_municipality(header, len(header), []) if header else None


# Element names under which exports name their owner: `Organisation`, `OrganizationName`,
# `departmentName` (Acadre), `Municipality`, `Kommune`, `Myndighed`, `Authority`, `Region`.
_ORGANISATION_TAG: Final = re.compile(r"organi[sz]ation|department|municipal|kommune|myndighed|authority|region",
                                      re.I)
_MAX_ORGANISATION: Final = 200


def organisation_names(elements: Iterable[ET.Element]) -> list[str]:
    """The texts of elements whose name says they name the organisation (`Organisation`, `departmentName`).

    An element's own text counts, else its `Name` child. Only short texts: an organisation is named,
    not described.
    """
    out: list[str] = []
    for el in elements:
        if not isinstance(el.tag, str) or not _ORGANISATION_TAG.search(el.tag):
            continue
        text = (el.text or "").strip()
        if not text:
            text = (el.findtext("Name") or "").strip()
        if text and len(text) <= _MAX_ORGANISATION and any(ch.isalpha() for ch in text):
            out.append(text)
    return list(dict.fromkeys(out))


def owner_of(organisations: Iterable[str], addresses: Iterable[str],
             texts: Iterable[str] = ()) -> tuple[Municipality | None, str | None]:
    """The body whose export this is: (municipality, None) or (None, region).

    The organisation fields of the export say it first (`Syddjurs Administration`, `Region
    Hovedstaden`); a region's own addresses (`@regionh.dk`) make it a region's; otherwise the system's
    addresses and the header texts name the municipality (`municipality_of`).
    """
    names = "\n".join(n for n in organisations if n)
    links = [a for a in addresses if a]
    region = detect_region("\n".join([names, *links]))
    if region is not None:
        return None, region
    if names:
        found = detect_municipality(names, len(names), [])
        if found is not None:
            return found, None
    return municipality_of(links, texts), None


# How native exports write a meeting's time: ISO (Acadre: `2013-06-20T16:00`) or day-month-year (SBSYS,
# eDoc, older Acadre: `04-12-2012 13:00:00`), local time. The two forms cannot be confused: the year leads or ends.
_ISO_STAMP: Final = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2}))?")
_DMY_STAMP: Final = re.compile(r"^(\d{1,2})-(\d{1,2})-(\d{4})(?:[ T](\d{1,2}):(\d{2}))?")


def stamp(value: str) -> dt.datetime | None:
    """A native export's date and time (None: absent or not a date)."""
    value = value.strip()
    if m := _ISO_STAMP.match(value):
        year, month, day, hour, minute = m.groups()
    elif m := _DMY_STAMP.match(value):
        day, month, year, hour, minute = m.groups()
    else:
        return None
    try:
        return dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0))
    except ValueError:
        return None


def item_number(value: str) -> int | None:
    """An item's number as the export writes it (`7`, `7.`); None for anything else."""
    value = value.strip().rstrip(".")
    return int(value) if value.isdigit() and len(value) <= 6 else None


def skipped_warning(skipped: int, why: str) -> tuple[str, ...]:
    """The warning for items an export lists but the reader could not take."""
    if not skipped:
        return ()
    return (f"skipped {skipped} agenda item{'s' if skipped != 1 else ''} without {why}",)


def native_meeting(
    *, minutes: bool, owner: tuple[Municipality | None, str | None], committee: str | None,
    when: dt.datetime | None, location: str | None, participants: Iterable[str], items: Iterable[AgendaItem],
    warnings: tuple[str, ...] = (),
) -> ParsedMeeting:
    """The meeting every native reader returns: items in number order, a start time only where one is given."""
    municipality, region = owner
    return ParsedMeeting(
        kind=DocumentKind.MINUTES if minutes else DocumentKind.AGENDA,
        municipality=municipality.name if municipality else None,
        municipality_code=municipality.code if municipality else None,
        region=region,
        committee=committee,
        meeting_date=when.date() if when else None,
        # Midnight is how the exports write "no time given".
        start_time=when.strftime("%H:%M") if when and (when.hour or when.minute) else None,
        location=location,
        participants=tuple(participants),
        items=tuple(sorted(items, key=lambda i: i.number)),
        warnings=warnings,
    )


@dataclass
class ItemFields:
    """What an item's captioned HTML fields say, read in order (SBSYS `ItemField`s, Acadre `bullet`s): its
    sections, this meeting's decision and vote (the first deciding field that has one), earlier decisions,
    and absentees."""

    meeting_date: dt.date | None
    committee: str | None
    absent: tuple[str, ...] = ()
    sections: list[Section] = field(default_factory=list)
    history: list[EarlierDecision] = field(default_factory=list)
    decision: Decision | None = None
    votes: Votes | None = None

    def add(self, caption: str, html: str, *, deciding: bool, may_decide: bool = True) -> None:
        """One field; `deciding`: it holds a decision, read only where the publication `may_decide`."""
        parts = split_sections(html_blocks(html, f"the field {caption[:60]!r}" if caption else "a field"), caption)
        lines = [line for part in parts for line in ([part.name] if part.name != caption else []) + part.lines]
        text = "\n".join(lines)
        if text or caption:
            self.sections.append(Section(name=caption, text=text))
        if deciding:
            if may_decide and lines:
                read = read_decision(caption, lines, self.meeting_date, self.committee)
                self.history.extend(read.history)
                if self.decision is None and read.decision is not None:
                    self.decision, self.votes = read.decision, read.votes
                self.absent = merge_names(self.absent, read.absent)
        elif is_history_caption(caption):
            self.history.extend(only_earlier(history_entries(lines), self.meeting_date, self.committee))
        elif caption_kind(caption) == ATTENDANCE:
            self.absent = merge_names(self.absent, people(lines))

    def earlier(self) -> tuple[EarlierDecision, ...]:
        """The earlier decisions, oldest first (undated ones first)."""
        return tuple(sorted(self.history, key=lambda e: e.date or dt.date.min))

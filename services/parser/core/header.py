"""The meeting header: kind, committee, date, start time, location, participants, absentees."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from services.parser.core.dates import find_date, find_time, strip_dates
from services.parser.core.normalize import continues
from services.parser.core.patterns import (
    AGENDA_WORDS,
    BARE_HEADER_LABELS,
    COMMITTEE_WORD,
    HEADER_LABELS,
    KIND_AFTER,
    KIND_TITLE,
    PARTY_SUFFIX,
    ROLE_LEAD,
    ROLE_TAIL,
    ROLE_WORDS,
    TERM_SUFFIX,
)

# Labels longest first, so `mødedato og tidspunkt` wins over `mødedato` and `dato`.
_LABELS: Final = sorted(HEADER_LABELS, key=lambda kv: len(kv[0]), reverse=True)
_LIST_SPLIT: Final = re.compile(r"\s*(?:,|;|\s+og\s+)\s*")
_HEADER_SCAN: Final = 60  # the header of a real document is never longer than this many lines
# `8300 Odder`: a postcode and town ends an address block.
_POSTCODE: Final = re.compile(r"^\d{4}\s+[A-ZÆØÅ][^\W\d_]+(?:[ .-]+[A-ZÆØÅa-zæøå][^\W\d_]*){0,3}$")
_ADDRESS_LINES: Final = 3
_ADDRESS_MAX: Final = 80
# `Kl. 10:30` on a line of its own (Acadre covers print date and time on separate lines).
_TIME_LINE: Final = re.compile(r"^(?:kl\.?\s*)?\d{1,2}[.:]\d{2}(?:\s*[-–]\s*\d{1,2}[.:]\d{2})?$", re.I)


@dataclass
class Header:
    """What the lines before the first item say about the meeting."""

    kind_word: str | None = None
    committee: str | None = None
    meeting_date: dt.date | None = None
    start_time: str | None = None
    location: str | None = None
    participants: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    loose_date: dt.date | None = None  # first date on an unlabelled line (`fra ordinært møde tirsdag den …`)
    loose_time: str | None = None
    cues: int = 0  # how many header fields were recognised: a measure of "is this minutes at all"


def parse_header(lines: list[str], width: int | None = None, complete: frozenset[int] = frozenset()) -> Header:
    """Read label/value pairs and the title line from the header lines (`width`: PDF wrap width).

    `complete` holds the indices of lines that are whole fields of a key/value table: their value is
    what the row holds, even when empty (`Mødedeltagere:` with an empty cell takes no next line).
    """
    header = Header()
    values: dict[str, list[str]] = {}
    lines = pair_columns(lines[:_HEADER_SCAN], _bare_label)
    i = 0
    while i < len(lines):
        line = lines[i]
        hit = _label(line)
        if hit is None:
            _title_line(line, header)
            i += 1
            continue
        fieldname, value = hit
        if fieldname in ("title", "mail"):
            # E-mail headers: the subject reads like a title line; sender and recipients say nothing.
            if fieldname == "title":
                _title_line(value, header)
            i += 1
            continue
        header.cues += 1
        consumed = 1
        if not value and i not in complete:
            # Label alone (HTML definition lists, DOCX tables): the value is on the following lines.
            value_lines = []
            for nxt in lines[i + 1 : i + 40]:
                if _label(nxt) is not None:
                    break
                value_lines.append(nxt)
                if fieldname != "participants" and fieldname != "absent":
                    break
                if fieldname in ("participants", "absent") and not _looks_like_name(nxt):
                    value_lines.pop()
                    break
            consumed += len(value_lines)
            value = "\n".join(value_lines)
        else:
            # A long value wrapped onto the next line(s) of a PDF (`…, Anne Mette Bak, Sabah` / `Abid`).
            last = line
            while i + consumed < len(lines) and continues(last, lines[i + consumed], width):
                last = lines[i + consumed]
                if _label(last) is not None:
                    break
                value = f"{value} {last}"
                consumed += 1
        values.setdefault(fieldname, []).append(value)
        i += consumed
    _apply(values, header)
    if header.location is None:
        header.location = _address_block(lines)
    return header


def _address_block(lines: list[str]) -> str | None:
    """An unlabelled venue and address printed on the cover (`Strandhotellet` / `Havnevej 4` / `8300 Odder`).

    The block ends in a Danish postcode and town; the lines above it up to the date, time or title
    belong to it (at most a venue and two address lines).
    """
    for i, line in enumerate(lines):
        if not _POSTCODE.match(line):
            continue
        start = i
        while start > 0 and i - start < _ADDRESS_LINES and _address_line(lines[start - 1]):
            start -= 1
        return ", ".join(lines[start : i + 1])
    return None


def _address_line(line: str) -> bool:
    if len(line) > _ADDRESS_MAX or _label(line) is not None or find_date(line) or find_time(line):
        return False
    if KIND_TITLE.match(line) or COMMITTEE_WORD.search(line) or ":" in line:
        return False
    return line[:1].isupper() or line[:1].isdigit()


def _bare_label(line: str) -> bool:
    """A header label printed without its value (`Mødedato`, `Mødested:`)."""
    hit = _label(line)
    return hit is not None and not hit[1] and hit[0] not in ("title", "mail")


def pair_columns(lines: list[str], is_label: Callable[[str], bool]) -> list[str]:
    """Labels printed as one column and their values as the next (Acadre, eDoc covers), paired up.

    PDF text of a two-column block reads `Mødedato` / `Mødested` / `12-05-2022` / `Rådhuset`: two or
    more bare labels in a row, then as many lines that are no labels, are label/value pairs.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        run = 0
        while i + run < len(lines) and is_label(lines[i + run]):
            run += 1
        values = lines[i + run : i + 2 * run]
        if run >= 2 and len(values) == run and not any(is_label(v) or v.endswith(":") for v in values):
            out.extend(f"{label.rstrip(' :')}: {value}" for label, value in zip(lines[i : i + run], values,
                                                                                strict=True))
            i += 2 * run
            continue
        out.append(lines[i])
        i += 1
    return out


def _label(line: str) -> tuple[str, str] | None:
    key = line.casefold()
    for label, fieldname in _LABELS:
        if not key.startswith(label):
            continue
        rest = line[len(label) :]
        if rest.startswith(":") or rest.startswith(" :"):
            return fieldname, rest.lstrip(" :").strip()
        if not rest.strip():
            return fieldname, ""
        if rest.startswith((" ", "\t")) and label in BARE_HEADER_LABELS:
            return fieldname, rest.strip()
    return None


def _title_line(line: str, header: Header) -> None:
    """`REFERAT Arbejdsmarkedsudvalget d. 04-10-2023` or `Byrådet - Dagsorden`: kind, committee, date."""
    m = KIND_TITLE.match(line)
    rest: str | None = None
    if m is not None:
        # `Referat` alone, then `Emne: Referat fra møde i Handicaprådet den …`: the second names the committee.
        if header.kind_word is None:
            header.kind_word = m.group("kind").casefold()
            header.cues += 1
            rest = m.group("rest")
        elif header.committee is None:
            rest = m.group("rest")
    else:
        m2 = KIND_AFTER.match(line)
        if m2 is not None and header.kind_word is None and COMMITTEE_WORD.search(m2.group("rest")):
            header.kind_word = m2.group("kind").casefold()
            header.cues += 1
            rest = m2.group("rest") + line[m2.end() :]
    if header.loose_date is None and len(line) < 160 and any(ch.isdigit() for ch in line):
        header.loose_date = find_date(line)
        if header.loose_date is not None:
            header.loose_time = find_time(line)
    if header.loose_time is None and _TIME_LINE.match(line):
        header.loose_time = find_time(line, loose=True)
    if rest is not None:
        if header.meeting_date is None:
            header.meeting_date = find_date(rest)
        committee = clean_committee(rest)
        if committee and header.committee is None and COMMITTEE_WORD.search(committee):
            header.committee = committee
        return
    # A line that is just a committee name (portal title, letterhead), perhaps with its term.
    if header.committee is None and len(line) < 80 and ":" not in line:
        base = _without_term(line)
        if not COMMITTEE_WORD.search(base):
            return
        candidate = clean_committee(line)
        if candidate and candidate == base and not any(c.isdigit() for c in candidate):
            header.committee = candidate


def _without_term(text: str) -> str:
    previous = None
    text = text.strip()
    while previous != text:
        previous = text
        text = TERM_SUFFIX.sub("", text).strip(" ,-–:_")
    return text


def clean_committee(text: str) -> str | None:
    """A committee name without dates, term suffixes and kind words."""
    text = strip_dates(text)
    text = re.sub(r"\b(?:møde|mødet|ordinært|ekstraordinært)\b\s*(?:i|på)?\s*", "", text, flags=re.I).strip(" ,-–:")
    previous = None
    while previous != text:
        previous = text
        text = TERM_SUFFIX.sub("", text).strip(" ,-–:_")
    return text or None


def _apply(values: dict[str, list[str]], header: Header) -> None:
    for value in values.get("datetime", []):
        header.meeting_date = header.meeting_date or find_date(value)
        header.start_time = header.start_time or find_time(value)
    for value in values.get("time", []):
        header.start_time = header.start_time or find_time(value, loose=True)
    for value in values.get("datetime", []):
        header.start_time = header.start_time or find_time(value, loose=True)
    if header.meeting_date is None and header.loose_date is not None:
        header.meeting_date = header.loose_date
    if header.meeting_date is not None and header.meeting_date == (header.loose_date or header.meeting_date):
        header.start_time = header.start_time or header.loose_time
    for value in values.get("location", []):
        if value and header.location is None:
            header.location = value.replace("\n", ", ")
    for value in values.get("committee", []):
        committee = clean_committee(value.split("\n")[0])
        if committee:
            header.committee = committee
    for value in values.get("participants", []):
        header.participants.extend(split_people(value))
    for value in values.get("absent", []):
        header.absent.extend(split_people(value))
    if header.absent:
        gone = {a.casefold() for a in header.absent}
        header.participants = [p for p in header.participants if p.casefold() not in gone]


def split_people(value: str) -> list[str]:
    """`Anne Hansen (A), formand, Ole Bo (V) og Eva Ny` -> names, roles and party letters dropped."""
    people: list[str] = []
    for chunk in value.split("\n"):
        for part in _LIST_SPLIT.split(chunk):
            name = without_role(PARTY_SUFFIX.sub("", part).strip(" .()-–"))
            if not name or name.casefold() in ROLE_WORDS or name.casefold() in ("ingen", "intet"):
                continue
            people.append(name)
    return people


def without_role(name: str) -> str:
    """A name without the role printed before or after it (`Rådmand X`, `X - formand`)."""
    if name.casefold() in ROLE_WORDS:
        return name
    stripped = ROLE_TAIL.sub("", ROLE_LEAD.sub("", name)).strip(" .,()-–")
    return stripped or name


def _looks_like_name(line: str) -> bool:
    return len(line) < 80 and not any(ch.isdigit() for ch in line) and line[:1].isupper() and ":" not in line


def is_agenda_word(kind_word: str | None) -> bool:
    """Whether the printed document kind says agenda (dagsorden), not `Dagsorden med beslutninger`."""
    return kind_word is not None and any(w in kind_word for w in AGENDA_WORDS) and "beslut" not in kind_word

"""The meeting header: kind, committee, date, start time, location, participants, absentees."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Final

from services.parser.core.cover import address_block, name_over_date, pair_columns, venue_near_date
from services.parser.core.dates import find_date, find_time, strip_dates
from services.parser.core.header_prose import (
    body_of_meeting,
    held_sentence,
    join_title_lines,
    title_sentence,
)
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
# Labels of covers that state when the meeting began and ended (`Mødet påbegyndt:` / `Mødet afsluttet:`).
_COVER_LABELS: Final = (("mødet påbegyndt", "time"), ("mødet begyndt", "time"), ("mødet startede", "time"),
                        ("mødet afsluttet", "ignore"), ("mødet sluttede", "ignore"), ("mødet hævet", "ignore"))
_LABELS: Final = sorted(HEADER_LABELS + _COVER_LABELS, key=lambda kv: len(kv[0]), reverse=True)
_LIST_SPLIT: Final = re.compile(r"\s*(?:,|;|\s+og\s+)\s*")
_HEADER_SCAN: Final = 60  # the header of a real document is never longer than this many lines
# `Kl. 10:30` on a line of its own (Acadre covers print date and time on separate lines).
_TIME_LINE: Final = re.compile(r"^(?:kl\.?\s*)?\d{1,2}[.:]\d{2}(?:\s*[-–]\s*\d{1,2}[.:]\d{2})?$", re.I)
# The document kind alone on a line (Acadre: `Referat` / `til` / `mødet i Byrådet` / `den …`).
_KIND_ALONE: Final = re.compile(r"(?:åbent\s+|åben\s+|lukket\s+)?(?:referat|dagsorden|beslutningsprotokol|protokol)",
                                re.I)
# Site chrome around a committee name: `Hjørring Byråd - Hjørring Kommune`, `Lolland Kommune | Byrådet`.
_MUNICIPALITY_TAIL: Final = re.compile(r"\s*[-–|,]\s*(?:[A-ZÆØÅ][\w-]*\s+){1,2}kommune$", re.I)
_MUNICIPALITY_HEAD: Final = re.compile(r"^(?:[A-ZÆØÅ][\w-]*\s+){1,2}kommune\s*[-–|:,]\s*", re.I)
_BULLET: Final = re.compile(r"^[-–•*·]\s+")
# The rest of a member broken over two lines: `Leander (O), …` (words, then a party letter or role in brackets).
_LIST_TAIL: Final = re.compile(r"^[A-ZÆØÅ]?[\w\-]+(?: [A-ZÆØÅ][\w\-]+){0,3} \([^()]{1,30}\)(?:,|\.?$)")
# A list entry or a case title is no committee line: `- Sammenlægning af Videnråd og Arbejdskraftråd`.
_NOT_A_NAME: Final = re.compile(r"\b(?:af|om)\b", re.I)
# Words of a sentence that no committee name holds: site text (`Hvis der er to dagsordner/referater på
# samme udvalg …`) and case text are never the committee.
_SENTENCE_WORDS: Final = re.compile(r"\b(?:hvis|er|var|har|havde|kan|skal|vil|blev|bliver|så|der|du|vi|man|at|som|"
                                    r"her|herunder)\b", re.I)


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
    loose_location: str | None = None  # the place in a title sentence (`… den 15. maj 2018 i Byrådssalen`)
    cues: int = 0  # how many header fields were recognised: a measure of "is this minutes at all"
    # The committee came from the meeting's name (`byrådsmøde` -> `Byrådet`): a printed name wins over it.
    committee_derived: bool = False
    held: bool = False  # a sentence recorded that the meeting was held (its facts are set)


def parse_header(lines: list[str], width: int | None = None, complete: frozenset[int] = frozenset()) -> Header:
    """Read label/value pairs and the title line from the header lines (`width`: PDF wrap width).

    `complete` holds the indices of lines that are whole fields of a key/value table: their value is
    what the row holds, even when empty (`Mødedeltagere:` with an empty cell takes no next line).
    """
    header = Header()
    values: dict[str, list[str]] = {}
    lines = join_title_lines(pair_columns(lines[:_HEADER_SCAN], _bare_label), _KIND_ALONE)
    i = 0
    while i < len(lines):
        line = lines[i]
        hit = _label(line)
        if hit is None:
            if not header.held:
                _held_line(line, header)
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
                # A list of one name a line ends at a line that is no name, or, when its entries are
                # bulleted, at the first line without a bullet (`Referat` after `- Jens Jensen`).
                if fieldname in ("participants", "absent") and (
                        not _looks_like_name(nxt) or _KIND_ALONE.fullmatch(nxt)
                        or bool(_BULLET.match(value_lines[0])) != bool(_BULLET.match(nxt))):
                    value_lines.pop()
                    break
            consumed += len(value_lines)
            value = "\n".join(value_lines)
        else:
            # A long value wrapped onto the next line(s) of a PDF (`…, Anne Mette Bak, Sabah` / `Abid`).
            last = line
            people = fieldname in ("participants", "absent")
            while i + consumed < len(lines) and (continues(last, lines[i + consumed], width) or (
                    people and _list_goes_on(value, lines[i + consumed]))):
                last = lines[i + consumed]
                if _label(last) is not None:
                    break
                # Names carry no digits: a line with a date or a page number is the running head under the list.
                if people and any(ch.isdigit() for ch in last):
                    break
                value = f"{value} {last}"
                consumed += 1
        values.setdefault(fieldname, []).append(value)
        i += consumed
    _apply(values, header)
    header.location = header.location or header.loose_location
    if header.committee is None:
        header.committee = name_over_date(lines, _is_label)
    if header.location is None:
        header.location = address_block(lines, _is_label)
    if header.location is None:
        header.location = venue_near_date(lines, _is_label)
    return header


def _list_goes_on(value: str, nxt: str) -> bool:
    """A list of members broken inside an entry (`…, Lars` / `Leander (O), Anne Rasmussen (V)`) in text whose
    wrap width is unknown (a short page): the earlier entries carry a party letter, the last one does not yet,
    and the next line finishes it with one."""
    entries = [e.strip() for e in value.split(",")]
    if len(entries) < 3 or value.rstrip().endswith((")", ".")) or not all(e.endswith(")") for e in entries[:-1]):
        return False
    return _LIST_TAIL.match(nxt) is not None and _label(nxt) is None


def _held_line(line: str, header: Header) -> None:
    """`Tirsdag den 9. oktober 2012 kl. 08:15 afholdt Økonomiudvalget møde i udvalgsværelse 1`."""
    if "holdt" not in line.casefold():
        return
    held = held_sentence(line)
    if held is None:
        return
    header.held = True
    header.cues += 2
    header.meeting_date = header.meeting_date or held.date
    header.start_time = header.start_time or held.time
    header.loose_location = header.loose_location or held.location
    if held.committee and (header.committee is None or header.committee_derived):
        header.committee = clean_committee(held.committee)
        header.committee_derived = False
    # A record that the meeting was held is minutes, whatever else the page prints.
    header.kind_word = header.kind_word or "referat"


def _bare_label(line: str) -> bool:
    """A header label printed without its value (`Mødedato`, `Mødested:`)."""
    hit = _label(line)
    return hit is not None and not hit[1] and hit[0] not in ("title", "mail")


def _is_label(line: str) -> bool:
    return _label(line) is not None


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
        if label in BARE_HEADER_LABELS and _glued(rest):
            return fieldname, rest.strip()
    return None


def _glued(rest: str) -> bool:
    """`MødedatoTorsdag den …`, `Dato25-05-2023`: a value glued to its label by a page-to-text step.

    A capital then a lower-case letter (not `UDVALGET`, not `Udvalgsformand`) or a digit starts the value.
    """
    if rest[:1].isdigit():
        return True
    return len(rest) > 1 and rest[0].isupper() and rest[1].islower()


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
        if m2 is not None and header.kind_word is None and COMMITTEE_WORD.search(m2.group("rest")) \
                and not _SENTENCE_WORDS.search(m2.group("rest")):
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
        # `til mødet i Byrådet den 15. maj 2018 kl. 17:00 i Byrådssalen`: the place follows the date.
        sentence = title_sentence(rest)
        if sentence is not None:
            header.loose_location = header.loose_location or sentence[1]
        committee = clean_committee(sentence[0] if sentence else rest)
        if committee and (header.committee is None or header.committee_derived) \
                and COMMITTEE_WORD.search(committee) and not _SENTENCE_WORDS.search(committee):
            header.committee = committee
            header.committee_derived = _derived(rest, committee)
        return
    # A line that is just a committee name (portal title, letterhead), perhaps with its term.
    if (header.committee is None or header.committee_derived) and len(line) < 80 and ":" not in line \
            and not _BULLET.match(line) and not _NOT_A_NAME.search(line) and not _SENTENCE_WORDS.search(line):
        # `Byrådet - 25-05-2023` (a portal's page title) is the name with the meeting's date.
        base = _MUNICIPALITY_HEAD.sub("", _MUNICIPALITY_TAIL.sub("", _without_term(strip_dates(line))))
        if not COMMITTEE_WORD.search(base):
            # `Ekstraordinært byrådsmøde` alone: the meeting's name, so the body is `Byrådet`.
            body = clean_committee(line) if header.committee is None and len(line.split()) <= 3 else None
            if body is not None and _derived(line, body):
                header.committee, header.committee_derived = body, True
            return
        candidate = clean_committee(line)
        if candidate and candidate == base and not any(c.isdigit() for c in candidate):
            header.committee = candidate
            header.committee_derived = False


def _derived(text: str, committee: str) -> bool:
    """Whether `committee` was derived from the meeting's name in `text` rather than printed."""
    body = body_of_meeting(text)
    return body is not None and body == committee


def _without_term(text: str) -> str:
    previous = None
    text = text.strip()
    while previous != text:
        previous = text
        text = TERM_SUFFIX.sub("", text).strip(" ,-–:_")
    return text


def clean_committee(text: str) -> str | None:
    """A committee name without dates, term suffixes, kind words and the municipality around it.

    A meeting's name (`Ekstraordinært forretningsudvalgsmøde`) gives the body that meets (`Forretningsudvalget`).
    """
    text = strip_dates(text)
    text = re.sub(r"\b(?:møde|mødet|ordinært|ekstraordinært)\b\s*(?:i|på)?\s*", "", text, flags=re.I).strip(" ,-–:")
    previous = None
    while previous != text:
        previous = text
        text = TERM_SUFFIX.sub("", text).strip(" ,-–:_")
    text = _MUNICIPALITY_HEAD.sub("", _MUNICIPALITY_TAIL.sub("", text))
    if text and not COMMITTEE_WORD.search(text):
        body = body_of_meeting(text)
        if body is not None and len(text.split()) <= 2:
            return body
    return text or None


def _apply(values: dict[str, list[str]], header: Header) -> None:
    for value in values.get("datetime", []):
        header.meeting_date = header.meeting_date or find_date(value)
        header.start_time = header.start_time or find_time(value)
    for value in values.get("time", []):
        header.start_time = header.start_time or find_time(value, loose=True)
        # `STARTTIDSPUNKT 04-06-2020 09:00:00`: a start stamp holds the date too.
        header.meeting_date = header.meeting_date or find_date(value)
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
        # `Udvalg: Ekstraordinært byrådsmøde` names a meeting: a body printed elsewhere is the better name.
        if committee and not (header.committee and not header.committee_derived
                              and _derived(value, committee)):
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
        chunk = _BULLET.sub("", chunk.strip())  # `• Anne Hansen (A)`: one member a line, as a list
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
    line = _BULLET.sub("", line)  # one member a line, as a list: `- Hans Hansen`
    return len(line) < 80 and not any(ch.isdigit() for ch in line) and line[:1].isupper() and ":" not in line


def is_agenda_word(kind_word: str | None) -> bool:
    """Whether the printed document kind says agenda (dagsorden), not `Dagsorden med beslutninger`."""
    return kind_word is not None and any(w in kind_word for w in AGENDA_WORDS) and "beslut" not in kind_word

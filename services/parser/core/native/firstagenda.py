"""FirstAgenda publishing-portal JSON (`/api/agenda/dagsorden/<id>`) to a ParsedMeeting.

The portal's API returns one meeting: `Udvalg` (the committee, with its term), `Moede` (date with its
local offset, place, members with attendance flags, whether the meeting is finished) and
`Dagsordenpunkter`, each item with its number, title, case number, `Bilag` list and `Felter`: HTML
bodies whose `<h3>`/`<h4>` headings are the sections (`Beslutning` first, then `Fremstilling` with
`Sagsprocedure`, `Resume`, `Indstilling`, …, and `Sagens forløb` with earlier bodies' decisions).
Nothing is guessed from layout: every value comes from its own key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any, Final

from services.parser.core.attachments import attachment_refs
from services.parser.core.errors import UnsupportedDocument
from services.parser.core.header import clean_committee
from services.parser.core.history import history_entries, only_earlier
from services.parser.core.items import clean_title
from services.parser.core.native.common import (
    caption_kind,
    is_history_caption,
    merge_names,
    municipality_of,
    people,
    read_decision,
)
from services.parser.core.native.fields import Block, FieldSection, html_blocks, split_sections
from services.parser.core.native.firstagenda_shape import check_shape
from services.parser.core.patterns import ATTACHMENTS, ATTENDANCE, DECISION
from shared.contracts.meeting import (
    AgendaItem,
    AttachmentRef,
    Decision,
    DocumentKind,
    EarlierDecision,
    ParsedMeeting,
    Section,
    Votes,
)

# The keys that make a JSON document a FirstAgenda meeting: items, and the meeting or its committee.
ITEMS_KEY: Final = "Dagsordenpunkter"
MEETING_KEYS: Final = ("Moede", "Udvalg")
# Keys as the portal spells them; the English twins are newer API fields carrying the same value.
_NUMBER_KEYS: Final = ("Punktnummer", "Number", "Sorting")
_TITLE_KEYS: Final = ("Navn", "Caption")
_CASE_KEYS: Final = ("SagsNummer", "CaseNumber")
_DATE_KEYS: Final = ("Dato", "MeetingBeginUtc")
_NO_CASE: Final = frozenset({"", "-", "–", "0"})
_MAX_ADDRESS: Final = 300
_SHOWN_SKIPPED: Final = 5


def is_firstagenda(doc: object) -> bool:
    """Whether parsed JSON is meant as a FirstAgenda portal meeting: it has the items key and the meeting's
    or the committee's. By the keys, not their values: values of the wrong type are refused by name
    (`check_shape`), not taken for "some other JSON"."""
    return isinstance(doc, dict) and ITEMS_KEY in doc and any(key in doc for key in MEETING_KEYS)


def parse_firstagenda(doc: dict[str, Any]) -> ParsedMeeting:
    """A FirstAgenda meeting (already parsed JSON) to a ParsedMeeting.

    Values of the wrong type, a date that is not one and items that cannot be numbered are said, never
    read as absent: the document is refused, or the meeting carries a warning for what was left out.
    """
    if not is_firstagenda(doc):
        raise UnsupportedDocument("format not supported: JSON that is not a FirstAgenda meeting")
    check_shape(doc)
    meeting = _dict(doc.get("Moede"))
    committee = _dict(doc.get("Udvalg"))
    start = _start(meeting)
    written = [f"Moede.{key} {meeting[key]!r}"[:80] for key in _DATE_KEYS if _text(meeting, key)]
    if start is None and written:
        raise UnsupportedDocument(f"FirstAgenda JSON with an unreadable meeting date: {'; '.join(written)}")
    members = [m for m in _list(meeting.get("Moededeltagere")) if isinstance(m, dict)]
    present = people(_text(m, "Name", "Navn") for m in members if not _away(m))
    away = people(_text(m, "Name", "Navn") for m in members if _away(m))
    finished = meeting.get("Afsluttet") is not False
    meeting_date = start.date() if start else None
    name = _text(committee, "Navn", "Name")
    body = clean_committee(name) if name else None
    listed: list[dict[str, Any]] = _list(doc.get(ITEMS_KEY))  # a list of objects: check_shape said so
    unnumbered = [i for i, raw in enumerate(listed) if _number(raw) is None]
    if listed and len(unnumbered) == len(listed):
        raise UnsupportedDocument(
            f"FirstAgenda JSON whose agenda items have no readable number ({', '.join(_NUMBER_KEYS)}): "
            f"{_count(len(listed))} listed, none numbered"
        )
    items = [_item(raw, meeting_date, body, finished) for raw in listed if _number(raw) is not None]
    kind = DocumentKind.MINUTES if (any(i.decision for i in items) or meeting.get("Afsluttet") is True) \
        else DocumentKind.AGENDA
    if kind == DocumentKind.MINUTES and away:
        # Absent from the whole meeting is absent from every item (the portal flags it once).
        items = [i.model_copy(update={"absent": merge_names(away, i.absent)}) for i in items]
    location = _text(meeting, "Sted", "Location") or None
    municipality = municipality_of(_addresses(doc), [name, location or ""])
    return ParsedMeeting(
        kind=kind,
        municipality=municipality.name if municipality else None,
        municipality_code=municipality.code if municipality else None,
        committee=body,
        meeting_date=meeting_date,
        start_time=start.strftime("%H:%M") if start and (start.hour or start.minute) else None,
        location=location,
        participants=tuple(present),
        items=tuple(sorted(items, key=lambda i: i.number)),
        warnings=_skipped(listed, unnumbered),
    )


def _skipped(listed: list[dict[str, Any]], unnumbered: list[int]) -> tuple[str, ...]:
    """The warning for items the export lists without a number: which ones, by position and title."""
    if not unnumbered:
        return ()
    shown = ", ".join(
        f"{ITEMS_KEY}[{i}]" + (f" {title!r}" if (title := _text(listed[i], *_TITLE_KEYS)[:60]) else "")
        for i in unnumbered[:_SHOWN_SKIPPED]
    )
    more = f" and {len(unnumbered) - _SHOWN_SKIPPED} more" if len(unnumbered) > _SHOWN_SKIPPED else ""
    return (f"skipped {_count(len(unnumbered))} without a readable number: {shown}{more}",)


def _count(n: int) -> str:
    return f"{n} agenda item{'s' if n != 1 else ''}"


def _item(raw: dict[str, Any], meeting_date: dt.date | None, committee: str | None, finished: bool) -> AgendaItem:
    title, closed = clean_title(_text(raw, *_TITLE_KEYS))
    blocks = [b for fld in _list(raw.get("Felter")) if isinstance(fld, dict) for b in _field_blocks(fld)]
    sections = split_sections(blocks)
    decision: Decision | None = None
    votes: Votes | None = None
    absent: tuple[str, ...] = ()
    history: list[EarlierDecision] = []
    decided: list[tuple[str, list[str]]] = []
    headless = all(not s.name for s in sections)
    in_case = False  # past the decision: the portal prints `Beslutning` before the case text
    for section in sections:
        kind = caption_kind(section.name)
        if is_history_caption(section.name):
            history.extend(only_earlier(history_entries(section.lines), meeting_date, committee))
        elif kind == DECISION and not in_case:
            decided.append((section.name, section.lines))
        elif kind == ATTENDANCE:
            absent = merge_names(absent, people(section.lines))
        elif section.name and kind != DECISION:
            # A `Beslutning` caption inside the case text is a proposal's wording, not the minute.
            in_case = True
    if headless and closed and finished:
        # A closed item publishes only its minute: the whole body is the decision.
        decided = [("", [line for s in sections for line in s.lines])]
    for caption, lines in decided:
        read = read_decision(caption, lines, meeting_date, committee)
        history.extend(read.history)
        if decision is None and read.decision is not None:
            decision, votes = read.decision, read.votes
        absent = merge_names(absent, read.absent)
    absent = merge_names(absent, _item_absent(raw))
    return AgendaItem(
        number=_number(raw) or 0,
        title=title,
        case_number=_case(raw),
        is_closed=closed,
        sections=tuple(Section(name=s.name, text=s.text) for s in sections if s.name or s.lines),
        decision=decision,
        absent=absent,
        attachments=_attachments(raw, sections),
        attachment_refs=_attachment_refs(raw),
        votes=votes,
        history=tuple(sorted(history, key=lambda e: e.date or dt.date.min)),
    )


def _field_blocks(fld: dict[str, Any]) -> list[Block]:
    """A field's blocks; a named field (`Navn`) whose body has no heading of its own gets its name as one."""
    markup = fld.get("Html")
    if isinstance(markup, str) and markup.strip():
        blocks = html_blocks(markup, f"the field {_text(fld, 'Navn')[:60]!r}" if _text(fld, "Navn") else "a field")
    else:
        plain = fld.get("Tekst")
        blocks = [Block(" ".join(line.split())) for line in plain.splitlines() if line.strip()] \
            if isinstance(plain, str) else []
    name = _text(fld, "Navn")
    if name and blocks and blocks[0].level is None:
        blocks.insert(0, Block(name, level=2))
    return blocks


def _attachments(raw: dict[str, Any], sections: list[FieldSection]) -> tuple[str, ...]:
    """The item's `Bilag` list; a `Bilag` section of the body only when the list is missing."""
    if isinstance(raw.get("Bilag"), list):
        names = (_text(b, "Navn", "Name", "Titel") for b in raw["Bilag"] if isinstance(b, dict))
        return tuple(n for n in names if n)
    return tuple(line for s in sections if caption_kind(s.name) == ATTACHMENTS for line in s.lines)


def _attachment_refs(raw: dict[str, Any]) -> tuple[AttachmentRef, ...]:
    """The `Bilag` list's names with their ids (the portal serves each at `/Vis/Pdf/bilag/{Id}`): one per name
    `_attachments` keeps, in its order; none when no attachment has an id."""
    listed = raw.get("Bilag")
    if not isinstance(listed, list):
        return ()
    return attachment_refs(
        (name, _text(b, "Id")) for b in listed if isinstance(b, dict) and (name := _text(b, "Navn", "Name", "Titel"))
    )


def _item_absent(raw: dict[str, Any]) -> list[str]:
    """Members the item's own attendee list flags as absent."""
    attendees = [a for a in _list(raw.get("ExternalAgendaItemAttendees")) if isinstance(a, dict)]
    return people(_text(a, "Name", "Navn") for a in attendees if _away(a))


def _away(member: dict[str, Any]) -> bool:
    return member.get("Absent") is True or member.get("ParticipationCancelled") is True


def _start(meeting: dict[str, Any]) -> dt.datetime | None:
    """The meeting's start in its own local time: `2022-11-07T19:00:00+01:00` is 19:00, not 18:00 UTC."""
    for key in _DATE_KEYS:
        value = meeting.get(key)
        if isinstance(value, str) and value.strip():
            try:
                return dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                continue
    return None


def _number(raw: dict[str, Any]) -> int | None:
    for key in _NUMBER_KEYS:
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().rstrip(".").isdigit():
            return int(value.strip().rstrip("."))
    return None


def _case(raw: dict[str, Any]) -> str | None:
    value = _text(raw, *_CASE_KEYS)
    return None if value in _NO_CASE else value


def _addresses(doc: object) -> Iterator[str]:
    """Every string value that is a web address on its own (field and attachment links)."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and node.startswith(("http://", "https://")) and len(node) < _MAX_ADDRESS \
                and " " not in node:
            yield node


def _text(obj: dict[str, Any], *keys: str) -> str:
    """The first non-empty string under one of the keys, stripped."""
    for key in keys:
        value = obj.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return ""


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []

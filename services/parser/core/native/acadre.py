"""Acadre (Acadre MM / Dagsorden) XML export to a ParsedMeeting.

Acadre exports its database rows as they are: `<root>` holds `<table name="agenda">`, and every table
holds its own `<fields><field name="…">` and its child tables: `committee` (name, the department that
owns it, `commember` members), `meeting` (date, place, address, `meetmember` members with an `absent`
flag) and `agendaitemparents`, each with its `sort` (the printed item number) and one `agendaitem`
(title, case number, access, per-item absence) whose `bullet`s are the captioned fields of the item and
whose `enclosure`s are its attachments. A decision bullet is captioned with its body and date
(`Beslutning i <udvalg> den 20-06-2013`): earlier decisions of the case stay in the item as such
bullets and become its history.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET  # the tree type only; parsing (defused) is in source.py
from typing import Final

from services.parser.core.attachments import attachment_refs
from services.parser.core.errors import UnsupportedDocument
from services.parser.core.header import clean_committee, is_agenda_word
from services.parser.core.items import clean_title
from services.parser.core.native.common import (
    ItemFields,
    caption_kind,
    item_number,
    merge_names,
    native_meeting,
    owner_of,
    people,
    skipped_warning,
    stamp,
)
from services.parser.core.patterns import ATTACHMENTS, DECISION
from shared.contracts.meeting import AgendaItem, ParsedMeeting

ROOT: Final = "root"
# `2013-06-20 10:30`; some fields print `20-06-2013 10:30:00` instead.
_MINUTES_WORDS: Final = ("referat", "protokol", "beslutning")
_CLOSED_ACCESS: Final = ("lukket", "fortrolig", "ikke offentlig")
_NO_CASE: Final = frozenset({"", "-", "–", "0"})
_BREAK: Final = re.compile(r"<br\s*/?>|\n", re.I)
# `absent`/`excuse` of a member or an item: 1/true/ja mean away; a name list means those members.
_YES: Final = frozenset({"1", "true", "ja", "yes", "x"})
_NO: Final = frozenset({"", "0", "false", "nej", "no"})


def is_acadre(root: ET.Element) -> bool:
    return root.tag == ROOT and _table(root, "agenda") is not None


def parse_acadre(root: ET.Element) -> ParsedMeeting:
    """An Acadre export (parsed, namespaces removed) to a ParsedMeeting."""
    agenda = _table(root, "agenda")
    if root.tag != ROOT or agenda is None:
        raise UnsupportedDocument("format not supported: XML that is not an Acadre agenda export")
    committee_t = _table(agenda, "committee")
    meeting = _table(agenda, "meeting")
    parents = _tables(agenda, "agendaitemparents")
    when = stamp(_field(meeting, "date"))
    if when is None and not parents:
        raise UnsupportedDocument("Acadre export without a meeting date and without agenda items")
    if meeting is not None and when is None and _field(meeting, "date"):
        raise UnsupportedDocument(f"Acadre export with an unreadable meeting date ({_field(meeting, 'date')[:40]!r})")
    meeting_date = when.date() if when else None
    # The item's `comname` names the committee when the export left out the committee table.
    committee = _field(committee_t, "name") or next(
        (name for p in parents if (name := _field(_table(p, "agendaitem"), "comname"))), "")
    body = clean_committee(committee) if committee else None
    members = _tables(_table(meeting, "meetmember"), "member")
    # Acadre pads names with double spaces (`Jesper  Mathiesen (A)`).
    present = people(" ".join(_field(m, "name").split()) for m in members if not _flag(_field(m, "absent")))
    away = people(" ".join(_field(m, "name").split()) for m in members if _flag(_field(m, "absent")))
    items: list[AgendaItem] = []
    skipped = 0
    for parent in parents:
        item = _item(parent, meeting_date, body)
        if item is None:
            skipped += 1
        else:
            items.append(item)
    if parents and not items:
        raise UnsupportedDocument("Acadre export whose agenda items have no readable number or no agendaitem")
    kind_word = _field(agenda, "name").casefold()
    if is_agenda_word(kind_word):
        # An agenda (`Dagsorden`) is published before the meeting: what reads like a decision is not one.
        items = [i.model_copy(update={"decision": None, "votes": None}) for i in items]
    minutes = any(i.decision for i in items) or any(w in kind_word for w in _MINUTES_WORDS)
    if minutes and away:
        items = [i.model_copy(update={"absent": merge_names(away, i.absent)}) for i in items]
    location = _location(meeting)
    emails = [_field(m, "email") for m in [*members, *_tables(_table(committee_t, "commember"), "member")]]
    org = [_field(committee_t, "departmentName"), (root.findtext("agendaData/org") or "").strip()]
    owner = owner_of(org, emails, [committee, location or ""])
    return native_meeting(
        minutes=minutes, owner=owner, committee=body, when=when, location=location, participants=present,
        items=items, warnings=skipped_warning(skipped, "a readable number or agendaitem"),
    )


def _item(parent: ET.Element, meeting_date: dt.date | None, committee: str | None) -> AgendaItem | None:
    el = _table(parent, "agendaitem")
    number = item_number(_field(parent, "sort"))
    if el is None or number is None:
        return None
    title, closed = clean_title(_field(el, "name") or _field(_table(_table(el, "agendaitemlink"), "noarksak"),
                                                               "tittel"))
    access = _field(el, "accessname").casefold()
    if any(w in access for w in _CLOSED_ACCESS):
        closed = True
    read = ItemFields(meeting_date, committee,
                      absent=merge_names(_names(_field(el, "absent")), _names(_field(el, "excuse"))))
    for bullet in sorted(_tables(el, "bullet"), key=lambda b: item_number(_field(b, "bulletsortorder")) or 0):
        caption = _field(bullet, "bulletname")
        read.add(caption, _field(bullet, "bulletcontent"), deciding=caption_kind(caption) == DECISION)
    sections = read.sections
    # Each enclosure's `filename` (`3525829E1.DOCX`) is its file in the export: the publisher's reference.
    pairs = [(n, _field(enc, "filename")) for enc in _tables(el, "enclosure")
             if (n := _field(enc, "name") or _field(enc, "filename"))]
    enclosures = tuple(name for name, _ in pairs)
    attachments = enclosures or tuple(
        line for s in sections if caption_kind(s.name) == ATTACHMENTS for line in s.text.splitlines() if line
    )
    case = _field(el, "caseno")
    return AgendaItem(
        number=number,
        title=title,
        case_number=None if case in _NO_CASE else case,
        is_closed=closed,
        sections=tuple(sections),
        decision=read.decision,
        absent=read.absent,
        attachments=attachments,
        attachment_refs=attachment_refs(pairs),
        votes=read.votes,
        history=read.earlier(),
    )


def _names(value: str) -> list[str]:
    """A per-item `absent`/`excuse` field: a name list; a bare flag names nobody."""
    if value.casefold() in _NO or value.casefold() in _YES or value.isdigit():
        return []
    return people([value])


def _flag(value: str) -> bool:
    return value.casefold() in _YES


def _location(meeting: ET.Element | None) -> str | None:
    """The place and its address lines (`<br>`-separated in the export), joined by commas."""
    parts = [_field(meeting, "location"), *_BREAK.split(_field(meeting, "address"))]
    lines = [p.strip(" ,") for p in parts if p.strip(" ,")]
    return ", ".join(dict.fromkeys(lines)) or None


def _table(el: ET.Element | None, name: str) -> ET.Element | None:
    if el is None:
        return None
    return next((t for t in el.findall("table") if t.get("name") == name), None)


def _tables(el: ET.Element | None, name: str) -> list[ET.Element]:
    if el is None:
        return []
    return [t for t in el.findall("table") if t.get("name") == name]


def _field(el: ET.Element | None, name: str) -> str:
    if el is None:
        return ""
    for field in el.findall("fields/field"):
        if field.get("name") == name:
            return (field.text or "").strip()
    return ""

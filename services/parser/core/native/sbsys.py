"""SBSYS eDagsorden `Publication` XML to a ParsedMeeting.

A publication holds one agenda: `Agenda/Meeting` (When, Where, Members with their participation
status), `Agenda/Committee`, and `Agenda/Items/Item`, each with its number, caption, case, enclosures
and `Fields/ItemField`s. Field captions are configured per municipality (`Tidligere behandling`,
`Sammendrag`, `Sagsfremstilling`, `Indstilling`, `Beslutning`, …), so the decision field is known by
`IsFeedback` (filled in at the meeting) before its caption. The publication type says whether it is a
draft; a draft, or a publication made before the meeting, never carries a decision.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET  # the tree type only; parsing (defused) is in source.py
from collections.abc import Iterator
from typing import Final

from services.parser.core.attachments import attachment_refs
from services.parser.core.errors import UnsupportedDocument
from services.parser.core.header import clean_committee
from services.parser.core.items import clean_title
from services.parser.core.native.common import (
    ItemFields,
    caption_kind,
    is_history_caption,
    merge_names,
    native_meeting,
    organisation_names,
    owner_of,
    people,
    stamp,
)
from services.parser.core.patterns import ATTACHMENTS, ATTENDANCE, DECISION
from shared.contracts.meeting import (
    AgendaItem,
    AttachmentRef,
    ParsedMeeting,
    Section,
)

ROOT: Final = "Publication"
# Publication types (`PublicationTypeAsEnum`): drafts are agendas whatever their fields hold.
_DRAFT_TYPES: Final = ("draft", "kladde")
_MINUTES_TYPES: Final = ("minutes", "referat", "protokol")
# Participation statuses that mean the member was not there (`ParticipationStatusAsText`).
_AWAY_STATUS: Final = re.compile(
    r"absent|afbud|fravær|notparticipat|not\s*participat|cancel|forfald|deltager\s*ikke|ikke\s*til\s*stede", re.I
)
_NO_CASE: Final = frozenset({"", "-", "–", "0"})
_ADDRESS_TAGS: Final = ("EmailAddress", "Email", "Url", "Link", "Href")
_ADDRESS: Final = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,4}|https?://\S{3,300}")


def is_sbsys(root: ET.Element) -> bool:
    return root.tag == ROOT and root.find("Agendas/Agenda") is not None


def parse_sbsys(root: ET.Element) -> ParsedMeeting:
    """An SBSYS publication (parsed, namespaces removed) to a ParsedMeeting."""
    agenda = root.find("Agendas/Agenda")
    if root.tag != ROOT or agenda is None:
        raise UnsupportedDocument("format not supported: XML that is not an SBSYS eDagsorden publication")
    meeting = agenda.find("Meeting")
    when = stamp(_text(meeting, "When"))
    published = stamp(_text(root, "Published"))
    kind_word = (_text(root, "PublicationTypeAsEnum") or "").casefold()
    meeting_date = when.date() if when else None
    # Before the meeting nothing can have been decided: drafts and agendas published ahead of it.
    may_decide = not any(w in kind_word for w in _DRAFT_TYPES) and not (
        published is not None and meeting_date is not None and published.date() < meeting_date
    )
    members = meeting.findall("Members/MeetingMember") if meeting is not None else []
    present = people(_text(m, "Name") for m in members if not _away(m))
    away = people(_text(m, "Name") for m in members if _away(m))
    committee = _text(agenda, "Name") or _text(agenda, "Committee/Name")
    body = clean_committee(committee) if committee else None
    items = [
        _item(el, meeting_date, body, may_decide) for el in agenda.findall("Items/Item") if _number(el) is not None
    ]
    minutes = any(i.decision for i in items) or (may_decide and any(w in kind_word for w in _MINUTES_TYPES))
    if minutes and away:
        items = [i.model_copy(update={"absent": merge_names(away, i.absent)}) for i in items]
    location = _text(meeting, "Where") or None
    # The system's own addresses (publisher, members, download links), not addresses quoted in a field.
    addresses = [m.group(0) for el in root.iter() if el.text and isinstance(el.tag, str)
                 and el.tag.endswith(_ADDRESS_TAGS) for m in _ADDRESS.finditer(el.text[:400])]
    # A region publishes with SBSYS too: its organisation fields name it where no address does.
    owner = owner_of(organisation_names(_outside_items(root)), addresses, [committee, location or ""])
    return native_meeting(
        minutes=minutes, owner=owner, committee=body, when=when, location=location, participants=present,
        items=items,
    )


def _item(el: ET.Element, meeting_date: dt.date | None, committee: str | None, may_decide: bool) -> AgendaItem:
    title, closed = clean_title(_text(el, "Caption") or _text(el, "Case/Title"))
    if _text(el, "IsPublic").casefold() == "false":
        closed = True
    read = ItemFields(meeting_date, committee)
    fields = el.findall("Fields/ItemField")
    deciding = _decision_fields(fields)
    for field in fields:
        # `HasContent` False: the field was never filled in, whatever template text it carries.
        content = "" if _text(field, "HasContent").casefold() == "false" else _text(field, "Content")
        read.add(_text(field, "Caption"), content, deciding=field in deciding, may_decide=may_decide)
    absent = read.absent
    if may_decide:
        absent = merge_names(absent, people(_text(m, "Name") for m in el.findall("Members/ItemMember") if _away(m)))
    return AgendaItem(
        number=_number(el) or 0,
        title=title,
        case_number=_case(el),
        is_closed=closed,
        sections=tuple(read.sections),
        decision=read.decision,
        absent=absent,
        attachments=_attachments(el, read.sections),
        attachment_refs=_attachment_refs(el),
        votes=read.votes,
        history=read.earlier(),
    )


def _attachments(el: ET.Element, sections: list[Section]) -> tuple[str, ...]:
    """The item's enclosures; the lines of a `Bilag` field only when it has none."""
    enclosures = el.findall("Enclosures/Enclosure")
    names = tuple(n for enc in enclosures if (n := _text(enc, "Name") or _text(enc, "FileName")))
    if names:
        return names
    return tuple(line for s in sections if caption_kind(s.name) == ATTACHMENTS for line in s.text.splitlines() if line)


def _attachment_refs(el: ET.Element) -> tuple[AttachmentRef, ...]:
    """The enclosures with the file the publication wrote for each (`Enclosures\\1.pdf`, beside its XML)."""
    return attachment_refs(
        (name, _text(enc, "InstantiationFilePathRelative") or _text(enc, "InstantiationFileName"))
        for enc in el.findall("Enclosures/Enclosure") if (name := _text(enc, "Name") or _text(enc, "FileName"))
    )


def _decision_fields(fields: list[ET.Element]) -> list[ET.Element]:
    """The fields holding the meeting's decision.

    Feedback fields are the ones filled in at the meeting; among several, those captioned as a
    decision. Without feedback flags (older exports), the caption alone decides.
    """
    feedback = [f for f in fields if _text(f, "IsFeedback").casefold() == "true"]
    by_caption = [f for f in fields if caption_kind(_text(f, "Caption")) == DECISION]
    if feedback:
        named = [f for f in feedback if f in by_caption]
        unnamed = [f for f in feedback if caption_kind(_text(f, "Caption")) not in (ATTENDANCE,)
                   and not is_history_caption(_text(f, "Caption"))]
        return named or unnamed
    return by_caption


def _outside_items(el: ET.Element) -> Iterator[ET.Element]:
    """The elements of the publication outside its items: an item's case may name other organisations."""
    yield el
    for child in el:
        if child.tag != "Items":
            yield from _outside_items(child)


def _away(member: ET.Element) -> bool:
    status = _text(member, "ParticipationStatusAsText")
    return bool(status and _AWAY_STATUS.search(status))


def _number(el: ET.Element) -> int | None:
    value = _text(el, "Number").rstrip(".")
    return int(value) if value.isdigit() else None


def _case(el: ET.Element) -> str | None:
    value = _text(el, "Case/Number")
    return None if value in _NO_CASE else value


def _text(el: ET.Element | None, path: str) -> str:
    if el is None:
        return ""
    found = el.find(path)
    if found is None or found.text is None:
        return ""
    return found.text.strip()

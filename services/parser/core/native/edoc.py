"""eDoc agenda-publishing XML (`<Meeting>`) to a ParsedMeeting.

eDoc (KMD/Fujitsu) publishes a meeting as `Meeting` (Committee, MeetingDate, MeetingState) with one
`MeetingAgendaType` per part (`Åben dagsorden`, `Lukket dagsorden`). Each part lists its
`MeetingAgendaItem`s (number, the item `Document` with its title, `Attachments` and case) and carries
the printed text of the part and of each item as `FullText`. The meeting's place and members are only
in the printed cover, and an item's sections, case number and decision only in its printed text, so
those are read from the text by the same rules as a PDF of the minutes (`parse_header`,
`build_item`); number, title, closed part and attachments come from the structure.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET  # the tree type only; parsing (defused) is in source.py
from itertools import pairwise
from typing import Final

from services.parser.core.attachments import attachment_refs
from services.parser.core.blocks import Block, text_blocks
from services.parser.core.dates import find_date
from services.parser.core.errors import UnsupportedDocument
from services.parser.core.header import clean_committee, is_agenda_word, parse_header
from services.parser.core.item_builder import MeetingContext, build_item
from services.parser.core.items import ItemSpan, clean_title
from services.parser.core.native.common import (
    item_number,
    merge_names,
    native_meeting,
    organisation_names,
    owner_of,
    people,
    skipped_warning,
    stamp,
)
from services.parser.core.normalize import clean_text, content_blocks, wrap_width
from services.parser.core.sections import classify_heading, styled_headings
from shared.contracts.meeting import AgendaItem, ParsedMeeting

ROOT: Final = "Meeting"
_MINUTES_WORDS: Final = ("referat", "protokol", "beslutning")
_CLOSED_PART: Final = ("lukket", "fortrolig")
# The cover ends at the table of contents or at the first item heading (`1.<tab>Meddelelser`).
_COVER_END: Final = re.compile(r"^(?:indholdsfortegnelse|indhold)\s*$|^\d{1,3}\.\t", re.I)
_COVER_LINES: Final = 80
# `i Mødecenter C, Lokale 32 på Ballerup Rådhus` under the date line: eDoc's cover prints the place
# as a phrase, without a label.
_PLACE_LINE: Final = re.compile(r"^(?:i|på)\s+(?P<place>\S.{2,150})$")
# `Følgende deltog ikke i behandlingen af punktet:` closes each decision of eDoc's template; the
# members who were away are listed on the lines under it (usually none).
_AWAY_LIST: Final = re.compile(r"^følgende\b.{0,40}?\b(?:deltog\s+ikke|var\s+fraværende|havde\s+afbud)\b.{0,60}:$",
                               re.I)
_NAME_MAX: Final = 80
_ADDRESS_TAGS: Final = ("Url", "EmailAddress", "Email")


def is_edoc(root: ET.Element) -> bool:
    return root.tag == ROOT and root.find("MeetingAgendaTypes") is not None


def parse_edoc(root: ET.Element) -> ParsedMeeting:
    """An eDoc meeting publication (parsed, namespaces removed) to a ParsedMeeting."""
    if not is_edoc(root):
        raise UnsupportedDocument("format not supported: XML that is not an eDoc meeting publication")
    parts = root.findall("MeetingAgendaTypes/MeetingAgendaType")
    raw_date = _text(root, "MeetingDate")
    when = stamp(raw_date)
    if raw_date and when is None:
        raise UnsupportedDocument(f"eDoc export with an unreadable meeting date ({raw_date[:40]!r})")
    listed = [(part, el) for part in parts for el in part.findall("MeetingAgendaItems/MeetingAgendaItem")]
    if when is None and not listed:
        raise UnsupportedDocument("eDoc export without a meeting date and without agenda items")
    meeting_date = when.date() if when else None
    committee = _text(root, "Committee")
    body = clean_committee(committee) if committee else None
    cover = _cover(parts)
    header = parse_header(cover)
    location = _place(cover, meeting_date)
    ctx_width = None
    items: list[AgendaItem] = []
    skipped = 0
    for part, el in listed:
        item = _item(part, el, MeetingContext(meeting_date, body, ctx_width))
        if item is None:
            skipped += 1
        else:
            items.append(item)
    if listed and not items:
        raise UnsupportedDocument("eDoc export whose agenda items have no readable number")
    state = _text(root, "MeetingState").casefold()
    # `Dagsorden udsendt`: published before the meeting, so what reads like a decision is a proposal.
    agenda = is_agenda_word(state) and "referat" not in state
    if agenda:
        items = [i.model_copy(update={"decision": None, "votes": None}) for i in items]
    if header.absent and not agenda:
        items = [i.model_copy(update={"absent": merge_names(header.absent, i.absent)}) for i in items]
    minutes = not agenda and (any(i.decision for i in items) or any(w in state for w in _MINUTES_WORDS))
    addresses = [el.text.strip() for el in root.iter()
                 if isinstance(el.tag, str) and el.tag.endswith(_ADDRESS_TAGS) and el.text]
    owner = owner_of(_organisations(root), addresses, [committee, location or ""])
    return native_meeting(
        minutes=minutes, owner=owner, committee=body, when=when, location=location,
        participants=dict.fromkeys(header.participants), items=items,
        warnings=skipped_warning(skipped, "a readable number"),
    )


def _item(part: ET.Element, el: ET.Element, ctx: MeetingContext) -> AgendaItem | None:
    number = item_number(_text(el, "AgendaItemNumber"))
    if number is None:
        return None
    document = el.find("Document")
    raw_title = _text(document, "Title") or _text(document, "AgendaItems/AgendaItem/Name")
    title, closed = clean_title(raw_title)
    if any(w in _text(part, "AgendaType").casefold() for w in _CLOSED_PART):
        closed = True
    blocks = content_blocks(text_blocks(clean_text(_text(el, "FullText"))))
    # The printed text opens with the item's own heading (`2.<tab>Title`): the structure has it already,
    # and the heading stands in for a missing `Document/Title`.
    if blocks and blocks[0].text.startswith(f"{number}."):
        if not title:
            title, printed_closed = clean_title(blocks[0].text[len(f"{number}.") :].strip())
            closed = closed or printed_closed
        blocks = blocks[1:]
    blocks, away = _away_list(blocks)
    lines = [b.text for b in blocks]
    ctx = MeetingContext(ctx.meeting_date, ctx.committee, wrap_width(lines))
    span = ItemSpan(number=number, title=title, closed=closed, heading=0, start=0, end=len(blocks))
    item = build_item(span, blocks, styled_headings(blocks), ctx)
    if away:
        item = item.model_copy(update={"absent": merge_names(item.absent, people(away))})
    listed = document.find("Attachments") if document is not None else None
    if listed is not None:
        # The export lists the attachments themselves: the `Bilag` lines of the text are only their captions.
        pairs = [(t, _text(a, "PDFDocument")) for a in listed.findall("Attachment")
                 if (t := _text(a, "Title") or _text(a, "NeutralTitle"))]
        # `PDFDocument`: the attachment's file in the publication (`1537646.PDF`), its reference here.
        item = item.model_copy(update={
            "attachments": tuple(name for name, _ in pairs), "attachment_refs": attachment_refs(pairs),
        })
    return item


def _away_list(blocks: list[Block]) -> tuple[list[Block], list[str]]:
    """The blocks without the names listed under `Følgende deltog ikke …:`, and those names."""
    for i, block in enumerate(blocks):
        if _AWAY_LIST.match(block.text.strip()):
            names: list[str] = []
            end = i + 1
            while end < len(blocks) and _is_name(blocks[end].text):
                names.append(blocks[end].text.strip())
                end += 1
            return blocks[: i + 1] + blocks[end:], names
    return blocks, []


def _is_name(line: str) -> bool:
    text = line.strip()
    return 0 < len(text) <= _NAME_MAX and not text.endswith((".", ":")) and not any(c.isdigit() for c in text) \
        and classify_heading(text) is None


def _organisations(root: ET.Element) -> list[str]:
    """Organisation fields of the meeting, and of each item's document and case (the unit in charge).

    Not the correspondents and participants of a case: they name other bodies (a region as a party).
    """
    own: list[ET.Element] = []
    for el in root.iter():
        if el.tag in ("Document", "Case"):
            own.extend(el)
    meeting = [el for el in root if el.tag != "MeetingAgendaTypes"]
    return organisation_names([*meeting, *own])


def _cover(parts: list[ET.Element]) -> list[str]:
    """The cover lines of the first printed part: committee, date, place, members, absentees."""
    for part in parts:
        text = _text(part, "FullText")
        if not text:
            continue
        lines: list[str] = []
        # Blank lines are kept: they end a list of members (`Afbud/Fraværende` with nobody under it
        # is followed by blanks, then `Sekretær`).
        for block in text_blocks(clean_text(text)):
            if _COVER_END.match(block.text) or len(lines) >= _COVER_LINES:
                break
            lines.append(block.text.strip())
        while lines and not lines[0]:
            lines.pop(0)
        return lines
    return []


def _place(cover: list[str], meeting_date: dt.date | None) -> str | None:
    """The place phrase on the line under the cover's date line (`i Mødecenter C, …`)."""
    if meeting_date is None:
        return None
    filled = [line for line in cover if line]
    for line, nxt in pairwise(filled):
        if find_date(line) == meeting_date:
            m = _PLACE_LINE.match(nxt)
            if m is not None and find_date(nxt) is None:
                return m.group("place").strip()
    return None


def _text(el: ET.Element | None, path: str) -> str:
    if el is None:
        return ""
    found = el.find(path)
    if found is None or found.text is None:
        return ""
    return found.text.strip()

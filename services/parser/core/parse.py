"""Text to ParsedMeeting: clean, find items, read the header, build each item."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Final

from services.parser.core.blocks import FIELD, Block, text_blocks
from services.parser.core.dates import find_date, strip_dates
from services.parser.core.errors import EmptyDocument, NotMinutes
from services.parser.core.header import Header, is_agenda_word, parse_header
from services.parser.core.item_builder import MeetingContext, build_item, polweb_prefix
from services.parser.core.municipality import detect_municipality, detect_region
from services.parser.core.normalize import clean_text, content_blocks, split_trailer, wrap_width
from services.parser.core.patterns import DECISION, DOCUMENT_KIND_WORD
from services.parser.core.profiles.generic import GENERIC_WARNING, locate_items, sub_item_headings
from services.parser.core.sections import Heading, heading_committee, styled_headings
from shared.contracts.meeting import AgendaItem, DocumentKind, ParsedMeeting

# A document without items is still minutes if its header shows this many meeting fields.
_MIN_HEADER_CUES: Final = 2
_RUNNING_MAX: Final = 150
_TITLE_LINES: Final = 4
# A kind word printed as a title word (capitalised) in the header: `Referat`, `PROTOKOL`, `Dagsorden`.
_KIND_WORD: Final = re.compile(
    r"\b(?:Referat|REFERAT|Beslutningsprotokol|BESLUTNINGSPROTOKOL|Protokol|PROTOKOL|Dagsorden|DAGSORDEN)\b"
)
_KIND_HEAD: Final = 3000
# A council or committee in its definite form, then ` den ` and a date (`Byrådet den 25. maj 2016`,
# `Udvalget for Teknik og Miljø den 22-06-2020`, `Social- og Sundhedsudvalget den …`).
_BODY_DEN: Final = re.compile(
    r"(?:^|(?<=\s))(?P<name>Udvalget for [A-ZÆØÅa-zæøå][\w ,\-]{2,60}?|"
    r"(?:[A-ZÆØÅ][\w]*- og )?[A-ZÆØÅ][\w\-]*?(?:udvalget|byrådet|regionsrådet)|"
    r"Byrådet|Kommunalbestyrelsen|Regionsrådet|Borgerrepræsentationen|Magistraten)"
    r" den (?P<rest>.{6,30})"
)


def parse_text(text: str, site: str = "") -> ParsedMeeting:
    """Parse the plain text of one minutes or agenda document into a ParsedMeeting."""
    return parse_blocks(text_blocks(clean_text(text)), site)


def parse_blocks(blocks: list[Block], site: str = "", *, pdf: bool = False) -> ParsedMeeting:
    """Parse the cleaned blocks of one minutes or agenda document (any format) into a ParsedMeeting.

    `site` is text printed around the minutes rather than in them (a portal page's title, footer and
    links): it only helps to tell the municipality. `pdf`: the blocks come from a PDF, so their pages are
    real pages and each item reports its own; any other format reports no page.
    """
    furniture: list[str] = []
    kept, trailer = split_trailer(content_blocks(blocks, furniture))
    furniture.extend(trailer)
    if not kept:
        raise EmptyDocument("the document contains no text")
    lines = [b.text for b in kept]
    headings = styled_headings(kept)
    width = wrap_width(lines)
    spans, warnings, found_in = locate_items(lines, headings, width, kept, blocks, pages=pdf)
    if found_in is not kept:  # the items were found by splitting lines at their titles
        kept = found_in
        lines = [b.text for b in kept]
        headings = styled_headings(kept)
    if GENERIC_WARNING in warnings:
        headings = sub_item_headings(lines, headings)
    first = spans[0].heading if spans else len(lines)
    complete = frozenset(i for i, b in enumerate(kept[:first]) if b.kind == FIELD)
    header = parse_header(lines[:first], width, complete)
    if not spans and header.cues < _MIN_HEADER_CUES:
        raise NotMinutes("no agenda items and no meeting header (committee, date, place) were found")
    # A meeting's day and hour at the top (`Mandag den 30-04-2018 kl. 16:30`) say it as well as a label does.
    dated = header.meeting_date is not None and header.start_time is not None
    if spans and not header.cues and not dated and header.kind_word is None and _structural(warnings) \
            and _KIND_WORD.search("\n".join(lines[:first])[:_KIND_HEAD]) is None:
        # Numbered headings alone make any report or plan look like an agenda: without a known layout,
        # something in the header must say it is a meeting's document.
        raise NotMinutes("no known layout, and no meeting header (committee, date, place) or document kind")
    if header.committee is None:
        header.committee = _committee_from_decisions(headings)
    if header.committee is None and header.meeting_date is not None:
        header.committee = _body_on_date(lines, header.meeting_date)
    drop = _running_headers(lines, header, headings)
    ctx = MeetingContext(header.meeting_date, header.committee, width)
    items: list[AgendaItem] = []
    for span in spans:
        keep = [i for i in range(span.start, span.end) if i not in drop]
        items.append(build_item(span, [kept[i] for i in keep], [headings[i] for i in keep], ctx))
    joined = "\n".join(lines)
    header_chars = sum(len(line) + 1 for line in lines[:first])
    prefixes = [p for p in (polweb_prefix(item.case_number) for item in items) if p is not None]
    extra = "\n".join([site, *furniture]) if site or furniture else ""
    # Only the title lines, the committee and the site say whose document it is: a member list or a
    # case title in the header may name a region without the region being the body.
    region = detect_region("\n".join([extra, *lines[: min(first, _TITLE_LINES)], header.committee or ""]))
    if region and header.committee and header.committee.casefold().endswith(region.casefold()):
        header.committee = header.committee[: -len(region)].rstrip(" ,-–") or header.committee
    # A region's minutes name hospitals and towns of its municipalities: none of them is the body.
    municipality = None if region else detect_municipality(joined, header_chars, prefixes, extra)
    kind = _kind(header, items, lines[:first])
    if is_agenda_word(header.kind_word):
        # An agenda never announces a decision: what reads like one is a proposal's text or a quote.
        items = [item.model_copy(update={"decision": None, "votes": None}) for item in items]
        kind = DocumentKind.AGENDA
    return ParsedMeeting(
        kind=kind,
        municipality=municipality.name if municipality else None,
        municipality_code=municipality.code if municipality else None,
        region=region,
        committee=header.committee,
        meeting_date=header.meeting_date,
        start_time=header.start_time,
        location=header.location,
        participants=tuple(dict.fromkeys(header.participants)),
        items=tuple(items),
        warnings=tuple(warnings),
    )


def _structural(warnings: list[str]) -> bool:
    """Whether the items were found by the generic path (structure alone, no known layout)."""
    return any(w.startswith(GENERIC_WARNING.split(":")[0]) for w in warnings)


def _kind(header: Header, items: list[AgendaItem], head: list[str]) -> DocumentKind:
    """Minutes when any decision is recorded or the title says referat; an agenda otherwise.

    Without a title line the header reader knows, the first kind word printed capitalised before the
    first item decides (`… Udviklingsudvalget Protokol Tirsdag den 9. oktober …` in a header written
    as a sentence).
    """
    if any(item.decision is not None for item in items):
        return DocumentKind.MINUTES
    if header.kind_word is not None:
        return DocumentKind.AGENDA if is_agenda_word(header.kind_word) else DocumentKind.MINUTES
    m = _KIND_WORD.search("\n".join(head)[:_KIND_HEAD])
    if m is not None and not is_agenda_word(m.group(0).casefold()):
        return DocumentKind.MINUTES
    return DocumentKind.AGENDA


def _committee_from_decisions(headings: list[Heading | None]) -> str | None:
    """The committee most decision headings name (`Beslutning Arbejdsmarkedsudvalget den …`)."""
    names = Counter(
        name
        for h in headings
        if h is not None and h.kind == DECISION
        for name in [heading_committee(h)]
        if name
    )
    return names.most_common(1)[0][0] if names else None


def _body_on_date(lines: list[str], date: dt.date) -> str | None:
    """The council or committee named with this meeting's own date (`Høring og sagsgang` /
    `Kommunalbestyrelsen den 25. januar 2022`): a page whose header names no body still says whose meeting
    it is where a case's path lists the bodies and their meeting days."""
    names: Counter[str] = Counter()
    for line in lines:
        if " den " not in line:
            continue
        for m in _BODY_DEN.finditer(line):
            if find_date(m.group("rest")) == date:
                names[m.group("name")] += 1
    return names.most_common(1)[0][0] if names else None


def _running_headers(lines: list[str], header: Header, headings: list[Heading | None]) -> set[int]:
    """Running page headers left inside the text: `Arbejdsmarkedsudvalget` / `4. oktober 2023 16:00`.

    A date-only line (no colon: `4. oktober 2023:` opens a decision) that recurs is page furniture;
    the committee name alone counts only next to such a line, as it may also start a decision.
    A recurring dated line naming the document kind (`Plan- og Boligudvalget - Referat - 07.02.2024`)
    is one too, unless it is a heading.
    """
    date_only = [i for i, ln in enumerate(lines) if _is_date_only(ln)]
    titled = [
        i
        for i, ln in enumerate(lines)
        if len(ln) < _RUNNING_MAX and headings[i] is None and not ln.endswith(":")
        and _may_name_kind(ln) and DOCUMENT_KIND_WORD.search(ln) and find_date(ln) is not None
    ]
    counts = Counter(lines[i] for i in date_only + titled)
    drop = {i for i in date_only + titled if counts[lines[i]] >= 2}
    if header.committee:
        key = header.committee.casefold()
        for i in list(drop):
            for j in (i - 1, i + 1):
                if 0 <= j < len(lines) and lines[j].casefold() == key:
                    drop.add(j)
    return drop


def _may_name_kind(line: str) -> bool:
    """Substrings every `DOCUMENT_KIND_WORD` match holds (case-folded): a cheap test before the regex,
    which otherwise runs on nearly every short line of the document."""
    key = line.casefold()
    return "referat" in key or "dagsorden" in key or "protokol" in key


def _is_date_only(line: str) -> bool:
    if len(line) >= 60 or not line[:1].isdigit() or line.endswith(":"):
        return False
    return find_date(line) is not None and not strip_dates(line)

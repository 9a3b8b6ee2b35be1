"""The last step of every parse: refuse what no layout rule understood, and say what is doubtful.

A document whose layout no rule knows used to come out as a meeting with no items, and the pipeline
stored that empty meeting as if it were real. Here, after any format's parse, a result that shows
the rules did not see the document's structure is refused with `LayoutNotRecognised`:

- no agenda item at all (minutes and agendas alike: an empty meeting is never stored);
- items that hold only a sliver of a large text document (the rules caught a few lines that look like
  item headings and missed the body).

What is found but doubtful becomes a warning on the meeting (`minutes without any decision`, ...).
The thresholds are conservative on purpose: a false refusal loses a real meeting, a missed one only
stores a poor one. They were set from the corpus: items hold at least 84% of the text of every whole
real document and seed, and 31% of the excerpts (beginnings of pages, mostly header), so the refusal
bar (10%, and only with 4000 characters outside the items) sits far below anything real.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from services.parser.core.blocks import Block
from services.parser.core.errors import LayoutNotRecognised
from shared.contracts.meeting import DocumentKind, ParsedMeeting

# Refused when items hold less than this share of the text AND the text outside items is this long:
# a short page (a portal excerpt, a one-item meeting) legitimately has a header as long as its items.
REFUSE_COVERAGE: Final = 0.1
REFUSE_MIN_OUTSIDE_CHARS: Final = 4000
# Below this share (but above the refusal bar) the meeting is kept with a warning.
WARN_COVERAGE: Final = 0.4
WARN_MIN_OUTSIDE_CHARS: Final = 2000


def assess(meeting: ParsedMeeting, blocks: Sequence[Block] | None, fmt: str) -> ParsedMeeting:
    """The meeting with the gate's warnings added, or `LayoutNotRecognised` when its layout was not understood.

    `blocks` is the document's text as the format reader gave it (None for a structured export, whose
    items are read from the structure, so coverage of text means nothing there).
    """
    if not meeting.items:
        raise LayoutNotRecognised(
            f"layout not recognised: {_what(meeting)} but no agenda item found in {_size(blocks, fmt)}"
        )
    warnings = list(meeting.warnings)
    if blocks is not None:
        total = sum(len(b.text.strip()) for b in blocks)
        inside = min(total, _item_chars(meeting))
        share = inside / total if total else 1.0
        outside = total - inside
        if share < REFUSE_COVERAGE and outside >= REFUSE_MIN_OUTSIDE_CHARS:
            raise LayoutNotRecognised(
                f"layout not recognised: {_what(meeting)} and {_count(len(meeting.items), 'agenda item')} "
                f"holding only {share:.0%} of the text in {_size(blocks, fmt)}"
            )
        if share < WARN_COVERAGE and outside >= WARN_MIN_OUTSIDE_CHARS:
            warnings.append(f"items hold only {share:.0%} of the document's text: items may be missing")
    warnings.extend(_doubts(meeting))
    unique = tuple(dict.fromkeys(warnings))
    if unique == meeting.warnings:
        return meeting
    return meeting.model_copy(update={"warnings": unique})


def _doubts(meeting: ParsedMeeting) -> list[str]:
    """What a complete parse of the document would not look like.

    No warning for items without a case number: approving the agenda, announcements and closed items
    carry none in every layout of the corpus, so it would be noise on nearly every meeting.
    """
    found: list[str] = []
    items = meeting.items
    if meeting.kind is DocumentKind.MINUTES and not any(item.decision is not None for item in items):
        found.append("minutes without any decision")
    untitled = sum(1 for item in items if not item.title.strip())
    if untitled:
        found.append(f"{untitled} of {len(items)} items without a title")
    return found


def _item_chars(meeting: ParsedMeeting) -> int:
    """Characters of the document that the items hold: titles and section texts (a decision is a section
    too in most layouts; counted once, from its own field, only where no section holds it)."""
    chars = 0
    for item in meeting.items:
        chars += len(item.title) + sum(len(s.name) + len(s.text) for s in item.sections)
        if item.decision is not None and not any(item.decision.text in s.text for s in item.sections):
            chars += len(item.decision.text)
    return chars


def _what(meeting: ParsedMeeting) -> str:
    """`minutes with a header (committee, date)`: what the parse did find, for the refusal's reason."""
    kind = "minutes" if meeting.kind is DocumentKind.MINUTES else "an agenda"
    fields = [
        name
        for name, value in (
            ("municipality", meeting.municipality or meeting.region),
            ("committee", meeting.committee),
            ("date", meeting.meeting_date),
            ("time", meeting.start_time),
            ("place", meeting.location),
            ("participants", meeting.participants),
        )
        if value
    ]
    return f"{kind} with a header ({', '.join(fields)})" if fields else f"{kind} without a meeting header"


def _size(blocks: Sequence[Block] | None, fmt: str) -> str:
    """`4 pages`, `120 lines of text` or `a JSON export`: how much document there was to find items in."""
    if blocks is None:
        return f"a {fmt.upper()} export"
    pages = max((b.page for b in blocks), default=0)
    if fmt == "pdf" or pages > 1:
        return _count(pages, "page")
    lines = sum(1 for b in blocks if b.text.strip())
    return _count(lines, "line") + " of text"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

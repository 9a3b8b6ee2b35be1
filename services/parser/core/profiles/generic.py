"""The generic path: items of a layout no known family claims, from structure alone.

The known families run first, then the families recognised by their cues (`profiles.CLAIMED`). When
they find no items, or fewer than the document promises (its contents list), the generic profile
runs: every common numbered heading form (`1 Title`, `1 : Title`, `1.Title`, `§ 1`, `Nr. 1`), weighed
by typography (font size and weight, heading markup), a case number next to the heading and the
section captions the items share. Its items replace the others only when they keep what those found
and cover more; either way the result says what it did (`ParsedMeeting.warnings`).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Final

from services.parser.core.blocks import Block
from services.parser.core.items import ItemSpan, clean_title, find_items
from services.parser.core.patterns import OTHER, SUB_ITEM
from services.parser.core.profiles import CLAIMED, GENERIC, KNOWN
from services.parser.core.profiles.contents import Promise, missing_ranges, promised
from services.parser.core.sections import Heading

GENERIC_WARNING: Final = "no known layout: items found from numbered headings"
TITLE_WARNING: Final = "no known layout: items found from the titles of the table of contents"
# A sub-item heading (`2.1 Resultater`) is a short name, not a numbered sentence of a case text.
_SUB_MAX: Final = 120
# A jump in the numbering this short at most is items missing, not a new series.
_MAX_GAP: Final = 4
LISTED_WARNING: Final = "the text ends before the first item's body: items are only those of the contents list"
# At most this much text after a contents list and no item heading in it: the page was cut short.
_CUT_TAIL: Final = 1500
# A contents title this long at least is searched for in the text (a short one recurs by chance).
_MIN_TITLE: Final = 12


def locate_items(lines: list[str], headings: list[Heading | None], width: int | None, blocks: list[Block],
                 raw: list[Block], *, pages: bool = False) -> tuple[list[ItemSpan], list[str], list[Block]]:
    """The items of a document, what the finder has to say about them, and the blocks they index.

    The blocks are `blocks` itself unless the items were found by their contents titles inside longer
    lines (a transcript that ran each page into one line): then the lines are split at the titles.
    """
    spans = find_items(lines, headings, width, blocks, pages=pages, profile=KNOWN)
    promise = promised(raw, lines, spans[0].heading if spans else None)
    warnings: list[str] = []
    for profile in CLAIMED:
        if spans and not _short(spans, promise):
            break
        if profile.claims(lines):
            claimed = find_items(lines, headings, width, blocks, pages=pages, profile=profile)
            if _better(claimed, spans, promise):
                spans = claimed
    if not spans or _short(spans, promise):
        generic = find_items(lines, headings, width, blocks, pages=pages, profile=GENERIC)
        if _better(generic, spans, promise):
            spans = generic
            warnings.append(GENERIC_WARNING)
    if not spans and promise.titles:
        blocks, spans = _by_titles(blocks, promise, pages=pages)
        if spans:
            warnings.append(TITLE_WARNING)
    if not spans and promise.titles and promise.end and _cut_after(blocks, promise.end):
        spans = _listed_only(promise)
        warnings.append(LISTED_WARNING)
    if spans and promise.numbers:
        found = {s.number for s in spans}
        # Items of a contents list that precede the first found item may lie before the excerpt shown;
        # only numbers within the found range, or after it, are promised and missing.
        lost = [n for n in promise.numbers if n not in found and n > spans[0].number - 1]
        if lost:
            noun = "item" if len(lost) == 1 else "items"
            warnings.append(f"{noun} {missing_ranges(lost)} of the table of contents not found")
    elif spans:
        skipped = _skipped(spans)
        if skipped:
            noun = "item" if len(skipped) == 1 else "items"
            warnings.append(f"{noun} {missing_ranges(skipped)} missing from the item numbering")
    return spans, warnings, blocks


def _skipped(spans: list[ItemSpan]) -> list[int]:
    """Numbers a short gap in the found items' numbering leaves out (`4`, `6`: 5 is missing).

    A long jump is no gap: numbers that run through the year restart a new series of items, and a
    document may print only its open items.
    """
    out: list[int] = []
    for prev, cur in pairwise(spans):
        if 1 < cur.number - prev.number <= _MAX_GAP:
            out.extend(range(prev.number + 1, cur.number))
    return out


def _by_titles(blocks: list[Block], promise: Promise, *, pages: bool) -> tuple[list[Block], list[ItemSpan]]:
    """Items where the contents titles recur in the text after the list, in the list's order.

    Each title found starts a line of its own (the line is split before and after it); an item's body
    runs to the next title found. Titles not found stay missing (the caller says which).
    """
    assert promise.titles is not None
    out = list(blocks[: promise.end])
    starts: list[tuple[int, int, str]] = []  # (block index in out, number, title)
    pending = [(n, promise.titles[n]) for n in promise.numbers if len(promise.titles[n]) >= _MIN_TITLE]
    for block in blocks[promise.end :]:
        text = block.text
        while pending:
            number, title = pending[0]
            at = text.casefold().find(title.casefold())
            if at < 0:
                break
            pending.pop(0)
            if text[:at].strip():
                out.append(block.with_text(text[:at].strip()))
            starts.append((len(out), number, title))
            out.append(block.with_text(title))
            text = text[at + len(title) :].strip()
        if text:
            out.append(block.with_text(text))
    spans: list[ItemSpan] = []
    for pos, (index, number, title) in enumerate(starts):
        end = starts[pos + 1][0] if pos + 1 < len(starts) else len(out)
        page = out[index].page if pages else 0
        spans.append(ItemSpan(number, title, False, index, index + 1, end, None, page or None))
    return out, spans


def _cut_after(blocks: list[Block], end: int) -> bool:
    """Whether little text follows the contents list: a page cut (or stored) before its first item's body."""
    chars = 0
    for block in blocks[end:]:
        chars += len(block.text)
        if chars > _CUT_TAIL:
            return False
    return True


def _listed_only(promise: Promise) -> list[ItemSpan]:
    """The contents list's entries as items without a body (the caller warns that only the list was seen)."""
    assert promise.titles is not None
    at = promise.end - 1
    spans = []
    for n in promise.numbers:
        title, closed = clean_title(promise.titles[n])  # `Salg af areal (Lukket)` is a closed item
        spans.append(ItemSpan(n, title, closed, at, promise.end, promise.end))
    return spans


def _short(spans: list[ItemSpan], promise: Promise) -> bool:
    return bool(promise.numbers) and any(n not in {s.number for s in spans} for n in promise.numbers)


def _better(generic: list[ItemSpan], known: list[ItemSpan], promise: Promise) -> bool:
    """The generic items, when they keep every number the known ones found and cover more of the promise."""
    if not generic:
        return False
    if not known:
        return True
    numbers = {s.number for s in generic}
    if not {s.number for s in known} <= numbers:
        return False
    wanted = set(promise.numbers)
    return len(numbers & wanted) > len({s.number for s in known} & wanted)


def sub_item_headings(lines: list[str], headings: list[Heading | None]) -> list[Heading | None]:
    """Sub-items (`2.1 Resultater fra kystområderne`) as named sections of their parent item.

    Only for items the generic path found: there the numbered headings are the document's only
    structure, while in a known family `1.1 …` lines are numbered paragraphs of a case text.
    """
    return [
        Heading(line, OTHER) if h is None and len(line) <= _SUB_MAX and not line.endswith(".") and SUB_ITEM.match(line)
        and any(ch.isalpha() for ch in line) else h
        for line, h in zip(lines, headings, strict=True)
    ]

"""What a document promises about its items: the numbers (and titles) of its contents list.

A contents list is a run of numbered lines with no body between them (`1 Revisionsberetning …` /
`2 Endelig behandling …`), dot-leader lines (`Punkt 3: Budget ........ 7`), or a one-line list that a
transcript ran together (`INDHOLDSFORTEGNELSE Sag nr: Side: 01 Title 3 02 Title 8`). The item finder
compares what it found with these promises: a missing number is said, never silently dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from services.parser.core.blocks import Block
from services.parser.core.patterns import EXPLICIT_ITEM, TOC_LINE

# `1 Title`, `1. Title`, `1.Title` (glued), `Punkt 1: Title`, `Pkt. 1 Title` at the start of a contents line.
_ENTRY: Final = re.compile(
    r"^(?:(?:[Pp]unkt|PUNKT|[Pp]kt\.?|PKT\.?|Sag(?:\s+nr\.?)?|Dagsordenspunkt)\s{0,3})?(?P<num>\d{1,3})(?![\d/-]\d)(?:\s{0,3}[.:)\-–]?\s{1,4}|\.(?=[A-ZÆØÅ]))"
    r"(?P<title>[A-ZÆØÅÉ\"'“«(].{2,160})$"
)
# A contents list this long at least (lines in a row, a wrapped title or a sub-caption between them allowed).
_MIN_RUN: Final = 3
_MAX_GAP: Final = 2
# `INDHOLDSFORTEGNELSE … 01 Title 3 02 Title 8`: entries of a one-line list, each ending in its page.
_INLINE_TOC: Final = re.compile(r"(?:indholdsfortegnelse|dagsordenoversigt)\b", re.I)
_INLINE_ENTRY: Final = re.compile(
    r"(?:^|\s)(?P<num>\d{1,3})\s(?P<title>[A-ZÆØÅ][^\n]{2,200}?)\s\d{1,4}(?=\s\d{1,3}\s[A-ZÆØÅ]|\s*$)"
)
_PREFIX_STARTS: Final = frozenset({"Pun", "pun", "PUN", "Pkt", "pkt", "PKT", "Sag", "Dag"})
_LEADER_TAIL: Final = re.compile(r"(?:\.{2,}|…+|(?:\. ){2,}|\t)[\s.…]*\d{0,4}\s*$")


@dataclass(frozen=True)
class Promise:
    """The items a document's contents list names: numbers in order, and titles by number."""

    numbers: tuple[int, ...] = ()
    titles: dict[int, str] | None = None
    end: int = 0  # the line after the contents list (0 when it came from dot-leader lines)


def promised(raw: list[Block], lines: list[str], before: int | None = None) -> Promise:
    """The contents list of a document: from dot-leader lines of the raw blocks, or a run in the text.

    A run in the text counts only before `before` (the first item heading found): a numbered list inside
    an item (its recommendations, its attachments) promises nothing.
    """
    titles: dict[int, str] = {}
    for block in raw:
        tail = block.text[-40:]
        # Cheap substring tests first: this runs over every raw line of the document.
        if not ("..." in tail or "…" in tail or ". . ." in tail or "\t" in tail):
            continue
        text = block.text.strip()
        if len(text) < 300 and TOC_LINE.search(text[-40:]):
            m = _ENTRY.match(text) or EXPLICIT_ITEM.match(text)
            if m is not None:
                titles.setdefault(int(m.group("num")), _LEADER_TAIL.sub("", m.group("title")).strip())
    end = 0
    if len(titles) < _MIN_RUN:
        head = lines if before is None else lines[:before]
        titles, end = _text_run(head)
        if not titles:
            titles, end = _inline(head)
    if not titles:
        return Promise()
    return Promise(tuple(sorted(titles)), titles, end)


def _text_run(lines: list[str]) -> tuple[dict[int, str], int]:
    """The first run of numbered lines counting up one by one with no body between them."""
    run: dict[int, str] = {}
    last_num, last_at = 0, -10
    for i, line in enumerate(lines):
        m = _ENTRY.match(line) if line[:1].isdigit() or line[:3] in _PREFIX_STARTS else None
        if m is None:
            if run and i - last_at > _MAX_GAP:
                if len(run) >= _MIN_RUN:
                    return run, last_at + 1
                run = {}
            continue
        num = int(m.group("num"))
        if run and num == last_num + 1 and i - last_at <= _MAX_GAP + 1:
            run[num] = m.group("title")
        else:
            if len(run) >= _MIN_RUN:
                return run, last_at + 1
            run = {num: m.group("title")}
        last_num, last_at = num, i
    return (run, last_at + 1) if len(run) >= _MIN_RUN else ({}, 0)


def _inline(lines: list[str]) -> tuple[dict[int, str], int]:
    for i, line in enumerate(lines):
        toc = _INLINE_TOC.search(line) if len(line) > 100 and ("NDHOLD" in line or "ndhold" in line
                                                                or "versigt" in line) else None
        if toc is not None:
            rest = line[toc.end() :]
            entries = {int(m.group("num")): m.group("title").strip() for m in _INLINE_ENTRY.finditer(rest)}
            if len(entries) >= 2:
                return entries, i + 1
    return {}, 0


def missing_ranges(numbers: list[int]) -> str:
    """`3–5, 8` for the numbers 3, 4, 5, 8."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], -1]:
        if n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}–{prev}")
        start = prev = n
    return ", ".join(parts)

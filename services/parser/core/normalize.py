"""Text clean-up shared by every format: line ends, hyphenation, page furniture, contents lists."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Final

from services.parser.core.blocks import Block, text_blocks
from services.parser.core.decode import repair_mojibake
from services.parser.core.patterns import (
    ABSENT_LABEL,
    CASE_LABEL,
    CASE_SHAPES,
    CLOSINGS,
    DECISION_START,
    EXPLICIT_ITEM,
    FILLER,
    LETTERHEAD,
    NAV_NOISE,
    PAGE_NUMBER,
    SECTION_NAMES,
    TOC_HEADING,
    TOC_LINE,
)
from services.parser.core.sections import classify_heading

# pypdfium2 marks a line-end hyphen as U+0002 and glues the two lines together (`an\x02læg`).
# Some producers leave U+FFFE (a noncharacter) where the soft hyphen was: the same break.
_SOFT_BREAK: Final = re.compile(r"(\S?)[\x02\ufffe]\s*(\S?)")
# Control characters other than tab, newline and form feed carry nothing (C0 and C1 ranges).
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200d\ufeff\ufffe\uffff]")
# Exotic spaces become plain ones; runs of plain spaces shrink (one space is left alone: cheap).
# Same as `[exotic][ \u00a0]*| {2,}`, written to open with one character set: `re` then skips to the next
# space-like character at C speed, where a top-level alternation tries both branches at every character
# (this runs over the whole text; three times faster). The lookbehinds re-check which branch applies.
_EXOTIC_SPACES: Final = "\u00a0\u2000-\u200a\u202f\u205f\u3000"  # a character class's contents
_SPACES: Final = re.compile(rf"[ {_EXOTIC_SPACES}](?:(?<=[{_EXOTIC_SPACES}])[ \u00a0]*|(?<= ) +)")
_EXOTIC_SPACE: Final = re.compile(f"[{_EXOTIC_SPACES}]")
# A tab inside a line is a space typed by another tool (`Mødedato:\tTirsdag`, `Udviklings-\tog`); only a tab
# before a closing page number keeps its meaning as a contents-list leader (see `TOC_LINE`).
# After a label's colon a tab is always a space (`Imod stemte:\t0` is a count, not a page number).
_TABS: Final = re.compile(r"(?<=:)[ \t]*\t[ \t]*|[ \t]*\t[ \t]*(?!\d{1,4}[ \t]*(?:\n|$))")
_DIGITS: Final = re.compile(r"\d+")
# Words after which a broken compound keeps its hyphen and gains a space: `Arbejdsmarkeds- og`.
_CONJUNCTIONS: Final = ("og ", "eller ", "samt ", "til ", "som ")
# How many lines at the top and bottom of a page may be running headers or footers.
_FURNITURE_DEPTH: Final = 3
# How far from the end a closing salutation (`Med venlig hilsen`) opens the signature.
_SIGNATURE_DEPTH: Final = 15
_ENDS_IN_PAGE: Final = re.compile(r"\s\d{1,3}$")
_BARE_NUMBER: Final = re.compile(r"^[#\s]{1,12}$")
# Running headers recur at the same height (in points, rounded to this step) on every page.
_SAME_HEIGHT: Final = 3.0
_NAV_ROW_MAX: Final = 80
_NAV_SEP: Final = re.compile(r"\s[-|]\s")
_NAV_MAX: Final = max(_NAV_ROW_MAX, *map(len, NAV_NOISE))


def clean_text(text: str) -> str:
    """Normalise line ends, hyphen breaks, spaces and mojibake; keep form feeds as page breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x02" in text or "\ufffe" in text:
        text = _join_soft_breaks(text)
    text = _CONTROL.sub("", text)
    if "\t" in text:
        text = _TABS.sub(" ", text)
    text = _squeeze_spaces(text)
    return repair_mojibake(text)


def _squeeze_spaces(text: str) -> str:
    """`_SPACES` applied. Most texts hold neither a double space nor an exotic one, and a substring test and
    a scan for the exotic ones alone say so faster than `sub`, which stops at every space."""
    if "  " in text or _EXOTIC_SPACE.search(text):
        return _SPACES.sub(" ", text)
    return text


def _join_soft_breaks(text: str) -> str:
    def join(m: re.Match[str]) -> str:
        before, after = m.group(1), m.group(2)
        rest = text[m.end() - len(after) : m.end() + 6]
        if rest.startswith(_CONJUNCTIONS) or rest.split(" ", 1)[0] in {"og", "eller", "samt"}:
            return f"{before}- {after}"
        # A hyphen after a digit or an upper-case abbreviation is a real one (`2030-fremskrivning`).
        if before.isdigit() or before.isupper() or after.isdigit() or after.isupper():
            return f"{before}-{after}"
        return before + after

    return _SOFT_BREAK.sub(join, text)


def to_lines(text: str, furniture: list[str] | None = None) -> list[str]:
    """Cleaned text split into content lines without page furniture or contents (see `content_blocks`)."""
    return [b.text for b in content_blocks(text_blocks(text), furniture)]


def clean_blocks(blocks: list[Block]) -> list[Block]:
    """Each block's text cleaned like `clean_text`; mojibake is repaired from the whole document's words.

    The substitutions run once over the joined text (none of them touches a line end), not per line.
    """
    split: list[Block] = []
    for block in blocks:
        text = block.text
        if "\n" in text or "\r" in text:
            split.extend(block.with_text(p) for p in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
        elif "\x02" in text or "\ufffe" in text:
            split.append(block.with_text(_join_soft_breaks(text)))
        else:
            split.append(block)
    joined = "\n".join(b.text for b in split)
    cleaned = _CONTROL.sub("", joined)
    if "\t" in cleaned:
        cleaned = _TABS.sub(" ", cleaned)
    cleaned = repair_mojibake(_squeeze_spaces(cleaned))
    if cleaned == joined:
        return split
    parts = cleaned.split("\n")
    if len(parts) != len(split):  # cannot happen with the patterns above; never misalign blocks
        return [b.with_text(repair_mojibake(_SPACES.sub(" ", _TABS.sub(" ", _CONTROL.sub("", b.text))))) for b in split]
    return [b.with_text(t) for b, t in zip(split, parts, strict=True)]


def content_blocks(blocks: list[Block], furniture: list[str] | None = None) -> list[Block]:
    """Stripped, non-empty content blocks without page furniture, filler, portal noise or contents.

    Running headers and footers removed from the pages are appended to `furniture` when given: they
    often carry the municipality (`Guldborgsund Kommune · Parkvej 37`) and nothing else does.
    """
    pages: defaultdict[int, list[Block]] = defaultdict(list)  # not setdefault: that builds a list per line
    for block in blocks:
        text = block.text.strip()
        if text:
            pages[block.page].append(block if text == block.text else block.with_text(text))
    grouped = [pages[k] for k in sorted(pages)]
    if len(grouped) > 1:
        grouped = _strip_page_furniture(grouped, furniture)
    kept: list[Block] = []
    for page in grouped:
        for block in page:
            line = block.text
            # Case-folding never shortens a text: a line longer than any button or row of buttons is neither,
            # and long paragraphs are spared the fold.
            key = line.casefold() if len(line) <= _NAV_MAX else ""
            # FILLER is three characters at most: the length test spares most lines the regex call.
            if (len(line) <= 3 and FILLER.match(line)) or PAGE_NUMBER.match(line) or key in NAV_NOISE or (
                    (" - " in key or " | " in key) and _nav_row(key)):
                continue
            kept.append(block)
    return _drop_contents(kept)


def _nav_row(key: str) -> bool:
    """A row of a portal's buttons (`Kopier link til punktet - Print`)."""
    return len(key) <= _NAV_ROW_MAX and all(part.strip() in NAV_NOISE for part in _NAV_SEP.split(key))


def split_trailer(lines: list[Block]) -> tuple[list[Block], list[str]]:
    """Content blocks, and letterhead/signature lines that only tell who sent the document.

    Municipal letterheads (`Syddjurs Kommune · Lundbergsvej 2 · 8400 Ebeltoft`) go wherever they are;
    a closing salutation (`Med venlig hilsen`) near the end takes the signature after it along.
    """
    trailer: list[str] = []
    end = len(lines)
    for i in range(len(lines) - 1, max(-1, len(lines) - 1 - _SIGNATURE_DEPTH), -1):
        if lines[i].text.casefold().rstrip(",.!") in CLOSINGS and i > 0:
            end = i
            break
    trailer.extend(b.text for b in lines[end:])
    kept: list[Block] = []
    for block in lines[:end]:
        line = block.text
        # LETTERHEAD names `Kommune` or `KOMMUNE` as printed (case-sensitive): no need to case-fold every line.
        if len(line) < 200 and ("ommune" in line or "OMMUNE" in line):
            m = LETTERHEAD.match(line)
            if m is not None and (not m.group("tail") or any(ch.isdigit() for ch in m.group("tail"))):
                trailer.append(line)
                continue
        kept.append(block)
    return kept, trailer


def _strip_page_furniture(pages: list[list[Block]], removed: list[str] | None = None) -> list[list[Block]]:
    """Remove lines that recur at the top or bottom of most pages (running headers and footers)."""
    edges: Counter[str] = Counter()
    originals: dict[str, list[tuple[int, str]]] = {}
    # Where the PDF says where lines sit, a running header or footer sits at the same height on every
    # page; a line that merely recurs (an item's case number under titles of one or two lines) does not.
    tops: dict[str, Counter[int]] = {}
    for page_no, blocks in enumerate(pages):
        edge = blocks[:_FURNITURE_DEPTH] + blocks[-_FURNITURE_DEPTH:]
        seen = {_DIGITS.sub("#", b.text): b for b in edge}
        edges.update(seen.keys())
        for key, b in seen.items():
            originals.setdefault(key, []).append((page_no, b.text))
            if b.top >= 0:
                tops.setdefault(key, Counter())[round(b.top / _SAME_HEIGHT)] += 1
    # Recurring on most pages (and on two at least): a header, not content. Half is too little for
    # short files, where `Godkendt.` or an attendance line can end two pages of four by chance.
    threshold = max(2, -(-len(pages) * 3 // 5))
    # Section and item headings can sit at a page edge on every page of a short file: never furniture.
    furniture = {
        key
        for key, n in edges.items()
        if n >= threshold
        and len(key) < 120
        and key.casefold().rstrip(":") not in SECTION_NAMES
        and not EXPLICIT_ITEM.match(key)
        and not any(_content_line(ln) for _, ln in originals[key])
        and (not _BARE_NUMBER.match(key) or _page_numbers(originals[key]))
        and (key not in tops or tops[key].most_common(1)[0][1] >= threshold)
    }
    if not furniture:
        return pages
    out: list[list[Block]] = []
    for blocks in pages:
        top = len(blocks)
        keep: list[Block] = []
        for i, block in enumerate(blocks):
            at_edge = i < _FURNITURE_DEPTH or i >= top - _FURNITURE_DEPTH
            if at_edge and _DIGITS.sub("#", block.text) in furniture:
                if removed is not None:
                    removed.append(block.text)
                continue
            keep.append(block)
        out.append(keep)
    return out

def _content_line(line: str) -> bool:
    """A heading, decision or attendance line that happens to open or end several pages."""
    if not line[:1].isalpha():
        return False
    if classify_heading(line) is not None or ABSENT_LABEL.match(line) or DECISION_START.match(line):
        return True
    if EXPLICIT_ITEM.match(line) or CASE_SHAPES.match(line):
        return True  # an item heading, or the case number under it when every item opens a page
    # `Sagsnr.: 22/4401` under items that open three pages: the digits differ, the shape does not.
    return len(line) < 120 and CASE_LABEL.match(line) is not None


def _page_numbers(found: list[tuple[int, str]]) -> bool:
    """Bare numbers at page edges are page numbers when they step with the pages (`3`, `4`, `5`).

    Item numbers printed alone at the top of a page (`111` / title) jump by more than the pages do.
    """
    offsets = Counter(int(ln) - page_no for page_no, ln in found if ln.isdigit())
    return bool(offsets) and offsets.most_common(1)[0][1] * 2 > len(found)


def _drop_contents(blocks: list[Block]) -> list[Block]:
    """Drop the table of contents: its heading, dot-leader lines and the page-numbered lines after it."""
    out: list[Block] = []
    in_toc = False
    for block in blocks:
        line = block.text
        if TOC_HEADING.match(line):
            in_toc = True
            continue
        # Only the tail can hold leaders and a page number; searching whole paragraphs is slow.
        if len(line) < 300 and is_toc_tail(line[-40:]):
            continue
        if in_toc:
            # Contents entries without leaders still end in a page number; the first line that does
            # not is real content again.
            if _ENDS_IN_PAGE.search(line) and len(line) < 200 and not EXPLICIT_ITEM.match(line):
                continue
            in_toc = False
        out.append(block)
    return out


def is_toc_tail(tail: str) -> bool:
    """Whether the end of a line is a contents line's (`TOC_LINE`: dot leaders or a tab, then a page number).

    Substring tests for what the regex needs come first: it is tried at every position of every line,
    and almost no line holds leaders or a tab.
    """
    return ("\t" in tail or "...." in tail or "……" in tail or ". . ." in tail) and TOC_LINE.search(tail) is not None


def wrap_width(lines: list[str]) -> int | None:
    """The line width of a hard-wrapped text (PDF), or None when paragraphs are single lines."""
    lengths = sorted(len(ln) for ln in lines if len(ln) > 30)
    if len(lengths) < 10:
        return None
    width = lengths[int(len(lengths) * 0.95) - 1]
    if width > 200:
        return None
    # Wrapped text has many lines close to the full width; free text has lengths all over the place.
    near_full = sum(1 for n in lengths if n >= 0.8 * width)
    return width if near_full >= 0.25 * len(lengths) else None


def continues(line: str, nxt: str, width: int | None, *, strict: bool = False) -> bool:
    """Whether `nxt` is the wrapped continuation of `line` in hard-wrapped text.

    `strict` is for lists (attachments), where a new entry starts with a capital: there only a
    lower-case start or a dangling hyphen/comma continues the line.
    """
    if width is None or not nxt or len(line) < 0.8 * width:
        return False
    first_word = nxt.split(" ", 1)[0]
    # The line broke because the next word did not fit (character counts only approximate widths).
    if len(line) + 1 + len(first_word) < 0.9 * width:
        return False
    return not strict or nxt[0].islower() or line.endswith(("-", ",", "/", "_"))


def paragraphs(lines: list[str], width: int | None) -> str:
    """Lines joined into paragraphs where a PDF wrapped them; real line breaks (lists, new sentences) stay.

    A line continues the one above when the text is hard-wrapped there (`continues`), or when the line
    above ends without closing punctuation and this one goes on in lower case (`… har` / `vedtaget …`).
    """
    out: list[str] = []
    for line in lines:
        if out and _wraps_onto(out[-1], line, width):
            prev = out[-1]
            out[-1] = f"{prev}{line}" if prev.endswith("-") and line[:1].islower() and prev[-2:-1].isdigit() \
                else f"{prev} {line}"
        else:
            out.append(line)
    return "\n".join(out)


def _wraps_onto(prev: str, line: str, width: int | None) -> bool:
    if not line or prev.endswith((".", ":", "!", "?", ";")):
        return False
    return line[:1].islower() or continues(prev, line, width)

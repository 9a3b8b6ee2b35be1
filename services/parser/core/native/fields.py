"""HTML bodies of native export fields to lines and captioned sections.

FirstAgenda and SBSYS store each field as an HTML fragment. The structure is there (headings,
paragraphs, lists), so it is read from the DOM: one line per block, headings kept apart, list items
numbered or lettered as the list says, and a paragraph that is only bold text marked as such (the
portals print some captions as `<p><strong>Resume</strong></p>` instead of a heading).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from services.parser.core.nesting import check_markup
from services.parser.core.patterns import SECTION_NAMES

_HEADINGS: Final = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BLOCKS: Final = frozenset(
    {"p", "div", "section", "article", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "thead", "tbody",
     "tfoot", "caption", "blockquote", "pre", "address", "figure", "figcaption", "hr", "body", "html", "span"}
)
# `span` is inline in HTML, but the FirstAgenda bodies wrap whole sections in `<span class='ukendt'>`
# and decisions in `<span>…</span>`: a span that holds blocks is treated as a block below.
_INLINE_SPAN: Final = "span"
_SKIP: Final = frozenset({"script", "style", "noscript", "template", "head", "img", "svg", "object", "iframe"})
_BOLD: Final = frozenset({"b", "strong"})
_CELLS: Final = frozenset({"td", "th"})
_SPACES: Final = re.compile(r"[ \t\r\n\f\v\u00a0\u200b]+")
# Bold paragraphs become captions only when they name a known section: bold lines inside a body
# (`Pavilloner til flygtninge`) are sub-titles of its text, not new sections.
EXTRA_CAPTIONS: Final = frozenset(
    {"fremstilling", "sagsprocedure", "sagens forløb", "sagsforløb", "øvrige konsekvenser", "øvrige forhold",
     "tidligere behandling", "sammendrag", "beslutningen træffes af", "økonomiske konsekvenser og finansiering"}
)
_MAX_CAPTION: Final = 80


@dataclass(frozen=True)
class Block:
    """One line of a field: its text, its heading level (None for body text), and whether it is all bold."""

    text: str
    level: int | None = None
    bold: bool = False


@dataclass
class FieldSection:
    """A captioned part of a field: the caption as printed and its lines."""

    name: str
    level: int | None
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def clean(text: str) -> str:
    """Text with whitespace runs (no-break spaces included) folded to one space."""
    return _SPACES.sub(" ", text).strip()


def html_blocks(markup: str, what: str = "a field") -> list[Block]:
    """The blocks of an HTML fragment, in document order; empty blocks dropped.

    Markup nested deeper than any document is refused first (`what` names the field in the reason): the walk
    below recurses once per level.
    """
    if not markup or not markup.strip():
        return []
    check_markup(markup, what)
    tree = LexborHTMLParser(f"<html><body>{markup}</body></html>")
    root = tree.body
    if root is None:
        return []
    walker = _Walker()
    walker.walk(root)
    walker.flush()
    return walker.blocks


class _Walker:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.buf: list[str] = []

    def flush(self, bold: bool = False) -> None:
        text = clean("".join(self.buf))
        self.buf = []
        if text:
            self.blocks.append(Block(text, None, bold))

    def walk(self, node: LexborNode, marker: str = "") -> None:
        counter = _list_counter(node)
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                self.buf.append(child.text(deep=False) or "")
            elif tag in _SKIP:
                continue
            elif tag == "br":
                self.flush()
            elif tag in _HEADINGS:
                self.flush()
                text = clean(child.text(deep=True, separator=" "))
                if text:
                    self.blocks.append(Block(text, int(tag[1])))
            elif tag in _CELLS:
                self.buf.append(" ")
                self.walk(child)
                self.buf.append(" ")
            elif tag in _BLOCKS and (tag != _INLINE_SPAN or _holds_blocks(child)):
                self.flush()
                prefix = ""
                if tag == "li" and counter is not None:
                    prefix = counter.next()
                if prefix:
                    self.buf.append(prefix + " ")
                self.walk(child)
                self.flush(bold=tag in ("p", "div") and _all_bold(child))
            else:
                self.walk(child)


class _Counter:
    """Numbers or letters of an `<ol>`: `start` and `list-style-type` (SBSYS letters its points A, B, C)."""

    def __init__(self, start: int, style: str) -> None:
        self.n = start - 1
        self.style = style

    def next(self) -> str:
        self.n += 1
        if "upper-alpha" in self.style or "upper-latin" in self.style:
            return f"{_letter(self.n).upper()}."
        if "lower-alpha" in self.style or "lower-latin" in self.style:
            return f"{_letter(self.n)}."
        return f"{self.n}."


def _letter(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) if n >= 1 else "a"


def _list_counter(node: LexborNode) -> _Counter | None:
    if node.tag != "ol":
        return None
    attrs = node.attributes
    try:
        start = int(attrs.get("start") or 1)
    except ValueError:
        start = 1
    style = (attrs.get("style") or "") + " " + (attrs.get("type") or "")
    if (attrs.get("type") or "") == "A":
        style += " upper-alpha"
    elif (attrs.get("type") or "") == "a":
        style += " lower-alpha"
    return _Counter(start, style.casefold())


def _holds_blocks(node: LexborNode) -> bool:
    return any(child.tag in _BLOCKS or child.tag in _HEADINGS for child in node.iter())


def _all_bold(node: LexborNode) -> bool:
    """Whether all the text of a paragraph sits inside `<b>`/`<strong>`."""
    full = clean(node.text(deep=True, separator=" "))
    if not full or len(full) > _MAX_CAPTION:
        return False
    bold = " ".join(clean(b.text(deep=True, separator=" ")) for b in node.css("b, strong"))
    return clean(bold).replace(" ", "") == full.replace(" ", "")


def is_caption(text: str) -> bool:
    """Whether a bold line names a section every agenda system knows (`Resume`, `Indstilling`)."""
    key = text.casefold().rstrip(" :.")
    return key in SECTION_NAMES or key in EXTRA_CAPTIONS


def split_sections(blocks: list[Block], first: str = "") -> list[FieldSection]:
    """Blocks grouped under their captions: headings, and bold lines that name a known section.

    Text before any caption goes into a section named `first` (a field's own caption, or "").
    """
    sections: list[FieldSection] = [FieldSection(first, None)]
    for block in blocks:
        if block.level is not None or (block.bold and is_caption(block.text)):
            sections.append(FieldSection(block.text.rstrip(" :"), block.level))
        else:
            sections[-1].lines.append(block.text)
    return [s for s in sections if s.name or s.lines]

"""HTML pages (agenda portals) to blocks, reading the DOM rather than flattened text.

What the markup knows is kept: headings (`<h1>`–`<h6>` wherever they sit, also inside a portal's
expand button), key/value table rows (`<td>Mødedeltagere:</td><td></td>` is an empty field, not a
label whose value is the next line), and attachment links (a portal's `bilag` links are an item's
attachments). Site chrome — navigation, dialogs, drop-down menus, badges, forms — never reaches the
rules.
"""

from __future__ import annotations

import re
from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

from services.parser.core.blocks import ATTACHMENT, FIELD, HEADING, PLAIN, Block
from services.parser.core.nesting import check_markup

# Elements that never hold minutes text. `button` is handled apart: portals put item titles in one.
# `header` stays: portals put the meeting title (and the municipality) there.
_NOISE_TAGS: Final = frozenset(
    {"script", "style", "noscript", "template", "nav", "footer", "form", "select", "input", "textarea",
     "svg", "iframe", "object", "canvas", "aside", "menu", "dialog", "head", "label"}
)
# Class or role tokens of chrome in the common front-end kits (Bootstrap, portal templates).
_CHROME_CLASSES: Final = frozenset(
    {"modal", "dropdown-menu", "navbar", "breadcrumb", "breadcrumbs", "sr-only", "visually-hidden",
     "cookie", "cookie-banner", "tooltip", "popover", "pagination", "skip-link", "spinner", "toast"}
)
_CHROME_ROLES: Final = frozenset({"dialog", "alertdialog", "navigation", "menu", "tooltip", "banner", "search"})
# Elements that start and end a block; everything else flows inline within its block.
_BLOCKS: Final = frozenset(
    {"p", "div", "section", "article", "main", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "thead",
     "tbody", "tfoot", "caption", "blockquote", "pre", "address", "figure", "figcaption", "fieldset",
     "legend", "details", "summary", "hr", "body", "html", "header", "td", "th", "button"}
)
# Cells holding any of these are walked as blocks of their own (a portal's item row).
_NESTED_BLOCKS: Final = "div, p, table, ul, ol, h1, h2, h3, h4, h5, h6, button, a"
_HEADINGS: Final = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Links that are an item's attachments: by the portal's class or id, or by where they point.
_ATTACHMENT_MARK: Final = re.compile(r"bilag|attachment|enclosure|vedh[æa]ft", re.I)
_ATTACHMENT_HREF: Final = re.compile(r"/bilag/|/attachments?/|/enclosures?/|\.(?:pdf|docx?|xlsx?)(?:$|[?#])", re.I)
# Where a page says whose it is: (CSS selector, attribute or "" for the text).
_SITE_SOURCES: Final = (
    ("title", ""), ("meta[property='og:site_name']", "content"), ("meta[name='author']", "content"),
    ("link[rel='canonical']", "href"), ("footer", ""), ("a[href^='mailto:']", "href"), ("a[href^='http']", "href"),
)
_SITE_NODES: Final = 5
_SITE_CHARS: Final = 2000
_LABEL_CELL: Final = 60
# Elements that hold one entry each inside a value cell (a list of members).
_LIST_PARTS: Final = frozenset({"div", "p", "li", "span", "a"})


def html_blocks(markup: str) -> tuple[list[Block], str]:
    """The blocks of the page's content, and the text that says whose site it is."""
    check_markup(markup, "the HTML page")  # before parsing: building a deep tree is what takes minutes
    tree = LexborHTMLParser(markup)
    site = _site_text(tree)
    root = tree.body or tree.root
    if root is None:
        return [], site
    return _Walker().run(root), site


class _Walker:
    """Depth-first over the DOM with an explicit stack (deep markup must not hit the recursion limit)."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.buffer: list[str] = []
        self.level = 0  # heading level of the block being collected, 0 for body text

    def run(self, root: LexborNode) -> list[Block]:
        stack: list[tuple[LexborNode, int]] = [(root, 0)]  # 0: enter, 1: leave block, 2: leave heading
        while stack:
            node, state = stack.pop()
            if state:
                self._flush()
                if state == 2:
                    self.level = 0
                continue
            tag = node.tag
            if tag == "-text":
                self.buffer.append(node.text_content or "")
                continue
            if tag in _NOISE_TAGS or _is_chrome(node):
                continue
            if tag == "br":
                self._flush()
                continue
            if tag == "tr" and (self._field_row(node) or self._simple_row(node)):
                continue
            if tag == "a" and _is_attachment(node):
                self._flush()
                text = " ".join(node.text(separator=" ").split())
                if text:
                    self.blocks.append(Block(text, kind=ATTACHMENT, style=PLAIN))
                continue
            if tag in _HEADINGS:
                self._flush()
                self.level = _HEADINGS[tag]
                stack.append((node, 2))
            elif tag in _BLOCKS:
                self._flush()
                stack.append((node, 1))
            children = list(node.iter(include_text=True))
            stack.extend((child, 0) for child in reversed(children))
        self._flush()
        return self.blocks

    def _flush(self) -> None:
        text = " ".join("".join(self.buffer).split())
        self.buffer.clear()
        if not text:
            return
        if self.level:
            self.blocks.append(Block(text, style=HEADING, level=self.level))
        else:
            self.blocks.append(Block(text, style=PLAIN))

    def _field_row(self, row: LexborNode) -> bool:
        """`<tr><td>Udvalg:</td><td>…</td></tr>`: one complete field, even when the value cell is empty."""
        cells = [c for c in row.iter() if c.tag in ("td", "th")]
        if len(cells) != 2:
            return False
        label = " ".join(cells[0].text(separator=" ").split())
        if not label.endswith(":") or len(label) > _LABEL_CELL:
            return False
        self._flush()
        value = _cell_value(cells[1])
        self.blocks.append(Block(f"{label} {value}".strip(), kind=FIELD, style=PLAIN))
        return True

    def _simple_row(self, row: LexborNode) -> bool:
        """A row of plain cells (`Mødested | Byrådssalen`) is one line; cells holding blocks are walked."""
        if row.css_first(_NESTED_BLOCKS) is not None:
            return False
        cells = [" ".join(c.text(separator=" ").split()) for c in row.iter() if c.tag in ("td", "th")]
        self._flush()
        text = " ".join(c for c in cells if c)
        if text:
            self.blocks.append(Block(text, style=PLAIN))
        return True


def _cell_value(cell: LexborNode) -> str:
    """A value cell's text; names in separate elements or lines (`<div>A</div><div>B</div>`, `A<br>B`)
    become a list (`A, B`), not one run of words."""
    parts = [" ".join(child.text(separator=" ").split()) for child in cell.iter() if child.tag in _LIST_PARTS]
    parts = [p for p in parts if p]
    if len(parts) >= 2:
        return ", ".join(parts)
    html = cell.html or ""
    if "<br" in html.casefold():
        pieces = LexborHTMLParser(re.sub(r"<br\s*/?>", "\n", html, flags=re.I)).text(separator="").split("\n")
        items = [" ".join(p.split()) for p in pieces if p.strip()]
        if len(items) >= 2:
            return ", ".join(items)
    return " ".join(cell.text(separator=" ").split())


def _is_chrome(node: LexborNode) -> bool:
    attributes = node.attributes
    if node.tag == "button" and node.css_first("h1, h2, h3, h4, h5, h6") is None:
        return True  # a button's own label (`Hent som PDF`, `×`); one that holds a title is content
    if attributes.get("hidden") is not None or attributes.get("aria-hidden") == "true":
        return True
    role = attributes.get("role")
    if role and role.casefold() in _CHROME_ROLES:
        return True
    classes = attributes.get("class")
    if not classes:
        return False
    tokens = {token.casefold() for token in classes.split()}
    if tokens & _CHROME_CLASSES:
        return True
    # A counter badge (the paperclip count of attachments); a badge with words (`Lukket`) is content.
    return "badge" in tokens and node.text(strip=True).isdigit()


def _is_attachment(node: LexborNode) -> bool:
    attributes = node.attributes
    marks = " ".join(v for v in (attributes.get("class"), attributes.get("id")) if v)
    if marks and _ATTACHMENT_MARK.search(marks):
        return True
    href = attributes.get("href") or ""
    return bool(href) and _ATTACHMENT_HREF.search(href) is not None


def _site_text(tree: LexborHTMLParser) -> str:
    pieces: list[str] = []
    for selector, attribute in _SITE_SOURCES:
        for node in tree.css(selector)[:_SITE_NODES]:
            value = node.attributes.get(attribute) if attribute else node.text(separator="\n")
            if value:
                pieces.append(value[:_SITE_CHARS])
    return "\n".join(" ".join(piece.split()) for piece in pieces)

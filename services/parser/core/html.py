"""HTML minutes pages (agenda portals) to plain text: one line per block, navigation removed."""

from __future__ import annotations

from typing import Final

from selectolax.lexbor import LexborHTMLParser, LexborNode

# Elements that never hold minutes text: scripts, navigation, buttons and forms of the portal.
# `header` stays: portals put the meeting title (and the municipality) there.
_NOISE_TAGS: Final = [
    "script", "style", "noscript", "template", "nav", "footer", "button", "form", "select",
    "input", "textarea", "svg", "iframe", "object", "canvas", "aside", "menu", "dialog", "head",
]
# Elements that start and end a line; everything else flows inline within its line.
_BLOCKS: Final = frozenset(
    {"p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl",
     "dt", "dd", "tr", "table", "thead", "tbody", "tfoot", "caption", "blockquote", "pre", "address",
     "figure", "figcaption", "fieldset", "legend", "details", "summary", "hr", "body", "html"}
)
# Where a page says whose it is: (CSS selector, attribute or "" for the text).
_SITE_SOURCES: Final = (
    ("title", ""), ("meta[property='og:site_name']", "content"), ("meta[name='author']", "content"),
    ("link[rel='canonical']", "href"), ("footer", ""), ("a[href^='mailto:']", "href"),
)
_SITE_NODES: Final = 5
_SITE_CHARS: Final = 2000
_CELLS: Final = frozenset({"td", "th"})


def html_text(markup: str) -> str:
    """Visible text of an HTML page: blocks become lines, table cells are separated by spaces."""
    return html_text_and_site(markup)[0]


def html_text_and_site(markup: str) -> tuple[str, str]:
    """The visible text, and the text that says whose site it is (title, site name, footer, links).

    Portals name the municipality in the page title, the footer and the addresses they link to,
    rarely in the minutes themselves; the footer is not minutes text, so it is returned apart.
    """
    tree = LexborHTMLParser(markup)
    site = _site_text(tree)
    tree.strip_tags(_NOISE_TAGS, recursive=True)
    root = tree.body or tree.root
    if root is None:
        return "", site
    parts: list[str] = []
    # An explicit stack, not recursion: deeply nested markup must not hit the recursion limit.
    stack: list[tuple[LexborNode, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        tag = node.tag
        if leaving:
            parts.append("\n")
            continue
        if tag == "-text":
            parts.append(node.text_content or "")
            continue
        if tag == "br":
            parts.append("\n")
            continue
        if tag in _BLOCKS:
            parts.append("\n")
            stack.append((node, True))
        elif tag in _CELLS:
            parts.append(" ")
        children = list(node.iter(include_text=True))
        stack.extend((child, False) for child in reversed(children))
    # HTML whitespace is insignificant: collapse it within each line.
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line), site


def _site_text(tree: LexborHTMLParser) -> str:
    pieces: list[str] = []
    for selector, attribute in _SITE_SOURCES:
        for node in tree.css(selector)[:_SITE_NODES]:
            value = node.attributes.get(attribute) if attribute else node.text(separator="\n")
            if value:
                pieces.append(value[:_SITE_CHARS])
    return "\n".join(" ".join(piece.split()) for piece in pieces)

"""A bound on how deeply a document's markup nests, checked before anything walks it.

Real minutes nest a few dozen elements at most (the deepest HTML, XML and DOCX of the corpus: under 30).
A field of 50,000 nested `<div>` is no meeting: the HTML parser takes quadratic time to build it (44 s for
50,000 levels) and a recursive walk of it raises RecursionError, which the pipeline took for a transient
failure and retried. So markup nested deeper than `MAX_DEPTH` is refused at once, by name, the same way in
every format: 512 levels is where browsers stop nesting too (Blink's parser caps its tree there).

HTML is measured on its text, before it is parsed: a scan of the tags that counts an element until its
end tag. Elements HTML closes by itself (`<p>`, `<li>`, table parts) and void ones (`<br>`, `<img>`) are
not counted, so sloppy real HTML never looks deep; script, style and comments are skipped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Final

from services.parser.core.errors import TooDeeplyNested

MAX_DEPTH: Final = 512
# Tags that cannot nest without end tags: under this many, no depth check is needed at all.
_CHEAP: Final = MAX_DEPTH
_TAG: Final = re.compile(
    r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)|<(/?)([A-Za-z][^\s/<>]*)[^<>]*?(/?)>", re.S | re.I
)
# Void elements (no end tag) and elements whose end tag HTML implies: counting them would make every page
# of unclosed `<p>`s look deep.
_NOT_COUNTED: Final = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup", "caption", "option",
    "optgroup", "rb", "rt", "rp", "html", "head", "body",
})


def check_markup(markup: str, what: str) -> None:
    """Refuse HTML nested deeper than MAX_DEPTH (`what`: `an HTML page`, `field Beslutning`)."""
    if markup.count("<") <= _CHEAP:
        return
    depth = deepest = 0
    for m in _TAG.finditer(markup):
        name = m.group(3)
        if name is None or m.group(4):  # a comment, script or style; or `<x/>`
            continue
        if name.casefold() in _NOT_COUNTED:
            continue
        if m.group(2):
            depth = max(depth - 1, 0)
        else:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    raise _refusal(what)


def check_tree(root: ET.Element, what: str) -> None:
    """Refuse an XML tree nested deeper than MAX_DEPTH; an explicit stack, so the check itself never recurses."""
    stack: list[tuple[ET.Element, int]] = [(root, 1)]
    while stack:
        element, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _refusal(what)
        stack.extend((child, depth + 1) for child in element)


def _refusal(what: str) -> TooDeeplyNested:
    return TooDeeplyNested(f"{what} nests its elements more than {MAX_DEPTH} levels deep: not a meeting document")

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
# Void elements (no end tag) and elements whose end tag HTML implies: counting them would make every page
# of unclosed `<p>`s look deep.
_NOT_COUNTED: Final = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
    "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "colgroup", "caption", "option",
    "optgroup", "rb", "rt", "rp", "html", "head", "body",
})
# Comments, scripts and styles hold no elements: removed before the tags are counted.
_NOISE: Final = re.compile(r"<!--.*?(?:-->|\Z)|<(script|style)\b.*?(?:</\1\s*>|\Z)", re.S | re.I)
_NOISE_START: Final = re.compile(r"<!--|<script|<style", re.I)
# A tag that counts: `(/)` for an end tag, `(/)` before `>` for a self-closed one (SVG's `<path …/>`).
# Tags that do not count are skipped by the pattern itself, so the loop below sees only the ones that do:
# 0.4 s for 5 MB of tag-dense HTML on the loaded 2-core machine, a tenth of reading it (`html_blocks`).
_TAG: Final = re.compile(
    r"<(/?)(?!(?:" + "|".join(sorted(_NOT_COUNTED, key=len, reverse=True)) + r")[\s/>])[A-Za-z][^\s/<>]*[^<>]*?(/?)>",
    re.I,
)


def check_markup(markup: str, what: str) -> None:
    """Refuse HTML nested deeper than MAX_DEPTH (`what`: `the HTML page`, `the field 'Beslutning'`)."""
    if markup.count("<") <= MAX_DEPTH:  # fewer tags than levels: cannot be too deep
        return
    if _NOISE_START.search(markup):
        markup = _NOISE.sub(" ", markup)
    depth = 0
    for closing, self_closed in _TAG.findall(markup):
        if self_closed:
            continue
        if closing:
            depth = depth - 1 if depth else 0
        else:
            depth += 1
            if depth > MAX_DEPTH:
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

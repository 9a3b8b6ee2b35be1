"""Where a `Bilag` list ends and which of its lines wrap the entry above.

eDoc PDFs print the attachment list as a section without a closing caption: what follows it
(`Beslutningen træffes af` / `Kommunalbestyrelsen`, the next sub-item's heading `c. …` of a
`Meddelelser` item) is read as more entries unless the list is cut there. A title too long for
the line goes on below it, in lower case (`… om det nære` / `sundhedsvæsen`) or after a word that
cannot end a title (`… vedrørende` / `Ældrerådets høringssvar`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from services.parser.core.patterns import COMMITTEE_WORD
from shared.contracts.meeting import AttachmentRef

# Who decides (eDoc: `Beslutningen træffes af`, others: `Sagen afgøres i`), the caption after the list.
_DECIDER: Final = re.compile(
    r"^(?:beslutningen\s+træffes\s+af|sagen\s+afgøres(?:\s+endeligt?)?\s+(?:i|af)|afgøres\s+af|"
    r"beslutningskompetence|kompetence)\b",
    re.I,
)
# `c. Konference om …`, `b) Orientering`: the sub-items of a `Meddelelser` item.
_SUB_ITEM: Final = re.compile(r"^[a-zæøå]\s?[.)]\s+\S")
_NAME_JOINERS: Final = frozenset({"og", "for", "i", "&", "-", "–"})
_NAME_WORDS: Final = 7
# Words a title does not end with: the next line goes on with it.
_UNFINISHED: Final = frozenset({
    "og", "eller", "for", "af", "til", "i", "på", "om", "med", "fra", "ved", "vedr.", "vedrørende", "mellem",
    "samt", "under", "efter", "over", "hos", "mod", "det", "den", "de", "en", "et", "-", "–",
})
_FILE_NAME: Final = re.compile(r"\.(?:pdf|docx?|xlsx?|pptx?|msg|txt|jpe?g|png|tiff?)\s*$", re.I)


def committee_line(line: str) -> bool:
    """`Social- og Sundhedsudvalget`, `Kommunalbestyrelsen`: a line that is only a body's name."""
    words = line.split()
    # `map(str.isdigit, …)`, not a generator expression: this runs on every line of an attachment list.
    if not words or len(words) > _NAME_WORDS or not line[:1].isupper() or any(map(str.isdigit, line)):
        return False
    shaped = all(w[:1].isupper() or w.casefold() in _NAME_JOINERS or w.endswith("-") for w in words)
    return shaped and COMMITTEE_WORD.search(line) is not None


def list_lines(lines: list[str]) -> list[str]:
    """The lines of an attachment section up to what follows the list (who decides, a body, a sub-item)."""
    lettered = bool(lines) and bool(_SUB_ITEM.match(lines[0]))  # a list numbered `a.`, `b.` is no sub-item
    for i, line in enumerate(lines):
        # A caption word is no end: attachments are often called `Indstilling` or `Sagsfremstilling`.
        if _DECIDER.match(line) or (not lettered and _SUB_ITEM.match(line)):
            return lines[:i]
        if i > 0 and committee_line(line):
            return lines[:i]
    return lines


def unfinished(text: str) -> bool:
    """Whether a title or entry stops on a word no title ends with (`… vedrørende`, `… fordelt på`)."""
    words = text.split()
    return bool(words) and words[-1].casefold() in _UNFINISHED


def join_unfinished(entries: list[str]) -> list[str]:
    """Join an entry that starts in lower case or follows an unfinished one to the entry above."""
    out: list[str] = []
    for entry in entries:
        # A file name (`aftale-om-løft.pdf`) is a whole entry, in lower case or not, and so is the one above it.
        whole = not out or bool(_FILE_NAME.search(out[-1])) or bool(_FILE_NAME.search(entry) and " " not in entry)
        if not whole and (entry[:1].islower() or unfinished(out[-1])):
            out[-1] = f"{out[-1]} {entry}"
        else:
            out.append(entry)
    return out


def attachment_refs(pairs: Iterable[tuple[str, str]]) -> tuple[AttachmentRef, ...]:
    """An item's (name, publisher's reference) pairs as its `attachment_refs`, `""` for no reference.

    The pairs are the item's `attachments` with their references, one each in the same order; none at all
    when no attachment has a reference (most formats give none: nothing to carry).
    """
    refs = tuple(AttachmentRef(name=name, ref=ref or None) for name, ref in pairs)
    return refs if any(r.ref for r in refs) else ()

"""The meeting page as minutes: which of an item's sections are shown, and which items are procedural.

The parser keeps every section as printed, so an item's sections repeat what the page already shows in
its own place: the decision (shown first, from the decision), the case number (in the item's line) and the
attachments (as their list). These rules drop or trim exactly those repeats and nothing else; they look at
section names and texts in general terms, never at a particular document.
"""

from __future__ import annotations

import re

from services.readmodel.results import ItemOut, SectionOut

# Agenda items every meeting has and nobody reads for a decision: folded on the page.
_PROCEDURAL = re.compile(
    r"^(?:godkendelse\s+af\s+(?:den\s+)?(?:dagsorden(?:en)?|referat(?:et)?|protokol(?:len)?)"
    r"|meddelelser|eventuelt|evt\.?|underskrift(?:er|sside)?|næste\s+møde)\b",
    re.I,
)
# A section that names the decision (`Beslutning`, `BESLUTNING`, `Beslutninger`, `Beslutning i …`).
_DECISION_NAME = re.compile(r"\bbeslutning", re.I)
# A section that lists the attachments (`Bilag`, `Bilagsliste`).
_ATTACHMENT_NAME = re.compile(r"^\s*bilag(?:sliste)?\s*:?\s*$", re.I)
# What is left of a case-number line once the number is taken out (`Sagsnr.: `, `Sag nr. `).
_CASE_LABEL = re.compile(r"^[\W_]*(?:sags?\.?\s*(?:nr|nummer)\.?|j\.?\s*nr\.?)?[\W_]*$", re.I)
_SPACES = re.compile(r"\s+")


def _flat(text: str | None) -> str:
    return _SPACES.sub(" ", text or "").strip()


def is_procedural(title: str) -> bool:
    """Whether an item is one of the meeting's formalities (approval of the agenda, announcements, …)."""
    return bool(_PROCEDURAL.match(title.strip()))


def shown_sections(item: ItemOut) -> list[SectionOut]:
    """The item's sections without what the page shows elsewhere: a section that is the decision, the case
    number line, the attachment list; a decision section that holds more than the decision keeps the rest."""
    decision = _flat(item.decision_text)
    case = _flat(item.case_number)
    names = [_flat(a) for a in item.attachments]
    out: list[SectionOut] = []
    for section in item.sections:
        text = _flat(section.text)
        if decision and text == decision:
            continue  # the decision itself, shown first
        if case and case in text and _CASE_LABEL.match(text.replace(case, "")):
            continue  # the case number line (`Sagsnr.: …`)
        if names and _ATTACHMENT_NAME.match(section.name) and all(n in text for n in names):
            continue  # the attachment list
        rest = text
        if case and rest.startswith(case):  # a section that opens with the case number line
            rest = rest[len(case) :].strip()
        if decision and decision in rest and (not section.name.strip() or _DECISION_NAME.search(section.name)):
            rest = _flat(rest.replace(decision, " "))  # the decision, with what else its section says
        if not rest:
            continue
        out.append(section if rest == text else SectionOut(name=section.name, text=rest))
    return out

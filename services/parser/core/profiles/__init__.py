"""Layout families as explicit profiles over the shared vocabulary of `patterns.py`.

A profile says how its items are headed (the item heading forms it accepts, in order of trust) and
what else its layout does (a case number printed before the heading). `items.find_items` runs one
profile; `profiles.generic.locate_items` runs the known families first and, when they find no items
or fewer than the document promises, the generic profile: every common numbered-heading form, weighed
by structure alone (typography, a case number next to the heading, the same section captions
repeated in every item). Adding a family is adding a `Profile` here, not code in the item finder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from services.parser.core.patterns import (
    BARE_NUMBER,
    COLON_ITEM,
    EXPLICIT_ITEM,
    GLUED_DOT_ITEM,
    GLUED_ITEM,
    NR_ITEM,
    NUMBERED_ITEM,
    SECTION_SIGN_ITEM,
    SPACED_ITEM,
)

EXPLICIT: Final = "explicit"


@dataclass(frozen=True, slots=True)
class ItemForm:
    """One way of printing an item heading: `family` names the candidate style it produces."""

    family: str
    pattern: re.Pattern[str]
    # Only a line starting with a digit can match (a cheap test before the regex runs).
    digit_first: bool = True


@dataclass(frozen=True, slots=True)
class Profile:
    """A layout family: its item heading forms and how much evidence an implicit heading needs."""

    name: str
    explicit: ItemForm | None  # the decisive `Punkt/Pkt./Sag N` prefix, tried first
    forms: tuple[ItemForm, ...]  # implicit forms, tried in order; the first that matches a line wins
    min_weight: float = 1.5  # evidence an implicit heading needs (a case number or a section heading)
    typography: bool = False  # weigh font size/boldness/heading markup as evidence of an item heading
    repetition: bool = False  # weigh the section captions an item shares with the others
    number_below: bool = False  # a title line with `Sag nr. N` alone under it heads item N
    # How the family is recognised: this many lines matching `cue` (None: it is always tried).
    cue: re.Pattern[str] | None = None
    min_cues: int = 2
    # The forms split by their first character, so a line tries only the forms it can match.
    digit_forms: tuple[ItemForm, ...] = field(init=False)
    letter_forms: tuple[ItemForm, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digit_forms", tuple(f for f in self.forms if f.digit_first))
        object.__setattr__(self, "letter_forms", tuple(f for f in self.forms if not f.digit_first))

    def claims(self, lines: list[str]) -> bool:
        """Whether the document shows this family's cue often enough."""
        if self.cue is None:
            return True
        seen = 0
        for line in lines:
            if self.cue.match(line):
                seen += 1
                if seen >= self.min_cues:
                    return True
        return False


_EXPLICIT_FORM: Final = ItemForm(EXPLICIT, EXPLICIT_ITEM, digit_first=False)

# The families of LAYOUTS.md: `Punkt N:`/`Pkt. N`/`Sag nr. N`, `N. Title (B)`, `38Title`, the number alone.
KNOWN: Final = Profile(
    name="known",
    explicit=_EXPLICIT_FORM,
    forms=(
        ItemForm("numbered", NUMBERED_ITEM),
        ItemForm("glued", GLUED_ITEM),
        ItemForm("bare", BARE_NUMBER),
    ),
)

# Agenda portal views (`?AgendaID=` pages): `1 : Title`, labels glued to their values. The spaced colon
# is printed for items only, so an item needs no more than a body under it.
PORTAL_COLON: Final = Profile(
    name="portal-colon",
    explicit=None,
    forms=(ItemForm("colon", COLON_ITEM),),
    min_weight=0.5,
    cue=COLON_ITEM,
)

# Families recognised by their cues, tried after the known ones and before the generic path.
CLAIMED: Final = (PORTAL_COLON,)

# Structure alone: every common numbered heading form, with typography and repetition as evidence.
GENERIC: Final = Profile(
    name="generic",
    explicit=_EXPLICIT_FORM,
    forms=(
        ItemForm("numbered", NUMBERED_ITEM),
        ItemForm("glued-dot", GLUED_DOT_ITEM),
        ItemForm("glued", GLUED_ITEM),
        ItemForm("bare", BARE_NUMBER),
        ItemForm("spaced", SPACED_ITEM),
        ItemForm("section-sign", SECTION_SIGN_ITEM, digit_first=False),
        ItemForm("nr", NR_ITEM, digit_first=False),
    ),
    typography=True,
    repetition=True,
    number_below=True,
)

__all__ = ["CLAIMED", "EXPLICIT", "GENERIC", "KNOWN", "PORTAL_COLON", "ItemForm", "Profile"]

"""What a cover prints without labels: the venue and address, the meeting heading over its date.

Also label and value columns printed one after the other (`Mødedato` / `Mødested` / `12-05-2022` / `Rådhuset`).
Every function gets the header's label test, so a labelled line is never read as a name or a place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from services.parser.core.dates import find_date, find_time, strip_dates
from services.parser.core.header_prose import venue_line
from services.parser.core.patterns import COMMITTEE_WORD, KIND_TITLE

# `8300 Odder`: a postcode and town ends an address block.
_POSTCODE: Final = re.compile(r"^\d{4}\s+[A-ZÆØÅ][^\W\d_]+(?:[ .-]+[A-ZÆØÅa-zæøå][^\W\d_]*){0,3}$")
_ADDRESS_LINES: Final = 3
_ADDRESS_MAX: Final = 80
_NAME_WORDS: Final = 6
_NAME_JOINERS: Final = frozenset({"og", "for", "i", "&"})
# The municipality and its offices print over a date too (`Borgmesterkontoret`, `Center for Økonomi`).
_MUNICIPAL: Final = re.compile(r"\b(?:kommune|region|center)\b|(?:kontor|kontoret|afdeling|afdelingen|sekretariat|"
                               r"sekretariatet|forvaltning|forvaltningen)\b", re.I)
_VENUE_NEAR: Final = 3  # an unlabelled venue line stands this close to the cover's date


def name_over_date(lines: list[str], is_label: Callable[[str], bool]) -> str | None:
    """`Forebyggelse og Idræt` / `Mandag den 30-04-2018 kl. 16:30`: a portal's meeting heading over its date.

    Only a line shaped as a name (capitalised words, `og`/`for` between them) right above a line that is
    nothing but the date and time; the municipality, a venue or the document kind are not the committee.
    """
    for i, line in enumerate(lines[1:], start=1):
        if len(line) > _ADDRESS_MAX or find_date(line) is None or strip_dates(line):
            continue
        name = lines[i - 1]
        words = name.split()
        shaped = 0 < len(words) <= _NAME_WORDS and name[:1].isupper() and all(
            w[:1].isupper() or w in _NAME_JOINERS or w.endswith("-") for w in words)
        if shaped and not any(ch.isdigit() for ch in name) and ":" not in name and not is_label(name) \
                and not KIND_TITLE.match(name) and not venue_line(name) and not _MUNICIPAL.search(name):
            return name
        return None
    return None


def venue_near_date(lines: list[str], is_label: Callable[[str], bool]) -> str | None:
    """An unlabelled line naming a room or building (`Byrådssalen, Rådhuset`) close to the cover's date."""
    dated = next((i for i, line in enumerate(lines) if len(line) < _ADDRESS_MAX and find_date(line)), None)
    if dated is None:
        return None
    for i in range(max(0, dated - _VENUE_NEAR), min(len(lines), dated + _VENUE_NEAR + 1)):
        line = lines[i]
        # `Byrådssalen` holds no committee word (no word boundary after `byråd`); `Byrådet` does.
        if i != dated and not is_label(line) and not KIND_TITLE.match(line) and venue_line(line) \
                and not COMMITTEE_WORD.search(line):
            return line
    return None


def address_block(lines: list[str], is_label: Callable[[str], bool]) -> str | None:
    """An unlabelled venue and address printed on the cover (`Strandhotellet` / `Havnevej 4` / `8300 Odder`).

    The block ends in a Danish postcode and town; the lines above it up to the date, time or title
    belong to it (at most a venue and two address lines).
    """
    for i, line in enumerate(lines):
        if not _POSTCODE.match(line):
            continue
        start = i
        while start > 0 and i - start < _ADDRESS_LINES and _address_line(lines[start - 1], is_label):
            start -= 1
        return ", ".join(lines[start : i + 1])
    return None


def _address_line(line: str, is_label: Callable[[str], bool]) -> bool:
    if len(line) > _ADDRESS_MAX or is_label(line) or find_date(line) or find_time(line):
        return False
    if KIND_TITLE.match(line) or COMMITTEE_WORD.search(line) or ":" in line:
        return False
    return line[:1].isupper() or line[:1].isdigit()


def pair_columns(lines: list[str], is_label: Callable[[str], bool]) -> list[str]:
    """Labels printed as one column and their values as the next (Acadre, eDoc covers), paired up.

    PDF text of a two-column block reads `Mødedato` / `Mødested` / `12-05-2022` / `Rådhuset`: two or
    more bare labels in a row, then as many lines that are no labels, are label/value pairs.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        run = 0
        while i + run < len(lines) and is_label(lines[i + run]):
            run += 1
        values = lines[i + run : i + 2 * run]
        if run >= 2 and len(values) == run and not any(is_label(v) or v.endswith(":") for v in values):
            out.extend(f"{label.rstrip(' :')}: {value}" for label, value in zip(lines[i : i + run], values,
                                                                                strict=True))
            i += 2 * run
            continue
        if run >= 3:
            # One value short (`Fraværende:` with nobody absent): the values stop at the next label or
            # caption (`Følgende sager behandles:`); the labels without a value are the last ones.
            short = values[: run - 1]
            after = lines[i + 2 * run - 1] if i + 2 * run - 1 < len(lines) else ""
            if len(short) == run - 1 and not any(is_label(v) or v.endswith(":") for v in short) \
                    and (is_label(after) or after.endswith(":") or not after):
                out.extend(f"{label.rstrip(' :')}: {value}" for label, value in zip(lines[i : i + run - 1], short,
                                                                                    strict=True))
                out.append(lines[i + run - 1])
                i += 2 * run - 1
                continue
        out.append(lines[i])
        i += 1
    return out

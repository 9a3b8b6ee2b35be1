"""Section headings inside an item (`Sagsfremstilling`, `Beslutning …`), and splitting an item by them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from services.parser.core.blocks import HEADING, PLAIN, Block, is_styled
from services.parser.core.dates import DATE, find_date, may_hold_date, parse_date, strip_dates
from services.parser.core.patterns import (
    ABSENT_LABEL,
    ATTACHMENTS,
    ATTENDANCE,
    COMMITTEE_WORD,
    DECISION,
    DECISION_HEADING,
    GENITIVE_DECISION_HEADING,
    INLINE_LABELS,
    OTHER,
    RECOMMENDATION,
    RECOMMENDATION_HEADING,
    RECOMMENDATION_SENTENCE,
    SECTION_NAMES,
)

_MAX_HEADING: Final = 220
_ABSENT_WORDS: Final = ("fraværende", "afbud", "ikke til stede", "fravær")
# Empty captions in a row before their values are printed (labels first, then values).
_LABELS_FIRST: Final = 3
# Styles are trusted when at least this many, and this share, of heading-like lines carry one.
_MIN_STYLED: Final = 2
_STYLED_SHARE: Final = 0.5
_MAX_STYLED_NAME: Final = 150
_MAX_STYLED_WORDS: Final = 12
_INLINE_PREFIXES: Final = tuple(label + " " for label in INLINE_LABELS)
# What may follow the date of a decision heading: a clock time, `pkt. 563`, then `:`.
_AFTER_DATE: Final = re.compile(
    r"\s*(?:,?\s*kl\.?\s*\d{1,2}(?:[.:]\d{2})?)?\s*(?:[,.]?\s*(?:pkt|punkt)\.?\s*\d{1,4})?\s*(?P<colon>[:.]?)\s*"
)
# A capitalised label glued to its value, the value starting with a capital or a digit (`BilagIngen bilag.`):
# the shortest lower-case run that a capital follows, checked against the section names.
# Only a label of one word is looked for (`Økonomiske konsekvenserIngen` is not): the test runs on
# every line, and a first word in lower case after its capital (almost every line) skips it at once.
_GLUED_LABEL: Final = re.compile(r"^(?P<label>[A-ZÆØÅ][a-zæøå]{2,30})(?=[A-ZÆØÅ0-9])")
_CHAIN_LEAD: Final = re.compile(r"^(?:beslutning(?:er)?\s+(?:(?:i|fra|på|af)\s+)?|behandlet\s+i\s+)", re.I)
_LEAD_DEN: Final = re.compile(r"(?:,|\s)\s*(?:den|d\.)?\s*$", re.I)
_ENDS_IN_BODY: Final = re.compile(
    r"(?:udvalg(?:et)?|byråd(?:et)?|kommunalbestyrelse(?:n)?|magistrat(?:en)?|borgerrepræsentation(?:en)?|"
    r"råd(?:et)?|bestyrelse(?:n)?|direktion(?:en)?|forum|nævn(?:et)?|komité(?:en)?|\))\s*$",
    re.I,
)


@dataclass(frozen=True)
class Heading:
    """A recognised section heading: its printed name, kind, and anything printed after it."""

    name: str
    kind: str
    inline: str = ""
    who: str | None = None
    date: dt.date | None = None


@dataclass
class RawSection:
    """A section while an item is being split: heading plus its lines."""

    heading: Heading
    lines: list[str] = field(default_factory=list)
    label: bool = False  # printed as a label (`Beslutning:`), which a transcript may print before its value


def classify_heading(line: str) -> Heading | None:
    """The section heading a line is, if it is one."""
    if len(line) > _MAX_HEADING or not line[:1].isalpha():
        return None
    return _classify_heading(line)


# Several passes classify the same lines (headings, furniture, item titles, decision ends), and captions
# recur in every item and document: half the calls on the real corpus repeat an earlier line. A pure
# function of the line, and `Heading` is frozen, so a bounded cache of short lines is safe.
@lru_cache(maxsize=4096)
def _classify_heading(line: str) -> Heading | None:
    if len(line) > _MAX_HEADING or not line[:1].isalpha():
        return None
    bare = line.rstrip(" :")
    key = bare.casefold()
    kind = SECTION_NAMES.get(key)
    if kind is not None:
        return Heading(bare, kind)
    name, colon, rest = line.partition(":")
    if colon and name.strip().casefold() in SECTION_NAMES and rest.strip():
        inline_kind = SECTION_NAMES[name.strip().casefold()]
        # `Fraværende: Ingen` is a line of attendance, not the start of a section.
        if inline_kind == ATTENDANCE:
            return None
        return Heading(name.strip(), inline_kind, rest.strip())
    first = key[0]
    if first in "afi" and line[-1] == ":" and key.startswith(_ABSENT_WORDS) and ABSENT_LABEL.match(line):
        # `Fraværende i Byrådet, 25. januar 2022:` with the names on the next line: attendance, not a decision.
        return Heading(bare, ATTENDANCE)
    # A label glued to its value has a capital inside its first word (`BeslutningGodkendt.`); almost
    # every other line has none there, so the regex runs only for the few that do.
    space = line.find(" ", 1, 48)
    word_tail = line[1:space] if space > 0 else line[1:48]
    glued = _GLUED_LABEL.match(line) if not word_tail.islower() and line[1:2].islower() else None
    if glued is not None:
        # `BeslutningGodkendt.`, `SagsfremstillingUdvalget besøger …`: a portal dropped the break after the label.
        label = glued.group("label")
        glued_kind = SECTION_NAMES.get(label.casefold())
        if glued_kind is not None and glued_kind != ATTENDANCE:
            return Heading(label, glued_kind, line[len(label) :].strip())
    if key.startswith(_INLINE_PREFIXES):  # one test for all labels first: this runs on every line
        for label in INLINE_LABELS:
            if key.startswith(label + " "):
                return Heading(line[: len(label)], SECTION_NAMES.get(label, OTHER), line[len(label) :].strip())
    if key.startswith(("beslutning", "afgørelse")):
        return _decision_heading(line)
    # Cheap substring tests first: these regexes run on every line of the document.
    m = GENITIVE_DECISION_HEADING.match(line) if "beslutning" in key else None
    if m and COMMITTEE_WORD.search(m.group("who")):
        date = find_date(m.group("meta"))
        return Heading(bare, DECISION, who=m.group("who")[:-1], date=date)
    if key.startswith("indstilling") and RECOMMENDATION_HEADING.match(line):
        return Heading(bare, RECOMMENDATION)
    # Spelled out, not `any(w in key for w in …)`: a generator per line costs more than the three tests.
    if ("indstiller" in key or "foreslår" in key or "anbefaler" in key) and RECOMMENDATION_SENTENCE.match(line):
        return Heading(bare, RECOMMENDATION)
    return None


def styled_headings(blocks: list[Block]) -> list[Heading | None]:
    """The section heading each block is, trusting the format's styles where it has them.

    In a PDF or HTML page whose headings are set apart by font or markup, a line that merely reads
    like a heading in body text (`Indstilling` as an entry of a `Bilag` list, `Beslutning:` inside a
    party's proposal) is body text. The styles are trusted only when most lines that read like
    headings carry a heading style: a portal that marks headings by other means is read as text.
    """
    headings = [classify_heading(b.text) for b in blocks]
    if not is_styled(blocks):
        return headings
    candidates = [b for b, h in zip(blocks, headings, strict=True) if h is not None]
    styled = sum(1 for b in candidates if b.style == HEADING)
    if styled < _MIN_STYLED or styled < _STYLED_SHARE * len(candidates):
        return headings
    out: list[Heading | None] = []
    for block, heading in zip(blocks, headings, strict=True):
        if block.style == PLAIN:
            heading = None
        elif heading is None and block.style == HEADING and _reads_as_name(block.text):
            # A heading by markup or font that no table names (`Borgmesterens Afdelings påtegning`).
            heading = Heading(block.text.rstrip(" :"), OTHER)
        out.append(heading)
    return out


def _reads_as_name(text: str) -> bool:
    """A short name, not a sentence: templates that print the decision itself in bold (`Godkendt.`) must
    not turn it into a heading."""
    return len(text) <= _MAX_STYLED_NAME and not text.endswith((".", "!", "?", ";", ",")) \
        and len(text.split()) <= _MAX_STYLED_WORDS


def _decision_heading(line: str) -> Heading | None:
    m = DECISION_HEADING.match(line)
    if m is None:
        return None
    meta = (m.group("meta") or "").strip()
    if not meta:
        return Heading(line.rstrip(" :"), DECISION)
    chain = chain_heading(line)
    if chain is not None:
        return chain
    # `Beslutning: Godkendt.` carries the decision itself after the colon.
    if ":" in (m.group("colon") or ""):
        return Heading(line[: m.start("meta")].rstrip(" :-–"), DECISION, inline=meta)
    # `Beslutning i Økonomiudvalget` (no date): a heading only when it names a committee, not a sentence.
    if COMMITTEE_WORD.search(meta) and len(meta.split()) <= 8 and not meta.endswith("."):
        return Heading(line.rstrip(" :"), DECISION, who=meta.rstrip(" :"))
    return None


def chain_heading(line: str) -> Heading | None:
    """A dated decision heading: `Arbejdsmarkedsudvalget, 4. oktober 2023:`, `Beslutning fra X, dato, pkt. 5:`."""
    # A line in lower case continues a wrapped sentence (`… har` / `vedtaget Magistratens indstilling af
    # 19. august 2025.`): never a heading, whatever date it holds.
    if len(line) > _MAX_HEADING or line[:1].islower() or not may_hold_date(line):
        return None
    for m in DATE.finditer(line):
        date = parse_date(m)
        if date is None:
            continue
        lead = line[: m.start()]
        if lead.casefold().startswith(_ABSENT_WORDS):
            return None  # `Fraværende i Byrådet, 25. januar 2022:` names who was away, not a decision
        is_decision = lead.casefold().startswith(("beslutning", "afgørelse"))
        who = _LEAD_DEN.sub("", _CHAIN_LEAD.sub("", lead)).strip(" ,-–")
        if who and (len(who.split()) > 10 or not COMMITTEE_WORD.search(who)):
            return None
        # Without `Beslutning`, the lead must be a body's name (`Økonomiudvalget, 12. maj 2022:`), not a
        # phrase that merely names one (`Magistratens indstilling af 19. august 2025.`).
        if who and not is_decision and not _ENDS_IN_BODY.search(who):
            return None
        after = _AFTER_DATE.match(line, m.end())
        colon = after is not None and after.group("colon") == ":"
        # A date alone before a colon dates an entry of the case's history (`18. september 2012: Sagen udsat`).
        if not who and not is_decision and not (colon and not lead.strip()):
            return None
        rest = line[after.end() :].strip() if after else line[m.end() :].strip()
        if rest and not colon:
            return None  # `Byrådet den 4. maj godkendte …` is a sentence, not a heading
        name = line[: after.end() if after else m.end()].rstrip(" :")
        return Heading(name, DECISION, inline=rest, who=who or None, date=date)
    return None


def split_sections(lines: list[str], headings: list[Heading | None]) -> tuple[list[str], list[RawSection]]:
    """The lines before the first heading, and the sections that follow, in printed order."""
    preamble: list[str] = []
    sections: list[RawSection] = []
    for line, heading in zip(lines, headings, strict=True):
        if heading is not None and not _is_recommendation_lead(heading, sections):
            section = RawSection(heading, label=line.endswith(":"))
            if heading.inline:
                section.lines.append(heading.inline)
            sections.append(section)
        elif sections:
            sections[-1].lines.append(line)
        else:
            preamble.append(line)
    return preamble, _labels_first(sections)


def _labels_first(sections: list[RawSection]) -> list[RawSection]:
    """`Sagsnr:` / `Sagsfremstilling:` / `Beslutning:` / value / value / value: a transcript that printed
    a row of labels first and their values after them. Three empty captions in a row, each printed as a
    label with its colon, and at least as many lines under the last are read as one value line per
    caption, the rest to the last one (two empty captions are common: an agenda's empty `Beslutning`
    before `Bilag`; and a template's empty headings carry no colon)."""
    out: list[RawSection] = []
    run: list[RawSection] = []
    for section in sections:
        run.append(section)
        if section.lines:
            if len(run) >= _LABELS_FIRST and len(section.lines) >= len(run) and all(
                    r.label and not r.heading.inline for r in run):
                values = section.lines
                for caption, value in zip(run[:-1], values, strict=False):
                    caption.lines.append(value)
                section.lines = values[len(run) - 1 :]
            out.extend(run)
            run = []
    out.extend(run)
    return out


def _is_recommendation_lead(heading: Heading, sections: list[RawSection]) -> bool:
    """`INDSTILLING` then `Direktøren … indstiller til Byrådet:` is one section, the sentence its text."""
    return (
        heading.kind == RECOMMENDATION
        and heading.name[:1].isupper()
        and " " in heading.name
        and bool(sections)
        and sections[-1].heading.kind == RECOMMENDATION
        and not sections[-1].lines
    )


def heading_committee(heading: Heading) -> str | None:
    """The committee a decision heading names, without date words."""
    if heading.who:
        return strip_dates(heading.who) or None
    return None


__all__ = ["ATTACHMENTS", "DECISION", "OTHER", "RECOMMENDATION", "Heading", "RawSection"]

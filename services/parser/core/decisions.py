"""Decisions: which decision text belongs to this meeting, its outcome and absent members (votes: `votes.py`)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

from services.parser.core.header import without_role
from services.parser.core.patterns import (
    ABSENT_LABEL,
    ABSENT_NOISE,
    ABSENT_SENTENCE,
    AMENDMENT,
    BODY_SUBJECT,
    DECISION,
    MAJORITY_LEAD,
    NOBODY,
    OUTCOME_PHRASES,
    PARTY_SUFFIX,
    POSITION,
    QUOTED,
    ROLE_WORDS,
    SUBSTITUTE,
    UNRELEASED,
    WEAK_OUTCOME_PHRASES,
)
from services.parser.core.sections import RawSection, chain_heading, classify_heading
from services.parser.core.votes import REMEMBERED_TEXT, read_votes
from shared.contracts.meeting import Outcome

# The vote grammar lives in `votes.py`; readers import it from here under its old name too.
parse_votes = read_votes

_NAME_SPLIT: Final = re.compile(r"\s*(?:,|;|\bog\b|\bsamt\b|\s[-–]\s)\s*")
_SENTENCE_SPLIT: Final = re.compile(r"(?<=[.:!?])\s+|\n")
# `BESLUTNINGSFORSLAG FRA DD`, `INDSTILLING FRA MAGISTRATSAFDELINGEN`: a sub-heading set in capitals.
_CAPS_HEADING: Final = re.compile(r"^[A-ZÆØÅ][A-ZÆØÅ\-]{2,}(?:\s+[A-ZÆØÅ0-9][A-ZÆØÅ0-9\-.,&/]*){1,12}$")
_MAX_SUBHEADING: Final = 120
_LETTER_LIST: Final = re.compile(r"^[A-ZÆØÅ]{1,2}$")
# Words that betray a sentence rather than a list of names.
_NOT_A_NAME: Final = re.compile(r"\b(?:var|er|blev|deltog|havde|har|mødte|udvalget|sagen|punktet)\b", re.I)


@dataclass
class DecisionBlock:
    """One decision in a (possibly chained) decision section: who took it, when, and its lines."""

    who: str | None
    date: dt.date | None
    lines: list[str] = field(default_factory=list)


def decision_blocks(sections: list[RawSection]) -> list[DecisionBlock]:
    """All decision blocks of an item, split at dated sub-headings, in printed order."""
    blocks: list[DecisionBlock] = []
    for section in sections:
        if section.heading.kind != DECISION:
            continue
        block = DecisionBlock(section.heading.who, section.heading.date)
        blocks.append(block)
        ended = False
        for line in section.lines:
            # A heading by its words or in capitals ends the decision, whatever its font (`BESLUTNINGSFORSLAG
            # FRA DD` / `Baggrund:`: a party's proposal printed under the decision is not part of it).
            if ended or (block.lines and _ends_decision(line)):
                ended = True
                continue
            sub = chain_heading(line) if len(line) < 200 else None
            if sub is not None:
                block = DecisionBlock(sub.who, sub.date)
                blocks.append(block)
                if sub.inline:
                    block.lines.append(sub.inline)
            else:
                block.lines.append(line)
    return blocks


def _ends_decision(line: str) -> bool:
    if len(line) > _MAX_SUBHEADING:
        return False
    if _CAPS_HEADING.match(line):
        return not has_outcome(line)  # `SAGEN UDSÆTTES.` in capitals is a decision, not a sub-heading
    heading = classify_heading(line)
    return heading is not None and heading.kind != DECISION and chain_heading(line) is None


def current_block(blocks: list[DecisionBlock], meeting_date: dt.date | None,
                  committee: str | None) -> DecisionBlock | None:
    """The block recording this meeting's decision; earlier meetings' decisions are case history."""
    filled = [b for b in blocks if decision_lines(b.lines)]
    if not filled:
        return None
    if meeting_date is not None:
        same_day = [b for b in filled if b.date == meeting_date]
        if same_day:
            return same_day[-1]
    plain = [b for b in filled if b.date is None and b.who is None]
    if plain:
        return plain[-1]
    if committee:
        key = committee.casefold()[:12]
        ours = [b for b in filled if b.date is None and b.who and b.who.casefold().startswith(key)]
        if ours:
            return ours[-1]
    # Every block is dated and none on this meeting's day: all are history (an agenda quoting them).
    if meeting_date is not None and all(b.date is not None for b in filled):
        return None
    return filled[-1]


def decision_lines(lines: list[str]) -> list[str]:
    """The lines of a decision that state it: attendance notes are kept apart."""
    return [ln for ln in lines if not is_attendance(ln)]


def is_attendance(line: str) -> bool:
    """Whether a line only records who was absent."""
    return bool(ABSENT_LABEL.match(line) or ABSENT_SENTENCE.match(line))


def classify_outcome(text: str) -> Outcome:
    """The outcome of a decision text (see `_classify_outcome`)."""
    return _remembered_outcome(text) if len(text) <= REMEMBERED_TEXT else _classify_outcome(text)


# Short decisions (`Godkendt.`, `Taget til efterretning.`) recur across the items of a document and across
# documents (half the short decisions of the real corpus repeat one): a pure function, read once.
@lru_cache(maxsize=1024)
def _remembered_outcome(text: str) -> Outcome:
    return _classify_outcome(text)


def _classify_outcome(text: str) -> Outcome:
    """The outcome of a decision text: the earliest known phrase wins, the longer one on a tie.

    Quoted proposals and sentences about amendments (`Ændringsforslaget blev forkastet …`) do not
    decide the item: they are read only when nothing else in the text states an outcome.
    """
    unquoted = QUOTED.sub(" ", text) if '"' in text or "“" in text or "»" in text or "„" in text else text
    sentences = [s for s in _SENTENCE_SPLIT.split(unquoted) if s.strip()]
    majority = [s for s in sentences if MAJORITY_LEAD.match(s.strip())]
    if majority:
        outcome = _earliest_outcome("\n".join(majority))
        if outcome is not None:
            return outcome
    body = "\n".join(s for s in sentences if not _is_position(s.strip()))
    main = _main_text(body)
    tried: set[str] = set()
    for candidate in (main, body, text):
        if candidate in tried:
            continue
        tried.add(candidate)
        outcome = _earliest_outcome(candidate)
        if outcome is not None and (candidate is not text or not _is_position(text.strip())):
            return outcome
    # Members' own positions never decide the item, even when nothing else states an outcome.
    return _earliest_outcome(body, WEAK_OUTCOME_PHRASES) or Outcome.OTHER


def is_unreleased(text: str) -> bool:
    """Whether a decision field only says the decision is withheld (`Beslutning ikke frigivet`, `Ikke
    offentlig`): the item then has no decision at all, not one of outcome `other`."""
    key = " ".join(text.split()).casefold().rstrip(" .:!")
    return bool(key) and len(key) < _MAX_SUBHEADING and UNRELEASED.match(key) is not None


def has_outcome(text: str) -> bool:
    """Whether a text states an outcome in words the outcome table knows."""
    return _earliest_outcome(text) is not None


def _is_position(sentence: str) -> bool:
    """A member's or group's own position (`X kunne ikke tiltræde indstillingen`), not the body's decision."""
    m = POSITION.match(sentence)
    if m is None:
        return False
    who = m.group("who")
    return "mindretal" in who.casefold() or BODY_SUBJECT.search(who) is None


def _main_text(text: str) -> str:
    if '"' in text or "“" in text or "»" in text or "„" in text:
        text = QUOTED.sub(" ", text)
    if AMENDMENT.search(text) is None:
        return text
    parts = _SENTENCE_SPLIT.split(text)
    return "\n".join(part for part in parts if AMENDMENT.search(part) is None)


def _earliest_outcome(text: str, table: tuple[tuple[re.Pattern[str], Outcome], ...] = OUTCOME_PHRASES,
                      ) -> Outcome | None:
    hits: list[tuple[int, int, Outcome]] = []
    for pattern, outcome in table:
        m = pattern.search(text)
        if m is not None:
            hits.append((m.start(), -(m.end() - m.start()), outcome))
    if not hits:
        return None
    hits.sort(key=lambda hit: hit[:2])  # stable: on a full tie the earlier table row wins
    start, _, outcome = hits[0]
    if outcome == Outcome.DISCUSSED and any(other == Outcome.POSTPONED for _, _, other in hits[1:]):
        # `drøftede sagen … besluttede herefter at udsætte sagens behandling`, `Drøftet. Sagen genoptages på
        # et senere møde`: the discussion ended in a postponement, wherever the text says so.
        return Outcome.POSTPONED
    if outcome == Outcome.DISCUSSED:
        # `Udvalget drøftede sagen og godkendte indstillingen`: what came of the discussion counts.
        end = min((i for i in (text.find(". ", start), text.find("\n", start)) if i != -1), default=len(text))
        for later, _, other in hits[1:]:
            if later < end and other not in (Outcome.DISCUSSED, Outcome.OTHER):
                return other
    return outcome


# The member a substitute stands in for: `… i stedet for X (F)`, `… som stedfortræder for X`.
_REPLACED: Final = re.compile(r"\b(?:i\s+stedet\s+for|stedfortræder\s+for|suppleant\s+for)\s+(?P<name>[A-ZÆØÅ].*)$")


# The routine first item of every meeting and the sentence that settles it, wherever in the minute it stands
# (`Dialogen blev taget til efterretning. … Dagsorden blev godkendt.`: the other sentences are side notes).
_AGENDA_ITEM: Final = re.compile(
    r"^(?:godkendelse\s+af\s+(?:den\s+)?dagsorden(?:en)?|dagsorden(?:en)?\s+godkendes)\b", re.I
)
_AGENDA_APPROVED: Final = re.compile(r"\bdagsorden(?:en)?\s+(?:blev\s+|er\s+)?godkendt\b", re.I)


def item_outcome(title: str, text: str) -> Outcome:
    """The outcome of an item's decision text; the agenda's approval item is approved when a sentence says so."""
    if _AGENDA_ITEM.match(title) and _AGENDA_APPROVED.search(text):
        return Outcome.APPROVED
    return classify_outcome(text)


def absent_names(lines: list[str]) -> list[str]:
    """Members recorded as absent in attendance lines (`Fraværende: …`, `X deltog ikke i …`)."""
    names: list[str] = []
    for line in lines:
        m = ABSENT_LABEL.match(line)
        if m is not None:
            names.extend(_names(m.group("names")))
            continue
        m = ABSENT_SENTENCE.match(line)
        if m is not None:
            names.extend(_names(m.group("names")))
    unique: dict[str, str] = {}
    for name in names:
        unique.setdefault(name.casefold(), name)
    return list(unique.values())


def _names(text: str) -> list[str]:
    text = text.strip().rstrip(".")
    if text.casefold() in NOBODY:
        return []
    out: list[str] = []
    # Segments that name substitutes (`Y (V) mødte som stedfortræder`) are not absentees.
    for segment in re.split(r"\s[-–]\s|;", text):
        if SUBSTITUTE.search(segment):
            # ... but the member they stand in for is absent: `Y (F) deltog i mødet i stedet for X (F)`.
            replaced = _REPLACED.search(segment)
            if replaced is None:
                continue
            segment = replaced.group("name")
        segment = ABSENT_NOISE.sub("", segment)
        for part in _NAME_SPLIT.split(segment):
            name = without_role(PARTY_SUFFIX.sub("", part).strip(" .:()"))
            if not name or name.casefold() in NOBODY or name.casefold() in ROLE_WORDS:
                continue
            if _NOT_A_NAME.search(name) or not name[0].isupper() or len(name) > 60:
                continue
            out.append(name)
    return out

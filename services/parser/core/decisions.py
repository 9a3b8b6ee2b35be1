"""Decisions: which decision text belongs to this meeting, its outcome, votes and absent members."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Final

from services.parser.core.header import without_role
from services.parser.core.patterns import (
    ABSENT_LABEL,
    ABSENT_NOISE,
    ABSENT_SENTENCE,
    AMENDMENT,
    BODY_SUBJECT,
    DECISION,
    MAJORITY,
    MAJORITY_LEAD,
    NOBODY,
    OUTCOME_PHRASES,
    PARTY_SUFFIX,
    POSITION,
    QUOTED,
    ROLE_WORDS,
    SUBSTITUTE,
    VOTE_COUNTS,
    VOTE_LINES,
    WEAK_OUTCOME_PHRASES,
)
from services.parser.core.sections import RawSection, chain_heading, classify_heading
from shared.contracts.meeting import Outcome, Votes

_NAME_SPLIT: Final = re.compile(r"\s*(?:,|;|\bog\b|\bsamt\b|\s[-–]\s)\s*")
_COUNT: Final = re.compile(r"\((\d{1,3})\)\s*$")
# `For stemte: 9 (A, B, C, F, O, V)`: the count first, the parties in brackets (Københavns Kommune).
_COUNT_FIRST: Final = re.compile(r"^(\d{1,3})\s*\(([^()]{1,160})\)\s*$")
_SENTENCE_SPLIT: Final = re.compile(r"(?<=[.:!?])\s+|\n")
_VOTE_LEAD: Final = 200
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
    if outcome == Outcome.DISCUSSED:
        # `Udvalget drøftede sagen og godkendte indstillingen`: what came of the discussion counts.
        end = min((i for i in (text.find(". ", start), text.find("\n", start)) if i != -1), default=len(text))
        for later, _, other in hits[1:]:
            if later < end and other not in (Outcome.DISCUSSED, Outcome.OTHER):
                return other
    return outcome


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
            continue
        segment = ABSENT_NOISE.sub("", segment)
        for part in _NAME_SPLIT.split(segment):
            name = without_role(PARTY_SUFFIX.sub("", part).strip(" .:()"))
            if not name or name.casefold() in NOBODY or name.casefold() in ROLE_WORDS:
                continue
            if _NOT_A_NAME.search(name) or not name[0].isupper() or len(name) > 60:
                continue
            out.append(name)
    return out


def parse_votes(text: str) -> Votes | None:
    """A recorded vote in a decision text, or None when nothing was counted.

    With several vote blocks (amendments first), the last block not introduced as a vote on an
    amendment is the vote on the item.
    """
    text = _main_vote_block(text)
    found: dict[str, tuple[tuple[str, ...], int | None]] = {}
    for side, pattern in VOTE_LINES:
        m = pattern.search(text)
        if m is not None:
            found[side] = _vote_list(m.group("who"))
    for m in MAJORITY.finditer(text):
        rest = m.group("rest").casefold()
        against = "imod" in rest or "forkast" in rest or "ikke" in rest
        side = "against" if against else "in_favour"
        found.setdefault(side, _vote_list(m.group("who")))
    for side, pattern in VOTE_COUNTS:
        m = pattern.search(text)
        if m is not None and side not in found:
            found[side] = ((), int(m.group(1)))
    if not found:
        return None
    empty: tuple[tuple[str, ...], int | None] = ((), None)
    return Votes(
        in_favour=found.get("in_favour", empty)[0],
        against=found.get("against", empty)[0],
        abstaining=found.get("abstaining", empty)[0],
        in_favour_count=found.get("in_favour", empty)[1],
        against_count=found.get("against", empty)[1],
        abstaining_count=found.get("abstaining", empty)[1],
    )


def _main_vote_block(text: str) -> str:
    starts = [m.start() for m in VOTE_LINES[0][1].finditer(text)]
    if len(starts) < 2:
        return text
    chosen = starts[-1]
    for start in reversed(starts):
        lead = text[max(0, start - _VOTE_LEAD) : start]
        intro = lead.rstrip().rsplit("\n", 1)[-1]
        if AMENDMENT.search(intro) is None:
            chosen = start
            break
    return text[chosen:]


def _vote_list(text: str) -> tuple[tuple[str, ...], int | None]:
    """`A, C og V (6)` -> (("A", "C", "V"), 6); `9 (A, B, C)` -> (("A", "B", "C"), 9)."""
    text = text.strip()
    m = _COUNT_FIRST.match(text)
    if m is not None:
        parts = tuple(p.strip(" .") for p in _NAME_SPLIT.split(m.group(2)) if p.strip(" ."))
        return parts, int(m.group(1))
    if text.casefold().rstrip(".") in NOBODY:
        return (), 0
    count: int | None = None
    m = _COUNT.search(text)
    if m is not None:
        count = int(m.group(1))
        text = text[: m.start()].strip()
    parts = tuple(p.strip(" .") for p in _NAME_SPLIT.split(text) if p.strip(" ."))
    if count is None and parts and all(p.isdigit() for p in parts):
        return (), int(parts[0])
    return parts, count

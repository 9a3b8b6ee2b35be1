"""Scoring parsed meetings against hand-made gold annotations: what `minutes eval` reports.

The gold format is the corpus's (`municipality`, `committee` and `location` as lists of accepted
values, `items` with `number`, accepted `title`s, `case_number`, `is_closed`, accepted `outcome`s
— `none` for no decision —, `decision_contains`, `absent`, `attachments_count`; optionally `kind`,
`partial` and item `votes`). The checks are exactly the corpus scorer's (`score_minutes.py`), in its
order and with its comparisons, so `minutes eval` and the official score never disagree; each failed
check keeps the gold and the parsed value so a user annotating a new layout sees at once what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Item checks and the gold key each compares with, in the scorer's order.
_ITEM_FIELDS = {"title": "title", "case_number": "case_number", "is_closed": "is_closed", "outcome": "outcome",
                "decision": "decision_contains", "absent": "absent", "attachments": "attachments_count"}
_SIDES = ("in_favour", "against", "abstaining", "reserved")
_PARENTHESIS_AT_END = re.compile(r"\s*\([^)]*\)\s*$")
_ONLY_PARTY = re.compile(r"\(?\s*([A-ZÆØÅ])\s*\)?(?:-gruppen)?")


@dataclass(frozen=True)
class Check:
    """One comparison: its name, whether it passed, and the two values when it did not."""

    name: str
    ok: bool
    gold: Any = None
    parsed: Any = None


@dataclass
class DocumentScore:
    """The checks of one document."""

    file: str
    checks: list[Check] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> int:
        return sum(1 for c in self.checks if c.ok)

    @property
    def share(self) -> float:
        return self.passed / len(self.checks) if self.checks else 0.0

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


def norm(value: Any) -> str | None:
    """Whitespace folded, a trailing full stop dropped, case folded (as the corpus scorer compares)."""
    if value is None:
        return None
    text = re.sub(r"\s+", " ", str(value)).strip()
    return text.rstrip(".").strip().casefold()


def norm_person(value: Any) -> str | None:
    """A member's name in a list of participants or absentees: a trailing `(A)` or role does not count."""
    if value is None:
        return None
    return norm(_PARENTHESIS_AT_END.sub("", str(value)))


def norm_voter(value: Any) -> str:
    """A member's name or party letter in a vote: `(Ø)`, `Ø-gruppen` are `ø`; `Name (UP)` is `name`."""
    text = re.sub(r"\s+", " ", str(value)).strip().strip(".,;:").strip()
    party = _ONLY_PARTY.fullmatch(text)
    if party:
        return party.group(1).casefold()
    return _PARENTHESIS_AT_END.sub("", text).casefold()


def _one_of(value: Any, accepted: list[Any]) -> bool:
    return norm(value) in {norm(a) for a in accepted}


def _persons(values: Any) -> set[str | None]:
    return {norm_person(v) for v in values or []}


def votes_match(parsed: dict[str, Any] | None, gold: dict[str, Any] | None) -> bool:
    """Gold `null`: no side may name anyone. Otherwise each side the gold lists is the same set of voters,
    and each count the gold gives is equal."""
    if gold is None:
        return not parsed or not any(parsed.get(side) for side in _SIDES)
    parsed = parsed or {}
    for side in _SIDES:
        if side in gold and {norm_voter(v) for v in parsed.get(side) or []} != {norm_voter(v) for v in gold[side]}:
            return False
        count = f"{side}_count"
        if gold.get(count) is not None and parsed.get(count) != gold[count]:
            return False
    return True


def score_document(gold: dict[str, Any], parsed: dict[str, Any], error: str | None = None) -> DocumentScore:
    """Every check of one gold annotation against a parsed meeting (`ParsedMeeting` as JSON data).

    A `partial` gold lists only some items and some header fields: no `no extra items` check, and a
    field absent from it is not checked.
    """
    score = DocumentScore(gold.get("file", "?"), error=error)
    add = score.checks.append
    partial = bool(gold.get("partial"))
    if "kind" in gold:
        add(Check("kind", parsed.get("kind") == gold["kind"], gold["kind"], parsed.get("kind")))
    for key in ("municipality", "committee", "meeting_date", "start_time", "location"):
        if partial and key not in gold:
            continue
        if key in ("meeting_date", "start_time"):
            add(Check(key, parsed.get(key) == gold[key], gold[key], parsed.get(key)))
        else:
            add(Check(key, _one_of(parsed.get(key), gold[key]), gold[key], parsed.get(key)))
    if not partial or "participants" in gold:
        add(Check("participants", _persons(parsed.get("participants")) == _persons(gold["participants"]),
                  sorted(gold["participants"]), sorted(parsed.get("participants") or [])))
    items: dict[int, dict[str, Any]] = {}
    for item in parsed.get("items") or []:
        try:
            items.setdefault(int(item.get("number")), item)
        except (TypeError, ValueError):
            continue
    if not partial:
        extra = sorted(set(items) - {g["number"] for g in gold["items"]})
        add(Check("no extra items", not extra, [], extra))
    for g in gold["items"]:
        _score_item(score, g, items.get(g["number"]), partial)
    return score


def _score_item(score: DocumentScore, g: dict[str, Any], p: dict[str, Any] | None, partial: bool) -> None:
    n = g["number"]
    add = score.checks.append
    title = g.get("title") or []
    add(Check(f"item {n} found", p is not None, title[0] if title else n, None))
    if p is None:
        # A missing item fails each of its fields too, so a document's share counts what was lost. As in the
        # scorer, a partial gold's missing item fails the fields named by their check (`title`, `votes`, ...).
        for name, key in (*_ITEM_FIELDS.items(), ("votes", "votes")):
            if name in g or (not partial and name != "votes"):
                add(Check(f"item {n} {name}", False, g.get(key), None))
        return
    if "votes" in g:
        add(Check(f"item {n} votes", votes_match(p.get("votes"), g["votes"]), g["votes"], p.get("votes")))
    if not partial or "title" in g:
        add(Check(f"item {n} title", _one_of(p.get("title"), g["title"]), g["title"], p.get("title")))
    if not partial or "case_number" in g:
        add(Check(f"item {n} case_number", norm(p.get("case_number")) == norm(g["case_number"]),
                  g["case_number"], p.get("case_number")))
    if not partial or "is_closed" in g:
        add(Check(f"item {n} is_closed", bool(p.get("is_closed")) == g["is_closed"], g["is_closed"],
                  p.get("is_closed")))
    decision = p.get("decision") or {}
    outcome = decision.get("outcome") or "none"
    if not partial or "outcome" in g:
        add(Check(f"item {n} outcome", outcome in g["outcome"], g["outcome"], outcome))
    if not partial or "decision_contains" in g:
        contains = g.get("decision_contains")
        text = decision.get("text")
        ok = not contains or (norm(contains) or "") in (norm(text) or "")
        add(Check(f"item {n} decision", ok, contains, text))
    if not partial or "absent" in g:
        add(Check(f"item {n} absent", _persons(p.get("absent")) == _persons(g["absent"]), sorted(g["absent"]),
                  sorted(p.get("absent") or [])))
    if not partial or "attachments_count" in g:
        attachments = p.get("attachments") or []
        add(Check(f"item {n} attachments", len(attachments) == g["attachments_count"], g["attachments_count"],
                  len(attachments)))


def total(scores: list[DocumentScore]) -> tuple[int, int]:
    """(passed, checks) over several documents."""
    return sum(s.passed for s in scores), sum(len(s.checks) for s in scores)

"""Scoring parsed meetings against hand-made gold annotations: what `minutes eval` reports.

The gold format is the corpus's (`municipality`, `committee` and `location` as lists of accepted
values, `items` with `number`, accepted `title`s, `case_number`, `is_closed`, accepted `outcome`s
— `none` for no decision —, `decision_contains`, `absent`, `attachments_count`). Every gold field
is one check, as in the corpus's scorer; each failed check keeps the gold and the parsed value so a
user annotating a new layout sees at once what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# Item checks and the gold key each compares with.
_ITEM_FIELDS = {"title": "title", "case_number": "case_number", "is_closed": "is_closed", "outcome": "outcome",
                "decision": "decision_contains", "absent": "absent", "attachments": "attachments_count"}


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


def _one_of(value: Any, accepted: list[Any]) -> bool:
    return norm(value) in {norm(a) for a in accepted}


def _names(values: Any) -> set[str | None]:
    return {norm(v) for v in values or []}


def score_document(gold: dict[str, Any], parsed: dict[str, Any], error: str | None = None) -> DocumentScore:
    """Every check of one gold annotation against a parsed meeting (`ParsedMeeting` as JSON data)."""
    score = DocumentScore(gold.get("file", "?"), error=error)
    add = score.checks.append
    for key in ("municipality", "committee", "location"):
        add(Check(key, _one_of(parsed.get(key), gold[key]), gold[key], parsed.get(key)))
    for key in ("meeting_date", "start_time"):
        add(Check(key, parsed.get(key) == gold[key], gold[key], parsed.get(key)))
    add(Check("participants", _names(parsed.get("participants")) == _names(gold["participants"]),
              sorted(gold["participants"]), sorted(parsed.get("participants") or [])))
    items: dict[int, dict[str, Any]] = {}
    for item in parsed.get("items") or []:
        try:
            items.setdefault(int(item.get("number")), item)
        except (TypeError, ValueError):
            continue
    wanted = {g["number"] for g in gold["items"]}
    extra = sorted(set(items) - wanted)
    add(Check("no extra items", not extra, [], extra))
    for g in gold["items"]:
        _score_item(score, g, items.get(g["number"]))
    return score


def _score_item(score: DocumentScore, g: dict[str, Any], p: dict[str, Any] | None) -> None:
    n = g["number"]
    add = score.checks.append
    add(Check(f"item {n} found", p is not None, g["title"][0] if g["title"] else n, None))
    if p is None:
        # A missing item fails each of its fields too, so a document's share counts what was lost.
        for name, key in _ITEM_FIELDS.items():
            add(Check(f"item {n} {name}", False, g.get(key), None))
        return
    add(Check(f"item {n} title", _one_of(p.get("title"), g["title"]), g["title"], p.get("title")))
    add(Check(f"item {n} case_number", norm(p.get("case_number")) == norm(g["case_number"]),
              g["case_number"], p.get("case_number")))
    add(Check(f"item {n} is_closed", bool(p.get("is_closed")) == g["is_closed"], g["is_closed"], p.get("is_closed")))
    decision = p.get("decision") or {}
    outcome = decision.get("outcome") or "none"
    add(Check(f"item {n} outcome", outcome in g["outcome"], g["outcome"], outcome))
    contains = g.get("decision_contains")
    text = decision.get("text")
    ok = not contains or (norm(contains) or "") in (norm(text) or "")
    add(Check(f"item {n} decision", ok, contains, text))
    add(Check(f"item {n} absent", _names(p.get("absent")) == _names(g["absent"]), sorted(g["absent"]),
              sorted(p.get("absent") or [])))
    attachments = p.get("attachments") or []
    add(Check(f"item {n} attachments", len(attachments) == g["attachments_count"], g["attachments_count"],
              len(attachments)))


def total(scores: list[DocumentScore]) -> tuple[int, int]:
    """(passed, checks) over several documents."""
    return sum(s.passed for s in scores), sum(len(s.checks) for s in scores)

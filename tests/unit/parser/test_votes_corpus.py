"""Votes on real documents, scored with the corpus scorer (`tests/fixtures/score_minutes.py`).

The Greve portal meetings carry hand-made vote gold (`portal/greve/gold-votes`, with its NOTES.md), and the two
Aarhus referat files in `real/gold` a `votes` key per item. Only the vote checks are counted here: the other
fields have their own tests.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.parser.core import parse_document
from tests.unit.parser.scoring import SCORER

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"
GREVE = CORPUS / "portal" / "greve"
GREVE_GOLD = sorted((GREVE / "gold-votes").glob("*.json"))
AARHUS = ("aarhus-byraad-2025-08-27-referat", "aarhus-teknisk-udvalg-2025-10-01-referat")


def _vote_checks(gold: dict[str, Any], doc: Path) -> list[tuple[str, bool]]:
    parsed = parse_document(doc.read_bytes(), doc.name).model_dump(mode="json")
    return [(name, ok) for name, ok in SCORER.score_doc(gold, parsed) if name.endswith(" votes")]


def test_the_greve_vote_gold_is_all_here() -> None:
    assert len(GREVE_GOLD) == 22
    for path in GREVE_GOLD:
        assert (GREVE / "dagsorden" / json.loads(path.read_text(encoding="utf-8"))["file"]).is_file()


def test_greve_votes_reach_the_bar() -> None:
    checks: list[tuple[str, bool]] = []
    for path in GREVE_GOLD:
        gold = json.loads(path.read_text(encoding="utf-8"))
        checks.extend((f"{path.stem[:8]} {name}", ok)
                      for name, ok in _vote_checks(gold, GREVE / "dagsorden" / gold["file"]))
    assert len(checks) == 117  # 73 items with votes and 44 plain decisions that must have none
    failed = [name for name, ok in checks if not ok]
    assert 1 - len(failed) / len(checks) >= 0.95, failed


@pytest.mark.parametrize("name", AARHUS)
def test_aarhus_votes_are_this_meetings_only(name: str) -> None:
    """Party groups in the genitive, `kunne (ikke) tiltræde`, `tog forbehold`; `Sagsforløb` is not read."""
    gold = json.loads((CORPUS / "real" / "gold" / f"{name}.json").read_text(encoding="utf-8"))
    doc = next((CORPUS / "real" / "docs").glob(f"{name}.*"))
    checks = _vote_checks(gold, doc)
    assert len(checks) == len(gold["items"])
    assert [name for name, ok in checks if not ok] == []


def test_meetings_without_vote_gold_record_no_votes() -> None:
    """The portal meetings with no gold file have no vote or position at all (gold NOTES): attendance lines
    (`Afbud fra …`) and a whole committee declining to take a position are no votes."""
    with_gold = {json.loads(p.read_text(encoding="utf-8"))["file"] for p in GREVE_GOLD}
    others = [p for p in sorted((GREVE / "dagsorden").glob("*.json")) if p.name not in with_gold]
    assert len(others) == 18
    voted = [(p.stem[:8], item.number) for p in others
             for item in parse_document(p.read_bytes(), p.name).items if item.votes is not None]
    assert voted == []

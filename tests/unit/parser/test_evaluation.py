"""`minutes eval` counts check by check as the corpus scorer: partial golds (the excerpts) and vote golds (Greve).

The corpus scorer (`tests/fixtures/score_minutes.py`) is the official score; `evaluation.py` keeps the gold
and parsed value of each check for the user. Here both score the same predictions — the parser's actual
output, an empty prediction (what a refused document is scored as), and a prediction with every vote
turned around — and must agree on every check, in order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.parser.core import DocumentError, parse_document
from services.parser.evaluation import norm_person, norm_voter, score_document, votes_match
from tests.unit.parser.scoring import SCORER

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"
SETS = [
    (CORPUS / "excerpts" / "gold", CORPUS / "excerpts" / "docs"),
    (CORPUS / "portal" / "greve" / "gold-votes", CORPUS / "portal" / "greve" / "dagsorden"),
]
CASES = [(gold, docs) for gold_dir, docs in SETS for gold in sorted(gold_dir.glob("*.json"))]


def _parsed(gold: dict[str, Any], docs: Path) -> dict[str, Any]:
    doc = docs / gold["file"]
    try:
        return parse_document(doc.read_bytes(), doc.name).model_dump(mode="json")
    except DocumentError:
        return {}


def _turned(parsed: dict[str, Any]) -> dict[str, Any]:
    """Every vote with its sides swapped and names given a party suffix, and every count off by one."""
    items = []
    for item in parsed.get("items") or []:
        votes = item.get("votes") or {"in_favour": ["A"]}
        turned = {"in_favour": [f"{v} (X)" for v in votes.get("against") or []],
                  "against": votes.get("in_favour") or [], "abstaining": votes.get("reserved") or [],
                  "reserved": votes.get("abstaining") or [],
                  "in_favour_count": (votes.get("in_favour_count") or 0) + 1}
        items.append({**item, "votes": turned})
    return {**parsed, "items": items}


@pytest.mark.parametrize(("gold_path", "docs"), CASES, ids=[f"{g.parent.name}/{g.stem}" for g, _ in CASES])
def test_the_same_checks_as_the_corpus_scorer(gold_path: Path, docs: Path) -> None:
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    parsed = _parsed(gold, docs)
    for prediction in (parsed, {}, _turned(parsed)):
        reference = [ok for _, ok in SCORER.score_doc(gold, prediction)]
        assert [c.ok for c in score_document(gold, prediction).checks] == reference


def test_the_vote_gold_is_really_checked() -> None:
    """The Greve vote golds hold votes, both recorded and `null`: the comparison above covers both ways."""
    golds = [json.loads(p.read_text(encoding="utf-8")) for p, _ in CASES if p.parent.name == "gold-votes"]
    votes = [item["votes"] for gold in golds for item in gold["items"] if "votes" in item]
    assert any(v is None for v in votes) and any(v for v in votes)
    assert all(gold.get("partial") for gold in golds)


def test_a_partial_gold_checks_only_what_it_lists() -> None:
    gold = {"file": "x", "partial": True, "kind": "minutes", "meeting_date": "2024-01-02",
            "items": [{"number": 3, "votes": {"against": ["Ø"], "against_count": 1}}]}
    parsed = {"kind": "agenda", "meeting_date": "2024-01-02", "committee": "Anything",
              "items": [{"number": 3, "votes": {"against": ["Ø-gruppen"], "against_count": 1}}, {"number": 9}]}
    checks = score_document(gold, parsed).checks
    assert [(c.name, c.ok) for c in checks] == [
        ("kind", False), ("meeting_date", True), ("item 3 found", True), ("item 3 votes", True)]


def test_names_compare_without_a_party_suffix() -> None:
    assert norm_person("Claus  Grimm (A)") == "claus grimm"
    assert norm_voter("(Ø)") == norm_voter("Ø-gruppen") == norm_voter("Ø.") == "ø"
    assert norm_voter("Liselott Blixt (UP)") == "liselott blixt"
    assert votes_match({"reserved": ["F"], "reserved_count": 1}, {"reserved": ["(F)"], "reserved_count": 1})
    assert not votes_match({"reserved": ["F"]}, {"reserved": ["F"], "reserved_count": 2})
    assert not votes_match({"abstaining": ["V"]}, None)

"""Hand-written documents imitating agenda systems and municipalities the seeds do not cover.

Each `families/<name>.json` is a gold annotation in the scorer's format, written by hand from the
text of `families/<name>.txt|.html` (plus optional `kind` and per-item `votes`). Every check of the
copied scorer must pass: these families are what the parser meets beyond the seeds.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.parser.core import parse_document
from tests.unit.parser.scoring import SCORER

HERE = Path(__file__).resolve().parent
FAMILIES = HERE / "families"
GOLDS = sorted(FAMILIES.glob("*.json"))


SCORE = SCORER


def _parse(gold: dict[str, Any]) -> dict[str, Any]:
    path = FAMILIES / gold["file"]
    meeting = parse_document(path.read_bytes(), path.name)
    return meeting.model_dump(mode="json")


def test_there_are_enough_families() -> None:
    assert len(GOLDS) >= 8
    for gold_path in GOLDS:
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        assert (FAMILIES / gold["file"]).is_file(), gold_path.name


@pytest.mark.parametrize("gold_path", GOLDS, ids=[p.stem for p in GOLDS])
def test_family_scores_every_check(gold_path: Path) -> None:
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    pred = _parse(gold)
    checks = SCORE.score_doc(gold, pred)
    failed = [name for name, ok in checks if not ok]
    assert not failed, f"{gold['file']}: {len(failed)}/{len(checks)} checks failed: {failed}"
    if "kind" in gold:
        assert pred["kind"] == gold["kind"]


def _has_votes(path: Path) -> bool:
    return any("votes" in item for item in json.loads(path.read_text(encoding="utf-8"))["items"])


VOTED = [p for p in GOLDS if _has_votes(p)]


def test_several_families_record_votes() -> None:
    assert len(VOTED) >= 3


@pytest.mark.parametrize("gold_path", VOTED, ids=[p.stem for p in VOTED])
def test_family_votes(gold_path: Path) -> None:
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    expected = {g["number"]: g["votes"] for g in gold["items"] if "votes" in g}
    items = {item["number"]: item for item in _parse(gold)["items"]}
    for number, votes in expected.items():
        got = items[number]["votes"]
        assert got is not None, f"item {number}: no votes found"
        for key, value in votes.items():
            want = tuple(value) if isinstance(value, list) else value
            have = tuple(got[key]) if isinstance(got[key], list) else got[key]
            assert have == want, f"item {number} {key}: {have!r} != {want!r}"

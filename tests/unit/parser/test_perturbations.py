"""The parser on perturbed excerpts and family fixtures (`perturb.py`): other cut points, names, dates, numbers,
case numbers, label synonyms and site chrome, with the gold derived from the original gold, never from the parser.

The floors sit just under the level reached on the branch `robust` (seeds 0 and 7: every excerpt variant check and
all but a few of the family fixtures' pass; 1.000 on the seeds 11-13 never looked at while fixing). Before its parser
fixes the same harness scored 0.95 on the excerpt variants and 0.985 overall and refused 15 variants, so a
regression to that level fails here. The harness's kinds were also the ones the fixes were made for: a new seed is
a new sample of the same perturbations, not a held-out family.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import defaultdict

import pytest

from tests.unit.parser import perturb

_EXCERPT_FLOOR = 0.99
_OVERALL_FLOOR = 0.99
_KIND_FLOOR = 0.97


def _thisted() -> tuple[str, dict]:  # type: ignore[type-arg]
    gold_path = perturb.EXCERPTS / "gold" / "thisted-kommunalbestyrelsen-2022-01-25.json"
    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    return (perturb.EXCERPTS / "docs" / gold["file"]).read_text(encoding="utf-8"), gold


def test_a_cut_keeps_only_what_is_visible() -> None:
    text, gold = _thisted()
    # the second title recurs (case-folded) in its case text: visible only after its last occurrence
    title = "bestyrelsen for friends of cold hawaii"
    after_second = text.casefold().rindex(title) + len(title)
    kept = perturb.cut_gold(text, text[:after_second], gold)
    assert len(perturb.cut_gold(text, text[: after_second - 1], gold)["items"]) == 1
    first, second = kept["items"]
    assert first["outcome"] == ["approved"] and first["absent"]  # its next item is visible: it is complete
    assert set(second) == {"number", "title"}
    before_second = text.index("2. Bestyrelsen")
    kept = perturb.cut_gold(text, text[:before_second], gold)
    assert [set(i) for i in kept["items"]] == [{"number", "title"}]  # its end is unknown now
    early = perturb.cut_gold(text, text[:200], gold)
    assert early["items"] == [] and "meeting_date" in early and "municipality" not in early


def test_a_date_swap_changes_the_text_and_the_gold_alike() -> None:
    text, gold = _thisted()
    swapped = perturb.swap_date(text, gold, random.Random(3))
    assert swapped is not None
    new_text, new_gold = swapped
    new = dt.date.fromisoformat(new_gold["meeting_date"])
    assert new != dt.date(2022, 1, 25) and new.weekday() == dt.date(2022, 1, 25).weekday()
    assert "25. januar 2022" not in new_text and f"{new.day}. " in new_text


@pytest.mark.parametrize("seed", [0, 7])
def test_the_variants_reach_the_floor(seed: int) -> None:
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    excerpt = [0, 0]
    refused: list[str] = []
    for variant in perturb.variants(seed):
        checks = perturb.score(variant)
        ok = sum(passed for _, passed in checks)
        if not ok and checks:
            refused.append(f"{variant.kind} {variant.base}")
        for acc in (by_kind[variant.kind], *([excerpt] if not variant.base.startswith("fam:") else [])):
            acc[0] += ok
            acc[1] += len(checks)
    total = [sum(v[0] for v in by_kind.values()), sum(v[1] for v in by_kind.values())]
    assert not refused, refused
    assert excerpt[0] / excerpt[1] >= _EXCERPT_FLOOR
    assert total[0] / total[1] >= _OVERALL_FLOOR
    low = {k: round(ok / n, 3) for k, (ok, n) in by_kind.items() if ok / n < _KIND_FLOOR}
    assert not low, low

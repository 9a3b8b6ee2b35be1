"""The real corpus, parsed from the original files as published, scored by the corpus's own scorer.

Each document of `tests/fixtures/corpus/real/` (a copy of the shared corpus: PDF, portal HTML, portal
JSON, SBSYS XML) must reach 0.95 of its gold checks and the corpus 0.97 overall; agendas must carry
no decision at all. `evaluation.py` (what `minutes eval` reports) must count exactly as the corpus
scorer does: two implementations, one verdict.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.parser.core import DocumentError, NotMinutes, parse_document
from services.parser.evaluation import score_document
from shared.contracts.meeting import DocumentKind
from tests.unit.parser.scoring import SCORER

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REAL = FIXTURES / "corpus" / "real"
GOLDS = sorted((REAL / "gold").glob("*.json"))




def _gold(path: Path) -> dict[str, Any]:
    gold: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return gold


def _parsed(gold: dict[str, Any]) -> dict[str, Any]:
    doc = REAL / "docs" / gold["file"]
    return parse_document(doc.read_bytes(), doc.name).model_dump(mode="json")





def test_the_corpus_is_all_here() -> None:
    assert len(GOLDS) == 10
    for path in GOLDS:
        assert (REAL / "docs" / _gold(path)["file"]).is_file(), path.name


@pytest.mark.parametrize("gold_path", GOLDS, ids=[p.stem for p in GOLDS])
def test_document_reaches_its_bar(gold_path: Path) -> None:
    gold = _gold(gold_path)
    checks = SCORER.score_doc(gold, _parsed(gold))
    failed = [name for name, ok in checks if not ok]
    share = 1 - len(failed) / len(checks)
    assert share >= 0.95, f"{gold['file']}: {share:.3f}, failed: {failed}"


def test_the_corpus_reaches_its_bar_overall() -> None:
    passed = total = 0
    for path in GOLDS:
        gold = _gold(path)
        checks = SCORER.score_doc(gold, _parsed(gold))
        passed += sum(1 for _, ok in checks if ok)
        total += len(checks)
    assert passed / total >= 0.97, f"{passed}/{total}"


@pytest.mark.parametrize("gold_path", GOLDS, ids=[p.stem for p in GOLDS])
def test_agendas_announce_no_decision_and_minutes_are_minutes(gold_path: Path) -> None:
    gold = _gold(gold_path)
    meeting = parse_document((REAL / "docs" / gold["file"]).read_bytes())
    is_agenda = all(item["outcome"] == ["none"] for item in gold["items"])
    if is_agenda:
        assert meeting.kind is DocumentKind.AGENDA
        assert meeting.decisions == []
    else:
        assert meeting.kind is DocumentKind.MINUTES


@pytest.mark.parametrize("gold_path", GOLDS, ids=[p.stem for p in GOLDS])
def test_evaluation_counts_as_the_corpus_scorer(gold_path: Path) -> None:
    gold = _gold(gold_path)
    try:
        parsed = _parsed(gold)
    except DocumentError:
        parsed = {}  # a refused document is scored as the scorer scores a command without output
    reference = SCORER.score_doc(gold, parsed)
    ours = score_document(gold, parsed)
    assert [ok for _, ok in reference] == [c.ok for c in ours.checks]
    # And on a prediction that is wrong everywhere: an empty one.
    assert sum(ok for _, ok in SCORER.score_doc(gold, {})) == score_document(gold, {}).passed


def test_the_1942_protocol_is_refused_with_a_clear_reason() -> None:
    """A scanned parish-council protocol with a transcription layer: no items to invent, so it is refused."""
    data = (REAL / "docs" / "elev-sogneraad-1942-forhandlingsprotokol-historisk.pdf").read_bytes()
    with pytest.raises(NotMinutes, match="no agenda items and no meeting header"):
        parse_document(data)


def test_case_history_is_kept_apart_from_this_meetings_decision() -> None:
    """Aarhus Byråd: `Sagsforløb` entries (body, date, text) are history; the `Beslutninger` block is the decision."""
    doc = REAL / "docs" / "aarhus-byraad-2025-08-27-referat.pdf"
    meeting = parse_document(doc.read_bytes())
    item = next(i for i in meeting.items if i.number == 2)
    assert item.decision is not None
    assert item.decision.text.startswith("Fremsendes til Teknisk Udvalg til behandling")
    bodies = [(h.body, h.date.isoformat() if h.date else None) for h in item.history]
    assert ("Magistraten", "2025-08-19") in bodies
    assert all(h.date is None or h.date < meeting.meeting_date for h in item.history)  # type: ignore[operator]
    # The earlier meeting's absentee is in the history, not absent from this meeting.
    assert any("deltog ikke" in h.text for h in item.history)
    assert item.absent == ()
    assert item.page == 4


# Every real document with gold items (the refused 1942 protocol has none to have pages).
_WITH_ITEMS = sorted(
    REAL / "docs" / json.loads(g.read_text(encoding="utf-8"))["file"]
    for g in (REAL / "gold").glob("*.json")
    if json.loads(g.read_text(encoding="utf-8")).get("items")
)


@pytest.mark.parametrize("doc", _WITH_ITEMS, ids=lambda p: p.name)
def test_only_a_pdf_item_has_a_page(doc: Path) -> None:
    """A PDF item starts on a page (1-based, within the file); an HTML, JSON or XML item has no page at all."""
    meeting = parse_document(doc.read_bytes(), doc.name)
    pages = [item.page for item in meeting.items]
    assert pages
    if doc.suffix == ".pdf":
        numbered = [p for p in pages if p is not None]
        assert len(numbered) == len(pages) and min(numbered) >= 1, pages
        assert numbered == sorted(numbered)  # items start in reading order
    else:
        assert pages == [None] * len(pages)


def test_a_text_documents_form_feed_pages_are_no_pages() -> None:
    """Plain text (the seeds; a PDF's text saved with form feeds) groups lines by form feed but reports no page."""
    seeds = sorted((FIXTURES / "corpus" / "seeds").glob("*.txt"))
    assert seeds
    for seed in seeds:
        meeting = parse_document(seed.read_bytes(), seed.name)
        assert meeting.items and {item.page for item in meeting.items} == {None}, seed.name
    text = (FIXTURES / "corpus" / "seeds" / seeds[0].name).read_text(encoding="utf-8")
    paged = text.replace("\n\n", "\n\f", 1)
    assert "\f" in paged
    assert {item.page for item in parse_document(paged.encode(), "paged.txt").items} == {None}

"""The seeds as PDF, cp1252, UTF-8 with BOM, HTML and DOCX parse to what the text seed gives."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from services.parser.core import detect_format, parse_document
from tests.unit.parser import convert
from tests.unit.parser.scoring import SCORER

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SEEDS = sorted((FIXTURES / "corpus" / "seeds").glob("*.txt"))
GOLD = FIXTURES / "corpus" / "gold"


CONVERTERS: dict[str, tuple[str, Callable[[str], bytes]]] = {
    "pdf": ("pdf", convert.to_pdf),
    "cp1252": ("txt", convert.to_cp1252),
    "utf8-bom": ("txt", convert.to_utf8_bom),
    "html": ("html", convert.to_html),
    "docx": ("docx", convert.to_docx),
}


def _failed_checks(seed: Path, data: bytes) -> list[str]:
    gold = json.loads((GOLD / seed.name.replace(".txt", ".json")).read_text(encoding="utf-8"))
    predicted = json.loads(parse_document(data).model_dump_json())
    return [name for name, ok in SCORER.score_doc(gold, predicted) if not ok]


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
@pytest.mark.parametrize("variant", list(CONVERTERS))
def test_variant_parses_like_the_text_seed(seed: Path, variant: str) -> None:
    text = seed.read_text(encoding="utf-8")
    expected_format, make = CONVERTERS[variant]
    data = make(text)
    # No file name: the format must come from the content alone.
    assert detect_format(data) == expected_format
    assert _failed_checks(seed, data) == []
    reference = parse_document(text.encode("utf-8"))
    variant_meeting = parse_document(data)
    assert variant_meeting.municipality == reference.municipality
    assert variant_meeting.committee == reference.committee
    assert [(i.number, i.case_number, i.decision and i.decision.outcome) for i in variant_meeting.items] == [
        (i.number, i.case_number, i.decision and i.decision.outcome) for i in reference.items
    ]


def test_pdf_page_furniture_is_removed() -> None:
    text = SEEDS[0].read_text(encoding="utf-8")
    from services.parser.core import extract_text
    from services.parser.core.normalize import clean_text, to_lines

    raw = extract_text(convert.to_pdf(text))
    assert "Side 2 af" in raw
    assert raw.count(convert.running_header(text)) > 2
    lines = to_lines(clean_text(raw))
    assert not any(line.startswith("Side ") and " af " in line for line in lines)
    assert convert.running_header(text) not in lines


def test_mojibake_is_repaired_from_the_document_itself() -> None:
    seed = next(p for p in SEEDS if p.name.startswith("004"))
    meeting = parse_document(seed.read_bytes())
    item = next(i for i in meeting.items if i.number == 9)
    assert item.decision is not None
    assert item.decision.text == "Drøftet."
    assert item.absent == ("Søren Videbæk Jensen",)


def test_pdf_soft_hyphen_marks_are_joined() -> None:
    from services.parser.core.normalize import clean_text

    assert clean_text("an\x02lægsomkostninger") == "anlægsomkostninger"
    assert clean_text("Arbejdsmarkeds\x02og Uddannelsesudvalget") == "Arbejdsmarkeds- og Uddannelsesudvalget"
    assert clean_text("2030\x02fremskrivning") == "2030-fremskrivning"

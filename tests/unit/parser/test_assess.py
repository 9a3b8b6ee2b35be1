"""The gate after every parse: a layout no rule knows is refused with what was found; doubts become warnings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from services.parser.core import DocumentError, LayoutNotRecognised, NotMinutes, parse_document
from services.parser.core.assess import REFUSE_COVERAGE, _item_chars, assess
from services.parser.core.formats import detect_format, extract_blocks
from shared.contracts.meeting import AgendaItem, Decision, DocumentKind, Outcome, ParsedMeeting

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"
SEEDS = sorted((CORPUS / "seeds").glob("*.txt"))
# The 1942 parish-council protocol is no meeting document at all: its own test expects NotMinutes.
REAL_DOCS = sorted(d for d in (CORPUS / "real" / "docs").iterdir() if "1942" not in d.name)
SEED = CORPUS / "seeds" / "004_6ca494cdfb547599.txt"

# A Danish minutes page with a full meeting header and only prose: no numbered item, no item heading.
PROSE_MINUTES = """Referat

Udvalget for Natur og Fritid
Mødedato: 12. marts 2024
Mødetidspunkt: 16:00
Mødested: Mødelokale 2, Rådhuset

Deltagere: Anne Jensen, Bo Hansen, Carl Nielsen

Mødet blev indledt med en længere drøftelse af kommunens arbejde med stier og naturområder.
Udvalget var enigt om, at arbejdet skal fortsætte, og at forvaltningen vender tilbage efter sommerferien.
Der var derudover en kort orientering om status på de igangværende projekter i området.
"""


def _gold_items(name: str) -> list[int] | None:
    """The item numbers a whole-document gold annotation lists (None when there is no such gold)."""
    for gold_path in (CORPUS / "real" / "gold").glob("*.json"):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        if gold["file"] == name and not gold.get("partial"):
            return sorted(g["number"] for g in gold["items"])
    return None


@pytest.mark.parametrize("doc", REAL_DOCS + SEEDS, ids=lambda p: p.name)
def test_a_real_document_is_never_refused_for_its_layout(doc: Path) -> None:
    """Every real document and seed whose items the parser finds passes the gate, with every item kept."""
    try:
        meeting = parse_document(doc.read_bytes(), doc.name)
    except DocumentError as exc:
        pytest.fail(f"a real document refused: {exc}")
    wanted = _gold_items(doc.name)
    if wanted is not None:
        assert sorted(item.number for item in meeting.items) == wanted


@pytest.mark.parametrize("doc", [d for d in REAL_DOCS if d.suffix in (".pdf", ".html", ".docx")] + SEEDS,
                         ids=lambda p: p.name)
def test_real_text_documents_are_far_above_the_refusal_bar(doc: Path) -> None:
    """The coverage bar is conservative: real items hold several times the share the gate refuses below."""
    data = doc.read_bytes()
    meeting = parse_document(data, doc.name)
    blocks, _ = extract_blocks(data, doc.name, detect_format(data, doc.name))
    total = sum(len(b.text.strip()) for b in blocks)
    assert _item_chars(meeting) / total > 5 * REFUSE_COVERAGE


def test_minutes_of_prose_without_items_are_refused_saying_what_was_found() -> None:
    with pytest.raises(LayoutNotRecognised) as caught:
        parse_document(PROSE_MINUTES.encode("utf-8"), "referat.txt")
    message = str(caught.value)
    assert message.startswith("layout not recognised: minutes with a header (")
    assert "committee" in message and "date" in message and "place" in message
    assert message.endswith("but no agenda item found in 9 lines of text")
    assert isinstance(caught.value, DocumentError)


def test_a_truncated_body_is_refused() -> None:
    """A real document cut after its header and table of contents: a meeting, but no item to store."""
    text = SEED.read_text(encoding="utf-8")
    with pytest.raises(LayoutNotRecognised, match=r"^layout not recognised: minutes with a header \(.*date.*\) but"):
        parse_document(text[: text.index("Punkt 1:")].encode("utf-8"), "referat.txt")


def test_items_holding_a_sliver_of_a_long_document_are_refused() -> None:
    """The same seed whose item headings, all but the last, are printed in a way no rule reads: the one item
    found holds 1% of the text and the rest would be lost silently."""
    text = re.sub(r"(?m)^Punkt [1-9]: ", "Om emnet ", SEED.read_text(encoding="utf-8"))
    with pytest.raises(LayoutNotRecognised, match=r"and 1 agenda item holding only \d+% of the text"):
        parse_document(text.encode("utf-8"), "referat.txt")


def test_the_1942_protocol_keeps_its_not_minutes_reason() -> None:
    """Text that is no meeting at all is still `NotMinutes`, not a layout to add."""
    data = (CORPUS / "real" / "docs" / "elev-sogneraad-1942-forhandlingsprotokol-historisk.pdf").read_bytes()
    with pytest.raises(NotMinutes, match="no agenda items and no meeting header"):
        parse_document(data)


def _meeting(*items: AgendaItem, kind: DocumentKind = DocumentKind.MINUTES) -> ParsedMeeting:
    return ParsedMeeting(kind=kind, committee="Byrådet", items=items, warnings=("from the parser",))


def test_minutes_without_any_decision_are_kept_with_a_warning() -> None:
    meeting = assess(_meeting(AgendaItem(number=1, title="Budget"), AgendaItem(number=2, title="")), None, "json")
    assert meeting.warnings == ("from the parser", "minutes without any decision", "1 of 2 items without a title")


def test_an_agenda_without_decisions_and_complete_minutes_have_no_warning_of_the_gate() -> None:
    agenda = _meeting(AgendaItem(number=1, title="Budget"), kind=DocumentKind.AGENDA)
    assert assess(agenda, None, "json").warnings == ("from the parser",)
    decided = AgendaItem(number=1, title="Budget", decision=Decision(text="Godkendt.", outcome=Outcome.APPROVED))
    assert assess(_meeting(decided), None, "json").warnings == ("from the parser",)


def test_a_structured_export_without_items_is_refused_too() -> None:
    with pytest.raises(LayoutNotRecognised, match=r"^layout not recognised: minutes with a header \(committee\) "
                                                  r"but no agenda item found in a JSON export$"):
        assess(_meeting(), None, "json")

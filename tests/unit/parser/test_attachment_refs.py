"""Attachments keep the publisher's reference to their file (`AgendaItem.attachment_refs`).

The expected references are read here from the documents themselves (the portal's JSON with `json`, the
XML exports with ElementTree), never from the parser: the 40 real Greve meetings of the portal corpus, the
real SBSYS, eDoc and Acadre exports, and small hand-written cases for the edges.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from services.parser.core import parse_document
from shared.contracts.meeting import AgendaItem, AttachmentRef

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"
GREVE = sorted((FIXTURES / "portal" / "greve" / "dagsorden").glob("*.json"))
REAL = FIXTURES / "real" / "docs"


def _spaced(text: str) -> str:
    return " ".join(text.split())


def _bilag(raw_item: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, Id) of each listed attachment of one item of the portal's answer."""
    return [(_spaced(b["Navn"]), b["Id"]) for b in raw_item.get("Bilag") or []]


def _pairs(item: AgendaItem) -> list[tuple[str, str | None]]:
    return [(r.name, r.ref) for r in item.attachment_refs]


def test_the_corpus_has_what_this_test_needs() -> None:
    assert len(GREVE) == 40
    ids = [b["Id"] for path in GREVE for item in json.loads(path.read_bytes())["Dagsordenpunkter"]
           for b in item.get("Bilag") or []]
    assert len(ids) == 1234 == len(set(ids))  # the corpus README's count; each attachment once


@pytest.mark.parametrize("path", GREVE, ids=lambda p: p.stem[:8])
def test_greve_meeting_keeps_every_bilag_id_on_its_item(path: Path) -> None:
    data = path.read_bytes()
    raw = {int(item["Number"]): _bilag(item) for item in json.loads(data)["Dagsordenpunkter"]}
    meeting = parse_document(data, None)
    assert {item.number: _pairs(item) for item in meeting.items if item.attachment_refs} == {
        number: pairs for number, pairs in raw.items() if pairs
    }
    for item in meeting.items:
        if raw[item.number]:  # the names with references are the attachment names, one each, in order
            assert [r.name for r in item.attachment_refs] == list(item.attachments)


def test_a_bilag_without_an_id_keeps_its_place_and_a_list_without_ids_carries_none() -> None:
    data = json.loads(GREVE[0].read_bytes())
    item = next(i for i in data["Dagsordenpunkter"] if len(i.get("Bilag") or []) >= 2)
    first, second = item["Bilag"][:2]
    del first["Id"]
    meeting = parse_document(json.dumps(data).encode(), None)
    parsed = next(i for i in meeting.items if i.number == int(item["Number"]))
    assert parsed.attachment_refs[:2] == (
        AttachmentRef(name=_spaced(first["Navn"]), ref=None),
        AttachmentRef(name=_spaced(second["Navn"]), ref=second["Id"]),
    )
    for bilag in item["Bilag"]:
        bilag.pop("Id", None)
    parsed = next(i for i in parse_document(json.dumps(data).encode(), None).items if i.number == int(item["Number"]))
    assert parsed.attachments and parsed.attachment_refs == ()


# --- the XML exports -------------------------------------------------------------------------------------


def _xml_pairs(name: str, path: str, title: str, ref: str) -> list[tuple[str, str]]:
    """(title, reference) of every element at `path` of a real export, read with ElementTree."""
    root = ET.fromstring((REAL / name).read_bytes().replace(b"&#xC;", b" "))
    return [((e.findtext(title) or "").strip(), (e.findtext(ref) or "").strip()) for e in root.iterfind(path)]


def test_sbsys_enclosure_keeps_the_file_the_publication_wrote() -> None:
    name = "ballerup-kmb-it-udvalget-2013-05-15-dagsorden.xml"
    # The agenda lists its items' enclosures once more on its own: the item's list is the item's.
    expected = _xml_pairs(
        name, "Agendas/Agenda/Items/Item/Enclosures/Enclosure", "Name", "InstantiationFilePathRelative"
    )
    assert len(expected) == 1 and expected[0][1].endswith(".pdf")
    refs = [p for item in parse_document((REAL / name).read_bytes(), None).items for p in _pairs(item)]
    assert refs == expected


def test_edoc_attachment_keeps_its_pdf_document() -> None:
    name = "ballerup-sundheds-og-forebyggelsesudvalget-2012-12-04-referat-edoc.xml"
    expected = _xml_pairs(name, ".//Attachments/Attachment", "Title", "PDFDocument")
    assert len(expected) == 10 and all(ref.upper().endswith(".PDF") for _, ref in expected)
    refs = [p for item in parse_document((REAL / name).read_bytes(), None).items for p in _pairs(item)]
    assert sorted(refs) == sorted(expected)


def test_acadre_enclosure_keeps_its_file_name() -> None:
    name = "syddjurs-plan-udvikling-kultur-2013-06-20-referat-acadre.xml"
    root = ET.fromstring((REAL / name).read_bytes())
    expected = []
    for table in root.iter("table"):
        if table.get("name") == "enclosure":
            fields = {f.get("name"): (f.text or "").strip() for f in table.findall("fields/field")}
            expected.append((fields["name"], fields["filename"]))
    assert len(expected) == 3
    refs = [p for item in parse_document((REAL / name).read_bytes(), None).items for p in _pairs(item)]
    assert refs == expected


@pytest.mark.parametrize("name", [
    "aarhus-byraad-2025-08-27-referat.pdf",
    "syddjurs-plan-udvikling-kultur-2013-06-20-referat.docx",
])
def test_formats_without_references_carry_none(name: str) -> None:
    # The PDF and Word documents print attachment names only.
    items = parse_document((REAL / name).read_bytes(), None).items
    assert any(item.attachments for item in items)
    assert all(item.attachment_refs == () for item in items)

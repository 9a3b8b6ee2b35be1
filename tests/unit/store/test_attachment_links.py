"""Attachment links: a source type makes a reference into its portal's address, and the store keeps, per
attachment, the name, the reference and that address — only for documents that came from a source."""

from __future__ import annotations

from structlog.testing import capture_logs

from services.ingest.sources import firstagenda
from services.ingest.sources.state import Origin
from services.store.attachments import link_maker, links, stored_refs
from shared.contracts.events import AttachmentLink
from shared.contracts.meeting import AgendaItem, AttachmentRef

BILAG = "77251f5a-55ca-45b0-ade3-699138e9faff"


def test_firstagenda_serves_an_attachment_under_vis_pdf_bilag() -> None:
    assert firstagenda.attachment_url("https://dagsordener.example.dk/", BILAG) == (
        f"https://dagsordener.example.dk/Vis/Pdf/bilag/{BILAG}"
    )


def test_a_reference_can_only_ever_be_one_path_segment() -> None:
    # The id comes from the portal's answer: a slash, a query or a dot-dot stays inside the segment.
    url = firstagenda.attachment_url("https://p.example.dk", "../../api/x?y=1#z")
    assert url == "https://p.example.dk/Vis/Pdf/bilag/..%2F..%2Fapi%2Fx%3Fy%3D1%23z"


def _item(*refs: AttachmentRef) -> AgendaItem:
    return AgendaItem(number=1, title="Punkt", attachments=tuple(r.name for r in refs), attachment_refs=refs)


def test_a_document_from_a_source_links_each_attachment_with_a_reference() -> None:
    make = link_maker(Origin("https://p.example.dk/api/agenda/dagsorden/m1", "firstagenda", "https://p.example.dk"))
    rows = stored_refs(_item(AttachmentRef(name="Kort", ref=BILAG), AttachmentRef(name="Notat")), make)
    assert rows == [
        {"name": "Kort", "ref": BILAG, "url": f"https://p.example.dk/Vis/Pdf/bilag/{BILAG}"},
        {"name": "Notat", "ref": None, "url": None},
    ]
    assert links(rows) == (AttachmentLink(name="Kort", url=f"https://p.example.dk/Vis/Pdf/bilag/{BILAG}"),)


def test_a_dropped_file_keeps_its_references_without_an_address() -> None:
    rows = stored_refs(_item(AttachmentRef(name="Kort", ref="1537646.PDF")), link_maker(None))
    assert rows == [{"name": "Kort", "ref": "1537646.PDF", "url": None}]
    assert links(rows) == ()


def test_an_item_without_references_stores_none() -> None:
    assert stored_refs(AgendaItem(number=1, title="Punkt", attachments=("Kort",)), None) is None
    assert links(None) == ()


def test_a_removed_source_or_an_unknown_type_links_nothing_and_an_unknown_type_is_said() -> None:
    assert link_maker(Origin("https://p.example.dk/x", None, None)) is None
    with capture_logs() as logs:
        assert link_maker(Origin("https://p.example.dk/x", "no-such-portal", "https://p.example.dk")) is None
    assert [(e["event"], e["log_level"]) for e in logs] == [("attachments not linked", "warning")]
    assert "no-such-portal" in logs[0]["reason"]

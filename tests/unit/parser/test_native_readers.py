"""eDoc and Acadre XML exports, XML 1.0's forbidden characters, and Word's nested tables and text boxes.

The three real documents (an eDoc referat, an Acadre export and the Acadre Word original of the same
meeting) are scored with the project's copy of the scorer against their hand-made gold. The rule
tests use small hand-written exports and a DOCX built here, each made to show one rule.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import docx
import pytest

from services.parser.core import DocumentError, UnsupportedDocument, parse_document
from services.parser.core.docx_text import docx_blocks
from shared.contracts.meeting import DocumentKind, Outcome, ParsedMeeting
from tests.unit.parser.scoring import SCORER

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "real"
EDOC = "ballerup-sundheds-og-forebyggelsesudvalget-2012-12-04-referat-edoc.xml"
ACADRE = "syddjurs-plan-udvikling-kultur-2013-06-20-referat-acadre.xml"
WORD = "syddjurs-plan-udvikling-kultur-2013-06-20-referat.docx"
GOLD = {EDOC: EDOC.removesuffix(".xml"), ACADRE: ACADRE.removesuffix(".xml"),
        WORD: "syddjurs-plan-udvikling-kultur-2013-06-20-referat-docx"}


def _real(name: str) -> ParsedMeeting:
    # No file name: the reader is chosen from the content alone.
    return parse_document((REAL / "docs" / name).read_bytes(), None)


# --- the real documents --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GOLD))
def test_real_document_scores(name: str) -> None:
    gold = json.loads((REAL / "gold" / f"{GOLD[name]}.json").read_text(encoding="utf-8"))
    checks = SCORER.score_doc(gold, _real(name).model_dump(mode="json"))
    failed = [check for check, ok in checks if not ok]
    share = 1 - len(failed) / len(checks)
    assert share >= 0.97, f"{name}: {share:.3f}, failed: {failed}"


def test_edoc_export_says_it_replaced_its_page_breaks() -> None:
    # The export writes two page breaks as `&#xC;`, which XML 1.0 forbids (counted in the file).
    data = (REAL / "docs" / EDOC).read_bytes()
    assert data.count(b"&#xC;") == 2
    meeting = _real(EDOC)
    assert meeting.warnings == ("replaced 2 character references that XML 1.0 forbids",)
    assert meeting.kind == DocumentKind.MINUTES
    assert meeting.municipality == "Ballerup"


def test_acadre_export_keeps_earlier_decisions_as_history() -> None:
    item = _real(ACADRE).items[0]
    # Decisions of 10-04 and 24-04 are bullets of the same item: history, not this meeting's decision.
    assert [h.date for h in item.history] == [dt.date(2013, 4, 10), dt.date(2013, 4, 24)]
    assert item.decision is not None and item.decision.text.startswith("Punktet blev drøftet")


def test_acadre_word_original_reads_members_from_nested_tables() -> None:
    meeting = _real(WORD)
    # Members sit in two columns of a table inside the `Medlemmer` cell of the cover table.
    assert meeting.participants == ("Jesper Mathiesen", "Ole Bollesen", "Niels Viderø", "Ole Bjerregaard",
                                    "Steen Fris")
    assert meeting.location is not None and meeting.location.startswith("Kaløvig Kursuscenter")
    # The signature page after the attachment list is no attachment.
    assert len(meeting.items[0].attachments) == 3


# --- XML 1.0's forbidden characters ------------------------------------------------------------------

_EDOC_MINIMAL = """<?xml version="1.0" encoding="utf-8"?>
<Meeting>
  <Committee>Teknik- og Miljøudvalget</Committee>
  <MeetingDate>03-02-2021 16:00:00</MeetingDate>
  <MeetingState>{state}</MeetingState>
  <MeetingAgendaTypes>
    <MeetingAgendaType>
      <AgendaType>Åben dagsorden</AgendaType>
      <MeetingAgendaItems>
        <MeetingAgendaItem>
          <AgendaItemNumber>1</AgendaItemNumber>
          <Document><Title>Vejbelysning{refs}</Title><Attachments/></Document>
          <FullText>1.&#9;Vejbelysning

Sagsnr.: 2021-100

Indstilling
Forvaltningen indstiller, at planen godkendes.

Teknik- og Miljøudvalgets beslutning den 03.02.2021 Punkt 1
Godkendt.
</FullText>
        </MeetingAgendaItem>
      </MeetingAgendaItems>
      <FullText>Teknik- og Miljøudvalget

onsdag den 3. februar 2021, kl. 16:00
i Mødesal 2 på Rådhuset

Tilstede
Anna Holm (A) - formand
Bo Lund (V)

Afbud/Fraværende
Carl Berg (C)

INDHOLDSFORTEGNELSE
</FullText>
    </MeetingAgendaType>
    <MeetingAgendaType>
      <AgendaType>Lukket dagsorden</AgendaType>
      <MeetingAgendaItems>
        <MeetingAgendaItem>
          <AgendaItemNumber>2</AgendaItemNumber>
          <Document><Title>Salg af grund</Title>
            <Attachments><Attachment><Title>Kort</Title></Attachment></Attachments></Document>
          <FullText>2.&#9;Salg af grund

Teknik- og Miljøudvalgets beslutning den 03.02.2021 Punkt 2
Anbefales.
</FullText>
        </MeetingAgendaItem>
      </MeetingAgendaItems>
    </MeetingAgendaType>
  </MeetingAgendaTypes>
</Meeting>
"""


def _edoc(state: str = "Referat endeligt godkendt", refs: str = "") -> bytes:
    return _EDOC_MINIMAL.format(state=state, refs=refs).encode("utf-8")


def test_forbidden_character_references_are_replaced_and_counted() -> None:
    # C0 controls in decimal and hex, a surrogate and U+FFFE; `&#230;` (æ) is allowed and kept.
    meeting = parse_document(_edoc(refs="&#x1;&#11;&#x0C;&#0;&#55296;&#xFFFE;&#230;"))
    assert meeting.warnings == ("replaced 6 character references that XML 1.0 forbids",)
    assert meeting.items[0].title.endswith("æ")
    assert "\x0b" not in meeting.items[0].title


def test_raw_forbidden_control_bytes_are_replaced_too() -> None:
    meeting = parse_document(_edoc().replace(b"Vejbelysning</Title>", b"Vej\x0bbelysning\x01</Title>"))
    assert meeting.warnings == ("replaced 2 control characters that XML 1.0 forbids",)
    assert meeting.items[0].title == "Vej belysning"


def test_clean_export_has_no_warning() -> None:
    assert parse_document(_edoc()).warnings == ()


def test_dtd_stays_refused_even_with_forbidden_references() -> None:
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE Meeting [<!ENTITY a "&#x1;aaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
            b"<Meeting><Committee>&b;</Committee><MeetingAgendaTypes/></Meeting>")
    with pytest.raises(UnsupportedDocument, match="DTD"):
        parse_document(bomb)


# --- the eDoc reader -----------------------------------------------------------------------------------


def test_edoc_reads_header_parts_and_decisions() -> None:
    meeting = parse_document(_edoc())
    assert meeting.kind == DocumentKind.MINUTES
    assert (meeting.committee, meeting.meeting_date, meeting.start_time) == (
        "Teknik- og Miljøudvalget", dt.date(2021, 2, 3), "16:00")
    assert meeting.location == "Mødesal 2 på Rådhuset"
    assert meeting.participants == ("Anna Holm", "Bo Lund")
    first, second = meeting.items
    assert (first.number, first.title, first.case_number, first.is_closed) == (1, "Vejbelysning", "2021-100", False)
    assert first.decision is not None and first.decision.outcome == Outcome.APPROVED
    assert first.absent == ("Carl Berg",)  # away from the whole meeting
    assert first.attachments == ()
    # The closed part's item, with the attachments the export lists.
    assert (second.number, second.is_closed, second.attachments) == (2, True, ("Kort",))
    assert second.decision is not None and second.decision.outcome == Outcome.RECOMMENDED


def test_edoc_names_under_the_absence_line_are_absent_from_that_item() -> None:
    data = _edoc().replace(b"Godkendt.\n", "Godkendt.\n\nFølgende deltog ikke i behandlingen af punktet:\n"
                           "Bo Lund (V)\n".encode())
    first, second = parse_document(data).items
    assert first.absent == ("Carl Berg", "Bo Lund")
    assert first.decision is not None and first.decision.text == "Godkendt."
    assert second.absent == ("Carl Berg",)


def test_edoc_agenda_has_no_decisions() -> None:
    meeting = parse_document(_edoc(state="Dagsorden udsendt"))
    assert meeting.kind == DocumentKind.AGENDA
    assert all(item.decision is None for item in meeting.items)


# --- the Acadre reader ---------------------------------------------------------------------------------


def _f(name: str, value: str) -> str:
    return f'<field name="{name}">{value}</field>'


def _acadre(date: str = "2021-03-04 09:00", sort: str = "12", department: str = "Vejle Kommune") -> bytes:
    member = ('<table name="member"><fields>' + _f("name", "{n}") + _f("absent", "{a}") + "</fields></table>")
    members = member.format(n="Dorte  Friis (A)", a="0") + member.format(n="Erik Sand (V)", a="1")
    decision = "Beslutning i Økonomiudvalget den {d}"
    bullets = "".join(
        '<table name="bullet"><fields>' + _f("bulletname", caption) + _f("bulletcontent", content)
        + _f("bulletsortorder", str(i)) + "</fields></table>"
        for i, (caption, content) in enumerate([
            ("Indstilling", "&lt;p&gt;Direktionen indstiller, at sagen godkendes.&lt;/p&gt;"),
            (decision.format(d="10-02-2021"), "&lt;p&gt;Udsat.&lt;/p&gt;"),
            (decision.format(d="04-03-2021"), "&lt;p&gt;Godkendt.&lt;/p&gt;"),
        ], start=1)
    )
    item = ('<table name="agendaitemparents"><fields>' + _f("sort", sort) + '</fields><table name="agendaitem">'
            "<fields>" + _f("name", "Køb af areal") + _f("caseno", "21/555") + _f("accessname", "Lukket")
            + "</fields>" + bullets
            + '<table name="enclosure"><fields>' + _f("name", "Skitse") + "</fields></table></table></table>")
    xml = ('<?xml version="1.0"?><root><table name="agenda"><fields>' + _f("name", "Referat") + "</fields>"
           '<table name="committee"><fields>' + _f("name", "Økonomiudvalget") + _f("departmentName", department)
           + '</fields></table><table name="meeting"><fields>' + _f("date", date) + _f("location", "Byrådssalen")
           + _f("address", "Torvet 1&lt;br&gt;7100 Vejle") + '</fields><table name="meetmember">' + members
           + "</table></table>" + item + "</table></root>")
    return xml.encode("utf-8")


def test_acadre_reads_members_items_and_owner() -> None:
    meeting = parse_document(_acadre())
    assert meeting.kind == DocumentKind.MINUTES
    assert (meeting.municipality, meeting.municipality_code, meeting.region) == ("Vejle", 630, None)
    assert (meeting.meeting_date, meeting.start_time) == (dt.date(2021, 3, 4), "09:00")
    assert meeting.location == "Byrådssalen, Torvet 1, 7100 Vejle"
    assert meeting.participants == ("Dorte Friis",)  # the member flagged absent is not there
    item = meeting.items[0]
    assert (item.number, item.case_number, item.is_closed, item.attachments) == (12, "21/555", True, ("Skitse",))
    assert item.decision is not None and item.decision.text == "Godkendt."
    assert [(h.date, h.text) for h in item.history] == [(dt.date(2021, 2, 10), "Udsat.")]
    assert item.absent == ("Erik Sand",)


def test_acadre_item_without_number_is_skipped_and_said() -> None:
    data = _acadre()
    start = data.index(b'<table name="agendaitemparents">')
    end = data.rindex(b"</table></table></root>")
    # A second copy of the item whose `sort` is not a number.
    bad = data[start:end + len(b"</table>")].replace(b'"sort">12<', b'"sort">tolv<')
    meeting = parse_document(data[:start] + bad + data[start:])
    assert [i.number for i in meeting.items] == [12]
    assert meeting.warnings == ("skipped 1 agenda item without a readable number or agendaitem",)


def test_acadre_agenda_has_no_decisions() -> None:
    meeting = parse_document(_acadre().replace(b'"name">Referat<', b'"name">Dagsorden<'))
    assert meeting.kind == DocumentKind.AGENDA
    assert meeting.items[0].decision is None
    assert meeting.items[0].absent == ()  # nobody is away from a meeting that has not happened


def test_acadre_region_from_its_department() -> None:
    meeting = parse_document(_acadre(department="Region Midtjylland"))
    assert (meeting.municipality, meeting.region) == (None, "Region Midtjylland")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_acadre(date="i morgen"), "unreadable meeting date"),
        (_acadre(sort="første"), "no readable number"),
        (b'<?xml version="1.0"?><root><table name="agenda"><fields/></table></root>', "without a meeting date"),
        (b"<Meeting><MeetingAgendaTypes/></Meeting>", "without a meeting date"),
        (_edoc().replace(b"03-02-2021 16:00:00", b"32-13-2021"), "unreadable meeting date"),
        (_edoc().replace(b"<AgendaItemNumber>1<", b"<AgendaItemNumber>et<")
         .replace(b"<AgendaItemNumber>2<", b"<AgendaItemNumber>to<"), "no readable number"),
        (_acadre()[: len(_acadre()) // 2], "malformed XML"),
        ((REAL / "docs" / EDOC).read_bytes()[:200_000], "malformed XML"),
    ],
    ids=["acadre-date", "acadre-number", "acadre-empty", "edoc-empty", "edoc-date", "edoc-number",
         "acadre-truncated", "edoc-truncated"],
)
def test_broken_exports_are_refused_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(DocumentError, match=reason):
        parse_document(data)


# --- SBSYS: the organisation names the body ---------------------------------------------------------


def test_sbsys_region_from_organisation_field() -> None:
    data = (REAL / "docs" / "ballerup-kmb-it-udvalget-2013-05-15-dagsorden.xml").read_bytes()
    assert parse_document(data).municipality == "Ballerup"
    # The same publication as a region's: its organisation named, the municipality's addresses gone.
    data = data.replace(b"balk.dk", b"example.org").replace(b"Ballerup", b"Nordby")
    region = data.replace(b"<PublishedBy ", b"<Organisation><Name>Region Sj\xc3\xa6lland</Name></Organisation>"
                          b"<PublishedBy ", 1)
    meeting = parse_document(region)
    assert (meeting.municipality, meeting.region) == (None, "Region Sjælland")


# --- DOCX: nested tables and text boxes ----------------------------------------------------------------

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_TEXT_BOX = (
    f'<w:r xmlns:w="{_W}" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
    "<mc:AlternateContent><mc:Choice Requires=\"wps\"><w:drawing><w:txbxContent>"
    "<w:p><w:r><w:t>Mødested: Byrådssalen</w:t></w:r></w:p>"
    "</w:txbxContent></w:drawing></mc:Choice>"
    "<mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Mødested: Byrådssalen</w:t></w:r></w:p>"
    "</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
)


def _word() -> bytes:
    from lxml import etree

    document = docx.Document()
    document.add_paragraph("Referat")
    cover = document.add_table(rows=2, cols=1)
    cover.cell(0, 0).text = "Medlemmer"
    columns = cover.cell(1, 0).add_table(rows=1, cols=2)
    for cell, names in zip(columns.rows[0].cells, (["Anna Holm (A)", "Bo Lund (V)"], ["Carl Berg (C)"]),
                           strict=True):
        inner = cell.add_table(rows=len(names), cols=1)
        for row, name in zip(inner.rows, names, strict=True):
            row.cells[0].text = name
    anchor = document.add_paragraph("Før boksen")
    anchor._p.append(etree.fromstring(_TEXT_BOX))
    document.add_paragraph("Efter boksen")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_reads_nested_tables_in_order() -> None:
    lines = [b.text for b in docx_blocks(_word()) if b.text.strip()]
    start = lines.index("Medlemmer")
    assert lines[start : start + 4] == ["Medlemmer", "Anna Holm (A)", "Bo Lund (V)", "Carl Berg (C)"]


def test_docx_reads_a_text_box_once_where_it_is_anchored() -> None:
    lines = [b.text for b in docx_blocks(_word()) if b.text.strip()]
    # The DrawingML box and its VML fallback hold the same text: it is read once, after its anchor.
    assert lines.count("Mødested: Byrådssalen") == 1
    assert lines.index("Før boksen") < lines.index("Mødested: Byrådssalen") < lines.index("Efter boksen")


def test_docx_text_box_is_in_the_zip_twice() -> None:
    # The fixture itself: both copies are really in document.xml, so the test above can fail.
    with zipfile.ZipFile(io.BytesIO(_word())) as archive:
        assert archive.read("word/document.xml").decode("utf-8").count("Mødested: Byrådssalen") == 2

"""Rules that read structure: PDF fonts and positions, portal DOM, DOCX styles (hand-made fixtures).

These show that each rule works; that the parser generalises is shown on real documents in
`test_real_corpus.py`.
"""

from __future__ import annotations

from io import BytesIO

import docx

from services.parser.core import parse_document
from services.parser.core.formats import extract_blocks
from shared.contracts.meeting import DocumentKind, Outcome
from tests.unit.parser.styled_pdf import styled_pdf

_COVER = [("title", "REFERAT Byrådet d. 12-05-2022"), ("body", "Mødedato Torsdag d. 12. maj 2022 kl. 17:00"),
          ("body", "Mødested Byrådssalen")]


def _item(number: int, case: str, decision: str, attachments: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("title", f"Punkt {number}: Anlægsbevilling til ny skole i bydelen"), ("body", case),
            ("heading", "Beslutning"), ("body", decision),
            ("heading", "Sagsfremstilling"), ("body", "Forvaltningen har udarbejdet et forslag."),
            ("body", "Indstilling"), ("body", "Baggrund:"),  # body text that only reads like headings
            ("heading", "Bilag"), *attachments]


def _pdf() -> bytes:
    return styled_pdf([
        _COVER,
        _item(1, "EMN-2022-000101", "Godkendt.", [("entry", "Indstilling"),
                                                  ("entry", "Bilag 1: Kort over området med"),
                                                  ("wrap", "tillæg 1 og 2"),
                                                  ("entry", "Bilag 2: Notat om økonomi")]),
        _item(2, "EMN-2022-000202", "Ikke godkendt.", [("entry", "Bilag 1: Tidsplan")]),
        _item(3, "EMN-2022-000303", "Udsat.", [("entry", "Bilag 1: Høringssvar")]),
    ])


def test_pdf_reader_reports_fonts_pages_and_positions() -> None:
    blocks, _ = extract_blocks(_pdf())
    title = next(b for b in blocks if b.text.startswith("Punkt 1:"))
    body = next(b for b in blocks if b.text == "Godkendt.")
    assert title.style == "heading" and body.style == "plain"
    assert title.size > body.size
    assert title.page == 2 and body.page == 2
    assert 0 < title.top < body.top


def test_pdf_headings_come_from_the_font_not_from_the_words() -> None:
    meeting = parse_document(_pdf())
    assert [i.number for i in meeting.items] == [1, 2, 3]
    first = meeting.items[0]
    # `Indstilling` and `Baggrund:` in body type stay in the case text; the `Bilag` list keeps `Indstilling`.
    assert [s.name for s in first.sections] == ["", "Beslutning", "Sagsfremstilling", "Bilag"]
    assert first.attachments == (
        "Indstilling", "Bilag 1: Kort over området med tillæg 1 og 2", "Bilag 2: Notat om økonomi")
    assert [i.decision.outcome for i in meeting.items if i.decision] == [
        Outcome.APPROVED, Outcome.REJECTED, Outcome.POSTPONED]


def test_pdf_running_header_goes_case_numbers_at_page_tops_stay() -> None:
    meeting = parse_document(_pdf())
    # Every item opens a page with its case number two lines down: recurring, but not at one height.
    assert [i.case_number for i in meeting.items] == ["EMN-2022-000101", "EMN-2022-000202", "EMN-2022-000303"]
    assert all("Byrådet 12. maj 2022" not in s.text for i in meeting.items for s in i.sections)
    assert [i.page for i in meeting.items] == [2, 3, 4]


_PORTAL = """<!DOCTYPE html><html><head><title>Dagsordener og referater</title></head><body>
<nav class="navbar"><a href="/">Forside</a></nav>
<div class="title"><h1>Referat 3. marts 2024 kl. 15.30</h1></div>
<table class="info"><tr><td>Udvalg:</td><td><span>Kulturudvalget</span></td></tr>
<tr><td>Mødedato:</td><td>mandag den 3. marts 2024 kl. 15.30</td></tr>
<tr><td>Mødested:</td><td>Mødelokale 2</td></tr>
<tr><td>Mødedeltagere:</td><td class="deltagere"></td></tr></table>
<table class="dagsorden"><thead><tr><th>Punkt</th><th>Titel</th><th></th></tr></thead><tbody>
{rows}
</tbody></table>
<div class="modal" role="dialog"><h4>Tip en ven</h4><p>Modtager e-mail</p><button>Send</button></div>
</body></html>"""
_ROW = """<tr><td><span class="label">{n}</span></td><td>
<button class="overskrift-btn"><h2>{title}</h2></button>
<div class="details"><span class="sagsnummer">EMN-2024-00{n}123</span>
<h3>Beslutninger</h3><div>{decision}</div>
<h3>Sagsforløb</h3><div><div>Udvalg: Magistraten</div><div>Dato: 12-02-2024</div><div>Punktnummer: 4</div>
<div>Fremsendes til Kulturudvalget.</div><div>Ole Hansen deltog ikke i sagens behandling.</div></div>
<h3>Bilag</h3><ul><li><span class="label">PDF</span><a class="bilag-link" href="#">Indstilling</a></li>
<li><span class="label">PDF</span><a class="bilag-link" href="#">Bilag 1: Kort</a></li></ul></div></td>
<td><span class="badge"><span class="glyphicon glyphicon-paperclip"></span><span>2</span></span>
<span class="dropdown"><ul class="dropdown-menu"><li><a>Hent som PDF</a></li>
<li><a>Kopier link</a></li></ul></span></td></tr>"""


def _portal(decisions: list[str], kind: str = "Referat") -> bytes:
    rows = "".join(_ROW.format(n=n, title=f"Kulturpulje {n}. runde", decision=d) for n, d in enumerate(decisions, 1))
    return _PORTAL.replace("Referat 3.", f"{kind} 3.").replace("{rows}", rows).encode("utf-8")


def test_portal_titles_in_buttons_attachment_links_and_no_chrome() -> None:
    decisions = ["Godkendt.", "Et flertal kunne tiltræde indstillingen. Eva Bo kunne ikke tiltræde."]
    meeting = parse_document(_portal(decisions))
    assert [(i.number, i.title, i.case_number) for i in meeting.items] == [
        (1, "Kulturpulje 1. runde", "EMN-2024-001123"), (2, "Kulturpulje 2. runde", "EMN-2024-002123")]
    # The paperclip count, `PDF` labels, the drop-down's `Hent som PDF` and the dialog are not content.
    assert meeting.items[0].attachments == ("Indstilling", "Bilag 1: Kort")
    assert not any("Tip en ven" in s.text or "Hent som PDF" in s.text for i in meeting.items for s in i.sections)
    assert meeting.items[1].decision is not None and meeting.items[1].decision.outcome is Outcome.APPROVED


def test_portal_empty_field_stays_empty_and_history_is_not_attendance() -> None:
    meeting = parse_document(_portal(["Godkendt."]))
    assert meeting.participants == ()
    assert (meeting.committee, meeting.start_time, meeting.location) == ("Kulturudvalget", "15:30", "Mødelokale 2")
    item = meeting.items[0]
    assert item.absent == ()  # `Ole Hansen deltog ikke …` belongs to the Magistraten meeting in Sagsforløb
    assert [(h.body, h.date.isoformat() if h.date else None) for h in item.history] == [("Magistraten", "2024-02-12")]
    assert "Ole Hansen deltog ikke" in item.history[0].text


def test_portal_agenda_announces_nothing() -> None:
    meeting = parse_document(_portal(["Godkendt."], kind="Dagsorden"))
    assert meeting.kind is DocumentKind.AGENDA
    assert meeting.decisions == []


def test_docx_heading_styles_are_headings() -> None:
    document = docx.Document()
    document.add_paragraph("Referat")
    document.add_paragraph("Udvalg: Teknik- og Miljøudvalget")
    document.add_paragraph("Mødedato: 4. april 2024 kl. 16.00")
    document.add_heading("Punkt 1: Trafikplan for midtbyen", level=1)
    document.add_paragraph("Sagsnr.: 24/1234")
    document.add_heading("Beslutning", level=2)
    document.add_paragraph("Godkendt.")
    document.add_heading("Bilag", level=2)
    document.add_paragraph("Indstilling")  # an entry in body style, though it reads like a heading
    document.add_paragraph("Bilag 1: Kort")
    buffer = BytesIO()
    document.save(buffer)
    meeting = parse_document(buffer.getvalue())
    item = meeting.items[0]
    assert item.attachments == ("Indstilling", "Bilag 1: Kort")
    assert item.decision is not None and item.decision.outcome is Outcome.APPROVED


def test_portal_members_in_separate_elements_are_a_list() -> None:
    page = _portal(["Godkendt."]).decode("utf-8").replace(
        '<td class="deltagere"></td>', '<td class="deltagere"><div>Anne Bo (A)</div><div>Ole Hansen (V)</div></td>')
    assert parse_document(page.encode("utf-8")).participants == ("Anne Bo", "Ole Hansen")
    page = _portal(["Godkendt."]).decode("utf-8").replace(
        '<td class="deltagere"></td>', '<td class="deltagere">Anne Bo (A)<br>Ole Hansen (V)</td>')
    assert parse_document(page.encode("utf-8")).participants == ("Anne Bo", "Ole Hansen")


def test_pdf_decision_printed_in_bold_stays_the_decision() -> None:
    first = [("title", "Punkt 1: Anlægsbevilling til ny skole i bydelen"), ("body", "EMN-2022-000101"),
             ("heading", "Beslutning"), ("heading", "Indstillingen blev godkendt."),
             ("heading", "Sagsfremstilling"), *[("body", f"Forvaltningen har udarbejdet forslag nr. {n}.")
                                                for n in range(8)]]
    second = [("title", "Punkt 2: Ny tidsplan"), ("body", "EMN-2022-000202"), ("heading", "Beslutning"),
              ("body", "Udsat."), ("heading", "Sagsfremstilling"), *[("body", "Tidsplanen er ændret.")] * 8]
    pdf = styled_pdf([_COVER, first, second])
    blocks, _ = extract_blocks(pdf)
    assert next(b for b in blocks if b.text == "Indstillingen blev godkendt.").style == "heading"
    item = parse_document(pdf).items[0]
    assert item.decision is not None and item.decision.text == "Indstillingen blev godkendt."
    assert item.decision.outcome is Outcome.APPROVED

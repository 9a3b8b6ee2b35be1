"""Native exports read from their structure: FirstAgenda portal JSON and SBSYS eDagsorden XML.

The real documents are scored with the project's copy of the scorer against their hand-made gold;
the rule tests use small hand-written exports, each built to make one rule visible. Expected values
are written from the documents, not from the parser's output.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from services.parser.core import UnsupportedDocument, detect_format, parse_document
from shared.contracts.meeting import DocumentKind, Outcome, ParsedMeeting
from tests.unit.parser.scoring import SCORER

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "real"
NATIVE_DOCS = {
    "greve-byraad-2022-11-07-referat.json": DocumentKind.MINUTES,
    "greve-klima-teknik-miljoeudvalget-2024-02-08-referat.json": DocumentKind.MINUTES,
    "ballerup-kmb-it-udvalget-2013-05-15-dagsorden.xml": DocumentKind.AGENDA,
}


SCORE = SCORER


def _real(name: str) -> ParsedMeeting:
    # No file name: the reader is chosen from the content alone.
    return parse_document((REAL / "docs" / name).read_bytes(), None)


# --- the real documents --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(NATIVE_DOCS))
def test_real_native_document_scores(name: str) -> None:
    gold = json.loads((REAL / "gold" / name.rsplit(".", 1)[0]).with_suffix(".json").read_text(encoding="utf-8"))
    pred = _real(name).model_dump(mode="json")
    checks = SCORE.score_doc(gold, pred)
    failed = [check for check, ok in checks if not ok]
    share = 1 - len(failed) / len(checks)
    assert share >= 0.95, f"{name}: {share:.3f}, failed: {failed}"


@pytest.mark.parametrize("name", sorted(NATIVE_DOCS))
def test_real_native_document_kind(name: str) -> None:
    meeting = _real(name)
    assert meeting.kind == NATIVE_DOCS[name]
    if meeting.kind == DocumentKind.AGENDA:
        assert meeting.decisions == []


def test_greve_byraad_header_and_history() -> None:
    meeting = _real("greve-byraad-2022-11-07-referat.json")
    assert meeting.committee == "Byråd"  # `Byråd 2022-2025` without its term
    assert meeting.start_time == "19:00"  # local time of 2022-11-07T19:00:00+01:00
    assert "John T. Olsen" not in meeting.participants
    assert len(meeting.participants) == 20
    item12 = next(i for i in meeting.items if i.number == 12)
    assert [(h.date, h.body) for h in item12.history] == [
        (dt.date(2022, 10, 13), "Klima-, Teknik- og Miljøudvalget"),
        (dt.date(2022, 10, 24), "Økonomiudvalget"),
    ]
    assert item12.history[0].text == "Anbefales."
    assert item12.decision is not None and "Økonomiudvalgets indstilling" in item12.decision.text
    closed = [i.number for i in meeting.items if i.is_closed]
    assert closed == [4, 5, 6, 7]
    item7 = next(i for i in meeting.items if i.number == 7)
    assert item7.title == "Forsikringsudbud - valg af optioner"
    assert item7.decision is not None and item7.decision.outcome == Outcome.POSTPONED


def test_greve_committee_afbud_is_attendance_not_decision() -> None:
    meeting = _real("greve-klima-teknik-miljoeudvalget-2024-02-08-referat.json")
    first = meeting.items[0]
    assert first.decision is not None and first.decision.text == "Godkendt."
    assert first.absent == ("Torben Hoffmann",)
    last = meeting.items[-1]
    assert last.title == "Underskriftsark" and last.decision is None and last.absent == ("Torben Hoffmann",)
    item6 = next(i for i in meeting.items if i.number == 6)
    # The 06-02-2024 `2. Ikke godkendt` of Plan- og Tryghedsudvalget is history; this meeting's is its own.
    assert item6.decision is not None and item6.decision.text.startswith("Ikke godkendt.")
    assert [h.body for h in item6.history][-1] == "Plan- og Tryghedsudvalget"
    assert item6.history[-1].date == dt.date(2024, 2, 6)
    names = [s.name for s in next(i for i in meeting.items if i.number == 2).sections]
    assert names[:5] == ["Beslutning", "Fremstilling", "Sagsprocedure", "Resume", "Indstilling"]


def test_ballerup_agenda_fields() -> None:
    meeting = _real("ballerup-kmb-it-udvalget-2013-05-15-dagsorden.xml")
    assert meeting.municipality == "Ballerup"
    assert meeting.location == "Mødecenter A, Lokale 3 på Ballerup Rådhus"
    assert "Doris Børger" in meeting.participants and "Doris Børger (A)" not in meeting.participants
    item2 = meeting.items[1]
    assert item2.case_number is None  # Case/Number empty, NumberAndTitle "-"
    assert [(h.date, h.body) for h in item2.history] == [(dt.date(2012, 12, 5), "KMB IT-udvalget")]
    recommendation = next(s for s in item2.sections if s.name == "Indstilling")
    # The lettered points of the `<ol style="list-style-type: upper-alpha">` keep their letters.
    assert "\nA. Gennemførelse af pilottest" in recommendation.text
    assert "\nB. Pilottesten gennemføres" in recommendation.text
    assert meeting.items[2].attachments == ("Brev fra KL til Kommunalbestyrelsen vedr Monopolbrud",)


# --- FirstAgenda rules on hand-written exports -----------------------------------------------------


def _fa_item(number: int, title: str, html: str, **extra: Any) -> dict[str, Any]:
    return {
        "Punktnummer": str(number), "Navn": title, "SagsNummer": extra.pop("case", "23-000001"),
        "Bilag": extra.pop("bilag", []), "ExternalAgendaItemAttendees": [],
        "Felter": [{"Navn": "", "Html": html, "Link": extra.pop("link", "")}], **extra,
    }


def _fa_doc(items: list[dict[str, Any]], *, members: list[dict[str, Any]] | None = None,
            finished: bool = True, committee: str = "Økonomiudvalget 2022-2025") -> bytes:
    doc = {
        "Udvalg": {"Navn": committee},
        "Moede": {"Dato": "2023-03-01T16:30:00+01:00", "Sted": "Mødelokale 2", "Afsluttet": finished,
                  "Moededeltagere": members or [{"Name": "Anne Holm", "Absent": False,
                                                 "ParticipationCancelled": False}]},
        "Dagsordenpunkter": items,
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _decided(text: str, case: str = "<p>Sagen handler om noget.</p>") -> str:
    return (f"<div><h3>Beslutning</h3><span>{text}</span></div>"
            f"<h3>Fremstilling</h3><span class='ukendt'><h4>Resume</h4>{case}</span>")


def test_firstagenda_header_and_local_start_time() -> None:
    meeting = parse_document(_fa_doc([_fa_item(1, "Godkendelse af dagsorden", _decided("Godkendt."))]))
    assert meeting.committee == "Økonomiudvalget"
    assert meeting.meeting_date == dt.date(2023, 3, 1)
    assert meeting.start_time == "16:30"
    assert meeting.location == "Mødelokale 2"
    assert meeting.kind == DocumentKind.MINUTES
    assert meeting.items[0].decision is not None and meeting.items[0].decision.outcome == Outcome.APPROVED


@pytest.mark.parametrize("placeholder", ["", " ", "-", "Tomt indhold", "<br><br>"])
def test_firstagenda_placeholder_decision_is_no_decision(placeholder: str) -> None:
    meeting = parse_document(_fa_doc([_fa_item(1, "Sag", _decided(placeholder))], finished=False))
    assert meeting.items[0].decision is None
    assert meeting.kind == DocumentKind.AGENDA


def test_firstagenda_absent_member_is_absent_on_every_item() -> None:
    members = [
        {"Name": "Anne Holm", "Absent": False, "ParticipationCancelled": False},
        {"Name": "Bo Lund (V)", "Absent": True, "ParticipationCancelled": False},
        {"Name": "Carl Berg", "Absent": False, "ParticipationCancelled": True},
    ]
    items = [_fa_item(1, "Sag A", _decided("Godkendt.")), _fa_item(2, "Sag B", _decided("Fraværende: Dorte Vang"))]
    meeting = parse_document(_fa_doc(items, members=members))
    assert meeting.participants == ("Anne Holm",)
    assert set(meeting.items[0].absent) == {"Bo Lund", "Carl Berg"}
    # An attendance line alone is no decision, but its name is absent on that item.
    assert meeting.items[1].decision is None
    assert set(meeting.items[1].absent) == {"Bo Lund", "Carl Berg", "Dorte Vang"}


def test_firstagenda_municipality_from_the_portal_domain() -> None:
    item = _fa_item(1, "Sag", _decided("Taget til efterretning."),
                    link="https://dagsordener.vejle.dk/Vis/Pdf/bilag/0000")
    meeting = parse_document(_fa_doc([item]))
    assert meeting.municipality == "Vejle"
    assert meeting.items[0].decision is not None and meeting.items[0].decision.outcome == Outcome.NOTED


def test_firstagenda_case_history_and_proposal_wording_are_not_the_decision() -> None:
    html = (
        "<div><h3>Beslutning</h3><span></span></div><h3>Fremstilling</h3><span class='ukendt'>"
        "<h4>Sagsbeskrivelse</h4><p><strong>Beslutning</strong></p><p>Forslaget vedtages.</p></span>"
        "<h3>Sagens forløb</h3><span class='sagsforloeb'><u>14-02-2023 Teknik- og Miljøudvalget</u><br>"
        "<p>Anbefales.</p><br></span>"
    )
    meeting = parse_document(_fa_doc([_fa_item(1, "Forslag fra et medlem", html)], finished=False))
    item = meeting.items[0]
    assert item.decision is None
    assert [(h.date, h.body, h.text) for h in item.history] == [
        (dt.date(2023, 2, 14), "Teknik- og Miljøudvalget", "Anbefales.")
    ]
    assert meeting.kind == DocumentKind.AGENDA


def test_firstagenda_closed_item_body_is_the_minute() -> None:
    items = [
        _fa_item(1, "Sag", _decided("Godkendt.")),
        _fa_item(2, "Lukket: Køb af ejendom", "<div><p>Byrådet godkendte købet.</p><p>Afbud: Eva Juhl</p></div>",
                 case="-", bilag=[{"Navn": "Bilag 1 - Kort"}]),
    ]
    meeting = parse_document(_fa_doc(items))
    closed = meeting.items[1]
    assert closed.is_closed and closed.title == "Køb af ejendom"
    assert closed.case_number is None
    assert closed.decision is not None and closed.decision.text == "Byrådet godkendte købet."
    assert closed.absent == ("Eva Juhl",)
    assert closed.attachments == ("Bilag 1 - Kort",)


def test_firstagenda_named_fields_and_plain_text() -> None:
    item = _fa_item(1, "Sag", "<p>Sagen handler om noget.</p>")
    item["Felter"] = [
        {"Navn": "Beslutning", "Html": "<p>Udsat.</p>"},
        {"Navn": "Sagsfremstilling", "Html": None, "Tekst": "Første linje\nAnden linje"},
    ]
    meeting = parse_document(_fa_doc([item]))
    got = meeting.items[0]
    assert got.decision is not None and got.decision.outcome == Outcome.POSTPONED
    assert [(s.name, s.text) for s in got.sections] == [
        ("Beslutning", "Udsat."), ("Sagsfremstilling", "Første linje\nAnden linje")
    ]


# --- SBSYS rules on hand-written publications --------------------------------------------------------


def _field(caption: str, content: str, *, feedback: bool = False) -> str:
    has = "True" if content.strip() else "False"
    return (f"<ItemField><Caption><![CDATA[{caption}]]></Caption><HasContent>{has}</HasContent>"
            f"<IsFeedback>{feedback}</IsFeedback><Content><![CDATA[{content}]]></Content></ItemField>")


def _sbsys(fields: str, *, kind: str = "Final", published: str = "20-06-2013 09:00:00",
           members: str = "") -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Publication>
  <Published>{published}</Published>
  <PublishedBy><EmailAddress>sek@vejle.dk</EmailAddress></PublishedBy>
  <PublicationTypeAsEnum>{kind}</PublicationTypeAsEnum>
  <Agendas><Agenda>
    <Meeting><Members>{members or '''<MeetingMember><Name>Anne Holm (A)</Name>
        <ParticipationStatusAsText>Participating</ParticipationStatusAsText></MeetingMember>'''}</Members>
      <When>19-06-2013 15:00:00</When><Where>Byrådssalen</Where></Meeting>
    <Name>Teknisk Udvalg</Name>
    <Items><Item><Caption>Vejplan</Caption><Case><Number>05.01.00-P00-1-13</Number></Case>
      <IsPublic>True</IsPublic><Number>1</Number><Fields>{fields}</Fields></Item></Items>
  </Agenda></Agendas>
</Publication>""".encode()


def test_sbsys_decision_known_by_feedback_flag_whatever_its_caption() -> None:
    fields = (_field("Resumé", "<p>Planen for veje.</p>")
              + _field("Beslutningen træffes af", "<p>Teknisk Udvalg</p>")
              + _field("Udvalgets stillingtagen", "<p>Godkendt.</p><p>Fraværende: Bo Lund</p>", feedback=True))
    meeting = parse_document(_sbsys(fields))
    assert meeting.kind == DocumentKind.MINUTES
    assert meeting.municipality == "Vejle"
    assert meeting.committee == "Teknisk Udvalg"
    assert meeting.start_time == "15:00" and meeting.meeting_date == dt.date(2013, 6, 19)
    item = meeting.items[0]
    assert item.case_number == "05.01.00-P00-1-13"
    assert item.decision is not None and item.decision.text == "Godkendt."
    assert item.decision.outcome == Outcome.APPROVED
    assert item.absent == ("Bo Lund",)
    assert [s.name for s in item.sections] == ["Resumé", "Beslutningen træffes af", "Udvalgets stillingtagen"]


def test_sbsys_who_decides_is_not_a_decision() -> None:
    fields = _field("Beslutningen træffes af", "<p>Teknisk Udvalg</p>") + _field("Beslutning", "", feedback=True)
    meeting = parse_document(_sbsys(fields))
    assert meeting.items[0].decision is None
    assert meeting.kind == DocumentKind.AGENDA


def test_sbsys_draft_never_carries_a_decision() -> None:
    meeting = parse_document(_sbsys(_field("Beslutning", "<p>Godkendt.</p>", feedback=True), kind="Draft"))
    assert meeting.kind == DocumentKind.AGENDA
    assert meeting.items[0].decision is None
    assert meeting.items[0].sections[0].text == "Godkendt."  # kept as a section, not as a decision


def test_sbsys_publication_before_the_meeting_is_an_agenda() -> None:
    data = _sbsys(_field("Beslutning", "<p>Godkendt.</p>", feedback=True), published="12-06-2013 10:00:00")
    assert parse_document(data).items[0].decision is None


ABSENT_MEMBERS = """
  <MeetingMember><Name>Anne Holm</Name><ParticipationStatusAsText>Participating</ParticipationStatusAsText>
  </MeetingMember>
  <MeetingMember><Name>Bo Lund (V)</Name><ParticipationStatusAsText>Absent</ParticipationStatusAsText>
  </MeetingMember>"""


def test_sbsys_placeholder_is_no_decision() -> None:
    meeting = parse_document(_sbsys(_field("Beslutning", "<p>Tomt indhold</p>", feedback=True),
                                    members=ABSENT_MEMBERS))
    assert meeting.items[0].decision is None
    assert meeting.kind == DocumentKind.AGENDA
    assert meeting.participants == ("Anne Holm",)


def test_sbsys_member_absent_from_the_meeting_is_absent_on_its_items() -> None:
    meeting = parse_document(_sbsys(_field("Beslutning", "<p>Godkendt.</p>", feedback=True), members=ABSENT_MEMBERS))
    assert meeting.participants == ("Anne Holm",)
    assert meeting.items[0].absent == ("Bo Lund",)


def test_sbsys_decision_of_an_earlier_meeting_is_history() -> None:
    fields = (_field("Beslutning i Økonomiudvalget den 4. juni 2013", "<p>Anbefales.</p>", feedback=True)
              + _field("Beslutning", "<p>Ikke godkendt.</p>", feedback=True))
    item = parse_document(_sbsys(fields)).items[0]
    assert item.decision is not None and item.decision.outcome == Outcome.REJECTED
    assert [(h.date, h.body, h.text) for h in item.history] == [(dt.date(2013, 6, 4), "Økonomiudvalget", "Anbefales.")]


def test_sbsys_agenda_quoting_only_earlier_decisions_has_none() -> None:
    fields = _field("Beslutning i Økonomiudvalget den 4. juni 2013", "<p>Anbefales.</p>", feedback=True)
    meeting = parse_document(_sbsys(fields))
    assert meeting.items[0].decision is None
    assert meeting.kind == DocumentKind.AGENDA
    assert len(meeting.items[0].history) == 1


def test_sbsys_attachments_from_enclosures_or_bilag_field() -> None:
    fields = _field("Bilag", "<ul><li>Kort over vejen</li><li>Høringssvar</li></ul>")
    assert parse_document(_sbsys(fields)).items[0].attachments == ("Kort over vejen", "Høringssvar")


def test_sbsys_earlier_decision_in_history_field() -> None:
    fields = (_field("Tidligere behandling", "<p>Teknisk Udvalg den 8. maj 2013 Punkt 4</p><p>Sagen blev udsat.</p>")
              + _field("Beslutning", "<p>Anbefales.</p>", feedback=True))
    item = parse_document(_sbsys(fields)).items[0]
    assert [(h.date, h.body, h.text) for h in item.history] == [
        (dt.date(2013, 5, 8), "Teknisk Udvalg", "Sagen blev udsat.")
    ]
    assert item.decision is not None and item.decision.outcome == Outcome.RECOMMENDED


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "start"),
    [
        (b'{"foo": 1}', "format not supported: JSON that is not a FirstAgenda meeting (top-level keys: foo)"),
        (b"[1, 2]", "format not supported: JSON that is not a FirstAgenda meeting (top level is an array)"),
        (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>',
         "format not supported: XML that is not an SBSYS eDagsorden publication, an eDoc meeting or an Acadre "
         "agenda export (root element <rss> with <channel>)"),
        (b"<Publication><Published>1</Published></Publication>", "format not supported: XML"),
    ],
)
def test_other_json_and_xml_are_not_supported(data: bytes, start: str) -> None:
    with pytest.raises(UnsupportedDocument) as err:
        parse_document(data)
    assert str(err.value).startswith(start)


@pytest.mark.parametrize(
    ("data", "start"),
    [
        (b'{"Moede": {"Dato": ', "malformed JSON"),
        (b'{"Dagsordenpunkter": [}', "malformed JSON"),
        (b'<?xml version="1.0"?><Publication><Agendas>', "malformed XML"),
        (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "malformed JSON: nested too deeply"),
    ],
    ids=["json-cut-short", "json-bad-array", "xml-unclosed", "json-too-deep"],
)
def test_malformed_exports_are_refused_clearly(data: bytes, start: str) -> None:
    with pytest.raises(UnsupportedDocument) as err:
        parse_document(data)
    assert str(err.value).startswith(start)


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Publication><Published>&lol4;</Published></Publication>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<Publication><Published>&x;</Published></Publication>"""


@pytest.mark.parametrize("data", [BOMB, XXE], ids=["entity-bomb", "external-entity"])
def test_xml_entities_are_refused(data: bytes) -> None:
    with pytest.raises(UnsupportedDocument, match="DTD"):
        parse_document(data)


def test_detection_is_by_content() -> None:
    assert detect_format(b'\xef\xbb\xbf {"Dagsordenpunkter": []}\n') == "json"
    assert detect_format(b"<Publication><Agendas/></Publication>") == "xml"
    # HTML field bodies inside CDATA do not make an XML export an HTML page.
    assert detect_format(_sbsys(_field("Sagsfremstilling", "<p>a</p><div>b</div><p>c</p><br>"))) == "xml"
    assert detect_format(b"<html><body><p>Referat</p></body></html>") == "html"
    assert detect_format("Referat af mødet {udkast}\nPunkt 1".encode()) == "txt"
    # A misleading name changes nothing.
    assert parse_document(_fa_doc([_fa_item(1, "Sag", _decided("Godkendt."))]), "referat.pdf").items[0].number == 1

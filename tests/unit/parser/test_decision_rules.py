"""This meeting's decision only, outcomes from the whole decision, attendance, header forms, regions.

Hand-made fixtures in the shapes the corpus's families print; each test shows one rule.
"""

from __future__ import annotations

import pytest

from services.parser.core import parse_text
from services.parser.core.decisions import classify_outcome
from services.parser.core.header import split_people
from shared.contracts.meeting import DocumentKind, Outcome

_HEAD = "REFERAT Økonomiudvalget d. 04-12-2012\nMødedato Tirsdag d. 4. december 2012 kl. 13:00\nMødested Rådhuset\n"


def _one_item(body: str, head: str = _HEAD) -> str:
    return f"{head}Punkt 1: Salg af grund ved havnen\n12/3456\n{body}"


def test_a_wrapped_sentence_with_a_date_is_no_decision_heading() -> None:
    text = _one_item(
        "Beslutninger\n"
        "Tilbagesendes forvaltningen med bemærkning, at byrådet i sit møde den 4. december 2012 har\n"
        "vedtaget Økonomiudvalgets indstilling af 19. november 2012.\n"
        "Venstres byrådsgruppe kunne ikke tiltræde indstillingen.\n"
    )
    decision = parse_text(text).items[0].decision
    assert decision is not None
    assert "vedtaget Økonomiudvalgets indstilling" in decision.text
    assert decision.outcome is Outcome.APPROVED  # the group's position does not decide the item


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("Et flertal i udvalget kunne tiltræde indstillingen.\nKaren Dahl kunne ikke tiltræde indstillingen.",
         Outcome.APPROVED),
        ("Udvalget kunne ikke anbefale indstillingen.", Outcome.REJECTED),
        ("Jakob Clausen tog forbehold.\nIndstillingen blev godkendt.", Outcome.APPROVED),
        ("Et mindretal (O) kunne ikke tiltræde.\nAnbefales.", Outcome.RECOMMENDED),
        ("Venstre kunne ikke tiltræde indstillingen.", Outcome.OTHER),
        ("Fremsendes til Teknisk Udvalg til behandling.", Outcome.OTHER),
    ],
)
def test_outcome_comes_from_the_body_not_from_members_positions(text: str, outcome: Outcome) -> None:
    assert classify_outcome(text) is outcome


def test_earlier_dated_decisions_are_history_not_the_decision() -> None:
    text = _one_item(
        "Sagsfremstilling\nGrunden er udbudt.\n"
        "Beslutning i Økonomiudvalget den 18-09-2012\nSagen udsat.\n"
        "Beslutning i Økonomiudvalget den 04-12-2012\nGodkendt.\n"
    )
    item = parse_text(text).items[0]
    assert item.decision is not None and item.decision.text == "Godkendt."
    assert [(h.date.isoformat() if h.date else None, h.body, h.text) for h in item.history] == [
        ("2012-09-18", "Økonomiudvalget", "Sagen udsat.")]


def test_history_section_entries_by_date_heading() -> None:
    text = _one_item(
        "Tidligere behandling\n18. september 2012: Sagen udsat.\n2. oktober 2012: Sagen genoptages.\n"
        "Beslutning\nGodkendt.\n"
    )
    item = parse_text(text).items[0]
    assert [(h.date.isoformat() if h.date else None, h.text) for h in item.history] == [
        ("2012-09-18", "Sagen udsat."), ("2012-10-02", "Sagen genoptages.")]
    assert item.decision is not None and item.decision.outcome is Outcome.APPROVED


def test_an_agenda_with_only_earlier_decisions_announces_nothing() -> None:
    head = "DAGSORDEN Økonomiudvalget d. 04-12-2012\nMødedato Tirsdag d. 4. december 2012 kl. 13:00\n"
    text = _one_item("Beslutning i Økonomiudvalget den 18-09-2012\nSagen udsat.\n", head)
    meeting = parse_text(text)
    assert meeting.kind is DocumentKind.AGENDA
    assert meeting.decisions == []
    assert len(meeting.items[0].history) == 1


def test_an_agenda_never_carries_a_decision_even_with_a_decision_heading() -> None:
    head = "DAGSORDEN Økonomiudvalget d. 04-12-2012\nMødedato Tirsdag d. 4. december 2012 kl. 13:00\n"
    meeting = parse_text(_one_item("Indstilling\nDirektøren indstiller, at grunden sælges.\nBeslutning\nGodkendt.\n",
                                   head))
    assert meeting.kind is DocumentKind.AGENDA
    assert meeting.decisions == []


def test_agenda_with_decisions_is_minutes() -> None:
    head = "Dagsorden med beslutninger Økonomiudvalget d. 04-12-2012\nMødedato 4. december 2012\n"
    meeting = parse_text(_one_item("Beslutning\nGodkendt.\n", head))
    assert meeting.kind is DocumentKind.MINUTES
    assert len(meeting.decisions) == 1


def test_a_placeholder_is_no_decision() -> None:
    meeting = parse_text(_one_item("Beslutning\nTomt indhold\n"))
    assert meeting.items[0].decision is None


def test_a_closed_item_printed_as_its_minute_alone() -> None:
    text = (f"{_HEAD}Punkt 1: Lukket: Køb af ejendom\n12/3456\n"
            "Tilbagesendes forvaltningen med bemærkning, at byrådet har vedtaget indstillingen.\n")
    item = parse_text(text).items[0]
    assert item.is_closed
    assert item.decision is not None and item.decision.outcome is Outcome.APPROVED


def test_absence_from_this_meeting_without_titles() -> None:
    text = _one_item(
        "Beslutning\nGodkendt.\nRådmand Anne Bo var forhindret i at deltage i udvalgets behandling af sagen.\n")
    assert parse_text(text).items[0].absent == ("Anne Bo",)


def test_participants_without_roles() -> None:
    assert split_people("Eva Holm - formand, Anne Hansen (V), næstformand, Rådmand Ole Bo og Eva Ny") == [
        "Eva Holm", "Anne Hansen", "Ole Bo", "Eva Ny"]


def test_cover_with_time_and_address_on_lines_of_their_own() -> None:
    text = ("Referat\nUdvalget for teknik og miljø\nTorsdag den 20. juni 2013\nKl. 10:30\nKursuscentret\n"
            "Strandvejen 4\n8300 Odder\nMedlemmer\nAnne Bo (A)\nOle Hansen (V)\n"
            "715. Trafikplan\nSagsnr.: 13/10102\nBeslutning\nGodkendt.\n")
    meeting = parse_text(text)
    assert (meeting.start_time, meeting.location) == ("10:30", "Kursuscentret, Strandvejen 4, 8300 Odder")
    assert meeting.participants == ("Anne Bo", "Ole Hansen")


def test_date_and_time_on_one_line_with_a_comma() -> None:
    text = _one_item("Beslutning\nGodkendt.\n", "Referat\nByrådet\nTirsdag den 4. december 2012, kl. 13:00\n")
    meeting = parse_text(text)
    assert (meeting.meeting_date.isoformat() if meeting.meeting_date else None, meeting.start_time) == (
        "2012-12-04", "13:00")


def test_a_region_is_a_body_of_its_own_and_a_place_name_is_no_municipality() -> None:
    text = ("Referat\nRegionsrådet, Region Hovedstaden\nMødedato: 12-05-2022 kl. 17:00\n"
            "Punkt 1: Akutklinik\nSagsnr.: 22/1234\nSagsfremstilling\nAkutklinikken på Bornholms Hospital udvides.\n"
            "Beslutning\nGodkendt.\n")
    meeting = parse_text(text)
    assert (meeting.region, meeting.municipality, meeting.committee) == ("Region Hovedstaden", None, "Regionsrådet")


def test_a_place_name_in_the_case_text_does_not_make_a_municipality() -> None:
    text = ("Referat\nBestyrelsen for Trafikselskabet\nMødedato: 12-05-2022\n"
            "Punkt 1: Ny rute\nSagsnr.: 22/1234\nSagsfremstilling\nRuten kører fra Esbjerg til Ribe.\n"
            "Beslutning\nGodkendt.\n")
    assert parse_text(text).municipality is None


def test_two_column_cover_and_case_labels_are_paired() -> None:
    """A PDF's label column read before its value column (Acadre, eDoc covers): labels meet their values."""
    text = ("Referat\nØkonomiudvalget\nMødedato\nMødested\nOnsdag den 12. maj 2022 kl. 16.00\nRådhuset, mødelokale 2\n"
            "Punkt 1: Salg af grund\nSagsnr.:\nSagen afgøres i:\n22/10554\nByrådet\nBeslutning\nAnbefales.\n")
    meeting = parse_text(text)
    assert (meeting.start_time, meeting.location) == ("16:00", "Rådhuset, mødelokale 2")
    assert meeting.items[0].case_number == "22/10554"


@pytest.mark.parametrize(
    ("line", "time"),
    [("Mødedato: 2022-11-07T19:00:00+01:00", "19:00"), ("Mødedato: tirsdag den 4. december 2012, kl. 13:00", "13:00"),
     ("Mødedato: 4. december 2012 16:00-18:00", "16:00")],
)
def test_start_time_forms(line: str, time: str) -> None:
    meeting = parse_text(_one_item("Beslutning\nGodkendt.\n", f"Referat\nByrådet\n{line}\n"))
    assert meeting.start_time == time


def test_document_numbers_under_an_attachment_are_no_attachment() -> None:
    text = _one_item(
        "Beslutning\nGodkendt.\nBilag\n1 Åben Notat om økonomi\n222359/12\n2 Åben Kort over området\n58688/13\n")
    assert parse_text(text).items[0].attachments == ("1 Åben Notat om økonomi", "2 Åben Kort over området")


def test_a_region_named_among_the_participants_does_not_make_the_body_a_region() -> None:
    text = ("Referat\nSocial- og Sundhedsudvalget\nMødedato: 12-05-2022\nMødested: Rådhuset\n"
            "Deltagere: Anne Bo, Ole Hansen\nGæst: Eva Holm, Region Syddanmark\n"
            "Punkt 1: Sundhedsaftale\nSagsnr.: 22/1234\nBeslutning\nGodkendt.\nHaderslev Kommune\n")
    meeting = parse_text(text)
    assert meeting.region is None


def test_a_decision_in_capitals_is_the_decision() -> None:
    item = parse_text(_one_item("Beslutning\nGodkendt.\nSAGEN OVERSENDES TIL BYRÅDET.\n")).items[0]
    assert item.decision is not None and "SAGEN OVERSENDES" in item.decision.text

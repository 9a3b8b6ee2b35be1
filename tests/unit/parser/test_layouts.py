"""Hand-written documents for the layout families of LAYOUTS.md; expected values read off each text."""

from __future__ import annotations

import datetime as dt

import pytest

from services.parser.core import NotMinutes, parse_text
from services.parser.core.decisions import classify_outcome
from shared.contracts.meeting import DocumentKind, Outcome

POLWEB = """Referat
Økonomiudvalget
Mødedato: 12. maj 2022, kl. 15.00
Mødested: Rådhuset, mødelokale 2
Deltagere: Anne Hansen (A), Bo Jensen (V), Carl Nielsen (C), Dorte Madsen (O)
Afbud: Dorte Madsen (O)

Pkt. 42 Godkendelse af dagsorden
Sag 306-2009-600
Beslutning:
Godkendt.

Pkt. 43 Budgetopfølgning pr. 31. marts 2022
Sagsnr.: 330-2020-164  Dok.nr.: 55512
Sagsfremstilling
Forbruget følger budgettet.
Indstilling
Direktionen indstiller, at budgetopfølgningen godkendes.
Beslutning i Økonomiudvalget den 12-05-2022
Anbefales til Byrådets godkendelse.
For stemte: A, C og V (6)
Imod stemte: O (1)
Undlod at stemme: F
Fraværende: Erik Holm (V) - Finn Lund (V) mødte som stedfortræder

Pkt. 44 Lukket: Køb af ejendom
Sagsid.: 20/33839
Beslutning
Godkendt.
"""

CHAIN = """Byrådet
Dagsorden med beslutninger
Mødedato: Tirsdag den 24. maj 2022
Tidspunkt: Kl. 17.00
Sted: Byrådssalen, Randers Rådhus

1. Godkendelse af dagsorden (B)
Sagsid.: 22/1001
Beslutning i Byrådet den 24-05-2022
Godkendt.

2. Orientering fra borgmesteren (O)
Sagsid.: 22/1002
Sagsfremstilling
Borgmesteren orienterer om aktuelle sager.
1. Status på byggeriet
2. Nyt fra KKR
Beslutning i Byrådet den 24-05-2022
Taget til efterretning.

3. Anlægsbevilling til ny skole (B)
Sagsid.: 22/1003
Indstilling
Direktionen indstiller, at
1. der gives en anlægsbevilling på 10 mio. kr.
2. beløbet finansieres af kassen.
Beslutning fra Økonomiudvalget, 12. maj 2022, punkt 125:
1. Indstilles godkendt.
Beslutning fra Byrådet, 24. maj 2022, punkt 200:
Et flertal bestående af A, C, N og V (20) godkendte indstillingen.
Et mindretal bestående af O (3) stemte imod.
Bilag
Skitseprojekt.pdf
Økonomioversigt.pdf

4. Lukket punkt: Salg af grund (B)
Beslutning i Byrådet den 24-05-2022
Udsat.
Anne Hansen (A) deltog ikke i sagens behandling.
"""

GLUED = """Referat
Teknik- og Miljøudvalget
Dato: 01.02.2021
Starttidspunkt: 16:30
Mødested: Aalborg Rådhus, lokale 3

38Godkendelse af dagsorden
Sagsnr. 299835
Beslutning
Godkendt.

39Vejplan 2021
Sagsnr. 299836
Beslutning
Drøftet.
Fraværende: Ingen
"""

BARE_NUMBER = """Referat
Kultur- og Fritidsudvalget
Mødedato
7. juni 2021
Sted
Kulturhuset, Silkeborg
Hent som PDF
Kopier link
12
Tilskud til foreninger
Sagsnr.: 21/4455
Beslutning
Sagen udsættes.
13
Ny idrætspolitik
Sagsnr.: 21/4456
Beslutning
Ikke godkendt.
"""

AGENDA = """DAGSORDEN Børne- og Skoleudvalget d. 03-03-2023
Mødedato Fredag d. 03. marts 2023 kl. 09:00
Mødested Hedensted Rådhus, lokale 1

Punkt 1: Godkendelse af dagsorden
23/100
Indstilling
Forvaltningen indstiller, at dagsordenen godkendes.
Beslutning

Punkt 2: Skolestruktur
23/101
Sagsfremstilling
Der foreslås en ny skolestruktur.
Indstilling
Forvaltningen indstiller, at forslaget godkendes.
Beslutning fra Økonomiudvalget, 15. februar 2023, pkt. 12:
Anbefales.
Beslutning
"""

ATTENDANCE = """REFERAT Socialudvalget d. 10-01-2024
Mødedato Onsdag d. 10. januar 2024 kl. 14:00
Mødested Viborg Rådhus

Punkt 1: Godkendelse af dagsorden
24/1
Beslutning
Godkendt.
Ikke til stede: Karen Bech (F)

Punkt 2: Kvalitetsrapport
24/2
Beslutning
Taget til efterretning.
Følgende deltog ikke i behandlingen af punktet: Lars Ravn og Mette Skov

Punkt 3: Budget
24/3
Beslutning
Godkendt.
Ole Dam (V) havde meldt afbud, og Per Ny (V) deltog i stedet.

Punkt 4: Lukket punkt
24/4
Lukket punkt
"""

GENITIVE = """Referat
Økonomiudvalget
Mødedato: 04.12.2012 kl. 16.00
Mødested: Holbæk Rådhus

Punkt 1 Meddelelser
12/900
Beslutninger
Tiltrådt.
Sagsfremstilling
Intet at bemærke.
Punkt 2 Regnskab
12/901
Økonomiudvalgets beslutning den 04.12.2012 Punkt 2
Indstillingen godkendt.
"""


def _item(meeting, number):  # type: ignore[no-untyped-def]
    return next(item for item in meeting.items if item.number == number)


def test_polweb_pkt_numbering_case_labels_votes() -> None:
    meeting = parse_text(POLWEB)
    assert meeting.committee == "Økonomiudvalget"
    assert meeting.meeting_date == dt.date(2022, 5, 12)
    assert meeting.start_time == "15:00"
    assert meeting.location == "Rådhuset, mødelokale 2"
    assert set(meeting.participants) == {"Anne Hansen", "Bo Jensen", "Carl Nielsen"}
    assert meeting.municipality == "Odsherred"
    assert meeting.municipality_code == 306
    assert [i.number for i in meeting.items] == [42, 43, 44]
    assert _item(meeting, 42).case_number == "306-2009-600"
    assert _item(meeting, 42).decision is not None
    assert _item(meeting, 42).decision.outcome == Outcome.APPROVED
    item = _item(meeting, 43)
    assert item.title == "Budgetopfølgning pr. 31. marts 2022"
    assert item.case_number == "330-2020-164"
    assert item.decision is not None
    assert item.decision.outcome == Outcome.RECOMMENDED
    assert item.votes is not None
    assert item.votes.in_favour == ("A", "C", "V")
    assert item.votes.in_favour_count == 6
    assert item.votes.against == ("O",)
    assert item.votes.against_count == 1
    assert item.votes.abstaining == ("F",)
    assert item.absent == ("Erik Holm",)
    closed = _item(meeting, 44)
    assert closed.is_closed
    assert closed.title == "Køb af ejendom"
    assert closed.case_number == "20/33839"


def test_numbered_items_with_kind_letters_and_decision_chain() -> None:
    meeting = parse_text(CHAIN)
    assert meeting.kind == DocumentKind.MINUTES
    assert meeting.committee == "Byrådet"
    assert meeting.meeting_date == dt.date(2022, 5, 24)
    assert meeting.start_time == "17:00"
    assert meeting.municipality == "Randers"
    assert [i.number for i in meeting.items] == [1, 2, 3, 4]
    assert _item(meeting, 1).title == "Godkendelse af dagsorden"
    assert _item(meeting, 2).decision is not None
    assert _item(meeting, 2).decision.outcome == Outcome.NOTED
    chained = _item(meeting, 3)
    assert chained.decision is not None
    assert "godkendte indstillingen" in chained.decision.text
    assert "Indstilles godkendt" not in chained.decision.text  # the Økonomiudvalget step is history
    assert chained.decision.outcome == Outcome.APPROVED
    assert chained.votes is not None
    assert chained.votes.in_favour == ("A", "C", "N", "V")
    assert chained.votes.in_favour_count == 20
    assert chained.votes.against == ("O",)
    assert chained.votes.against_count == 3
    assert chained.attachments == ("Skitseprojekt.pdf", "Økonomioversigt.pdf")
    last = _item(meeting, 4)
    assert last.is_closed
    assert last.title == "Salg af grund"
    assert last.decision is not None
    assert last.decision.outcome == Outcome.POSTPONED
    assert last.absent == ("Anne Hansen",)


def test_number_glued_to_title() -> None:
    meeting = parse_text(GLUED)
    assert [(i.number, i.title) for i in meeting.items] == [(38, "Godkendelse af dagsorden"), (39, "Vejplan 2021")]
    assert meeting.committee == "Teknik- og Miljøudvalget"
    assert meeting.meeting_date == dt.date(2021, 2, 1)
    assert meeting.start_time == "16:30"
    assert meeting.municipality == "Aalborg"
    assert _item(meeting, 38).case_number == "299835"
    assert _item(meeting, 39).decision is not None
    assert _item(meeting, 39).decision.outcome == Outcome.DISCUSSED
    assert _item(meeting, 39).absent == ()


def test_number_alone_on_its_line_and_portal_labels() -> None:
    meeting = parse_text(BARE_NUMBER)
    assert [(i.number, i.title) for i in meeting.items] == [(12, "Tilskud til foreninger"), (13, "Ny idrætspolitik")]
    assert meeting.meeting_date == dt.date(2021, 6, 7)
    assert meeting.location == "Kulturhuset, Silkeborg"
    assert meeting.committee == "Kultur- og Fritidsudvalget"
    assert _item(meeting, 12).decision is not None
    assert _item(meeting, 12).decision.outcome == Outcome.POSTPONED
    assert _item(meeting, 13).decision is not None
    assert _item(meeting, 13).decision.outcome == Outcome.REJECTED


def test_agenda_has_no_decisions() -> None:
    meeting = parse_text(AGENDA)
    assert meeting.kind == DocumentKind.AGENDA
    assert meeting.committee == "Børne- og Skoleudvalget"
    assert meeting.municipality == "Hedensted"
    assert [i.number for i in meeting.items] == [1, 2]
    assert all(item.decision is None for item in meeting.items)
    assert meeting.decisions == []


def test_attendance_phrasings_and_closed_marker_line() -> None:
    meeting = parse_text(ATTENDANCE)
    assert _item(meeting, 1).absent == ("Karen Bech",)
    assert set(_item(meeting, 2).absent) == {"Lars Ravn", "Mette Skov"}
    assert _item(meeting, 3).absent == ("Ole Dam",)
    assert _item(meeting, 4).is_closed
    assert _item(meeting, 4).decision is None


def test_genitive_decision_heading_and_decisions_before_case_text() -> None:
    meeting = parse_text(GENITIVE)
    assert meeting.municipality == "Holbæk"
    assert [i.number for i in meeting.items] == [1, 2]
    assert _item(meeting, 1).decision is not None
    assert _item(meeting, 1).decision.text == "Tiltrådt."
    assert _item(meeting, 2).decision is not None
    assert _item(meeting, 2).decision.outcome == Outcome.APPROVED


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("Godkendt.", Outcome.APPROVED),
        ("Indstillingen godkendt.", Outcome.APPROVED),
        ("Tiltrådt.", Outcome.APPROVED),
        ("Vedtaget.", Outcome.APPROVED),
        ("Anbefales.", Outcome.RECOMMENDED),
        ("Indstilles godkendt.", Outcome.RECOMMENDED),
        ("Indstilles til byrådets godkendelse.", Outcome.RECOMMENDED),
        ("Udvalget anbefaler Økonomiudvalget og Byrådet at godkende planen.", Outcome.RECOMMENDED),
        ("Taget til efterretning.", Outcome.NOTED),
        ("Til efterretning.", Outcome.NOTED),
        ("Udvalget tog sagen til efterretning.", Outcome.NOTED),
        ("Drøftet.", Outcome.DISCUSSED),
        ("Opsamling på temaet \"udsathed\" blev drøftet.", Outcome.DISCUSSED),
        ("Udsat.", Outcome.POSTPONED),
        ("Sagen udsættes.", Outcome.POSTPONED),
        ("Ikke godkendt.", Outcome.REJECTED),
        ("Forkastet.", Outcome.REJECTED),
        ("Fællesmøde onsdag den 29. november kl. 16.00.", Outcome.OTHER),
    ],
)
def test_outcome_phrases(text: str, outcome: Outcome) -> None:
    assert classify_outcome(text) == outcome


def test_punkt_numbering_inside_a_decision_is_no_item() -> None:
    text = """REFERAT Byrådet d. 01-02-2022
Mødedato Tirsdag d. 01. februar 2022 kl. 18:00
Punkt 4: Tidsplan
22/10554
Beslutning
Punkt 1. Godkendt
Punkt 2. Godkendt, idet der kommer et bud.
Punkt 5: Meddelelser
22/10555
Beslutning
Taget til efterretning.
"""
    meeting = parse_text(text)
    assert [i.number for i in meeting.items] == [4, 5]
    assert _item(meeting, 4).decision is not None
    assert "Punkt 2. Godkendt, idet der kommer et bud." in _item(meeting, 4).decision.text


def test_text_without_meeting_structure_is_not_minutes() -> None:
    with pytest.raises(NotMinutes):
        parse_text("Vejret i morgen\nDet bliver solskin i hele landet, siger DMI.\n1. Sol\n2. Vind\n")


def test_numbered_decision_sentences_are_not_items() -> None:
    """`Punkt 1. <outcome sentence>` under a decision heading numbers the decision, even in a one-item meeting."""
    text = """REFERAT Kultur- og Fritidsudvalget d. 02-06-2023

Mødedato Fredag d. 02. juni 2023 kl. 16:45

Mødested Udvalgsværelse 1, Haderslev Rådhus

Punkt 58: Beslutning om skolernes ressourcetildeling

22/37002

Indstilling

1. At behovet for yderligere tiltag drøftes.

2. At tidsplanen anbefales over for Byrådet.

Beslutning Kultur- og Fritidsudvalget den 02-06-2023

Punkt 1. Orienteringen blev taget til efterretning.

Punkt 2. Orienteringen blev taget til efterretning.

Sagsfremstilling

Forvaltningen har gennemgået sagen.
"""
    meeting = parse_text(text)
    assert [item.number for item in meeting.items] == [58]
    item = meeting.items[0]
    assert item.case_number == "22/37002"
    assert item.decision is not None
    assert item.decision.outcome.value == "noted"

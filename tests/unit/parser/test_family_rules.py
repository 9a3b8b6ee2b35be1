"""The generalisations behind the families: phrases, dates, times, municipality cues, votes.

Each case is a short text as printed in some municipality's minutes, with the value read off by hand.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.parser.core import parse_document, parse_text
from services.parser.core.dates import find_date, find_time
from services.parser.core.decisions import classify_outcome, parse_votes
from shared.contracts.meeting import Outcome


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("Indstillingen blev godkendt.", Outcome.APPROVED),
        ("Godkendt med de faldne bemærkninger.", Outcome.APPROVED),
        ("Udvalget drøftede sagen og godkendte indstillingen.", Outcome.APPROVED),
        ("Udvalget besluttede at igangsætte projektet.", Outcome.APPROVED),
        ("Ansøgningen tages til følge.", Outcome.APPROVED),
        ("Anbefales over for Byrådet.", Outcome.RECOMMENDED),
        ("Et flertal bestående af A, C, N og V (6) anbefaler indstillingen.", Outcome.RECOMMENDED),
        ("Sagen oversendes til Byrådet med udvalgets anbefaling.", Outcome.RECOMMENDED),
        ("Orienteringen blev taget til efterretning.", Outcome.NOTED),
        ("Drøftet og taget til efterretning.", Outcome.NOTED),
        ("Udvalget blev orienteret om status.", Outcome.NOTED),
        ("Drøftet. Udvalget ønsker et notat om skolevejen.", Outcome.DISCUSSED),
        ("Sagen blev udsat.", Outcome.POSTPONED),
        ("Udvalget besluttede at udsætte sagen til næste møde.", Outcome.POSTPONED),
        ("Sagen blev taget af dagsordenen.", Outcome.POSTPONED),
        ("Forslaget blev forkastet.", Outcome.REJECTED),
        ("Udvalget kunne ikke anbefale ansøgningen.", Outcome.REJECTED),
        ("Udvalget besluttede ikke at anbefale ansøgningen.", Outcome.REJECTED),
        ("Indstillingen blev ikke godkendt.", Outcome.REJECTED),
        ("Udvalget godkendte ikke ansøgningen.", Outcome.REJECTED),
        ("Der var ikke flertal for indstillingen.", Outcome.REJECTED),
        ("Ansøgningen meddeles afslag.", Outcome.REJECTED),
        ("Oversendes til Kultur- og Fritidsudvalget til videre behandling.", Outcome.OTHER),
        ("Oversendes til forvaltningen.", Outcome.OTHER),
    ],
)
def test_outcome_phrases_of_other_families(text: str, outcome: Outcome) -> None:
    assert classify_outcome(text) == outcome


def test_amendments_and_quotes_do_not_decide_the_item() -> None:
    text = (
        "Følgende ændringsforslag fra Enhedslisten (Ø) blev sat under afstemning:\n"
        '"at udgiften godkendes finansieret af kassebeholdningen."\n'
        "Ændringsforslaget blev forkastet efter følgende afstemning:\n"
        "For stemte: 2 (Ø)\nImod stemte: 7 (A, B, C, F, V)\n"
        "Indstillingen blev herefter anbefalet efter følgende afstemning:\n"
        "For stemte: 9 (A, B, C, F, O, V)\nImod stemte: 0\nHverken for eller imod stemte: 2 (Ø)\n"
    )
    assert classify_outcome(text) == Outcome.RECOMMENDED
    votes = parse_votes(text)
    assert votes is not None
    assert votes.in_favour == ("A", "B", "C", "F", "O", "V")
    assert votes.in_favour_count == 9
    assert votes.against_count == 0
    assert votes.abstaining == ("Ø",)
    assert votes.abstaining_count == 2


def test_an_amendment_alone_still_has_an_outcome() -> None:
    assert classify_outcome("Ændringsforslaget blev forkastet.") == Outcome.REJECTED


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("Mødedato: 12-05-2022", dt.date(2022, 5, 12)),
        ("Dato: 04.12.2012", dt.date(2012, 12, 4)),
        ("Mødedato: 2023-03-14 kl. 15.30", dt.date(2023, 3, 14)),
        ("tirsdag den 4. oktober 2023", dt.date(2023, 10, 4)),
        ("Onsdag d. 4. okt. 2023", dt.date(2023, 10, 4)),
        ("d. 4/10-2023", dt.date(2023, 10, 4)),
    ],
)
def test_date_formats(text: str, date: dt.date) -> None:
    assert find_date(text) == date


@pytest.mark.parametrize(
    ("text", "loose", "time"),
    [
        ("kl. 16.00", False, "16:00"),
        ("kl. 16:00-18:00", False, "16:00"),
        ("Kl 9", False, "09:00"),
        ("16.00", True, "16:00"),
        ("12.05.2022 16.00", True, "16:00"),
        ("Tirsdag den 4. okt. 2023, 8.30 - 10.00", True, "08:30"),
        ("1.000 kr.", True, None),
        ("16.00", False, None),
    ],
)
def test_time_formats(text: str, loose: bool, time: str | None) -> None:
    assert find_time(text, loose=loose) == time


_BODY = """Punkt 1: Godkendelse af dagsorden
Sagsnr.: 23/100
Beslutning
Godkendt.
"""


@pytest.mark.parametrize(
    ("head", "tail", "municipality"),
    [
        ("Referat\nØkonomiudvalget\nMødedato: 12-05-2022\n", "Med venlig hilsen\nSekretariatet\npost@vejle.dk\n",
         "Vejle"),
        ("Referat\nØkonomiudvalget\nMødedato: 12-05-2022\nKontakt: www.ishoj.dk\n", "", "Ishøj"),
        ("Referat\nØkonomiudvalget\nMødedato: 12-05-2022\n", "Hjørring Kommune, Springvandspladsen 5, 9800 Hjørring\n",
         "Hjørring"),
        ("LOLLAND KOMMUNE\nReferat\nØkonomiudvalget\nMødedato: 12-05-2022\n", "", "Lolland"),
        ("Referat\nØkonomiudvalget\nMødedato: 12-05-2022\nhttps://dagsordener.kk.dk/oekonomiudvalget\n", "",
         "København"),
    ],
)
def test_municipality_from_footer_domain_and_capitals(head: str, tail: str, municipality: str) -> None:
    meeting = parse_text(head + _BODY + tail)
    assert meeting.municipality == municipality
    item = meeting.items[0]
    assert item.decision is not None
    assert item.decision.text == "Godkendt."  # the letterhead or signature is no part of the decision


def test_municipality_only_in_a_running_footer() -> None:
    page = "Referat\nByrådet\nMødedato: 12-05-2022\n" + _BODY + "Guldborgsund Kommune · Parkvej 37 · Side 1 af 2\n"
    second = "Punkt 2: Meddelelser\nSagsnr.: 23/101\nBeslutning\nTaget til efterretning.\n"
    text = page + "\f" + second + "Guldborgsund Kommune · Parkvej 37 · Side 2 af 2\n"
    assert parse_text(text).municipality == "Guldborgsund"


def test_municipality_of_a_portal_page_from_its_footer() -> None:
    page = (
        "<html><head><title>Referat - Byrådet</title></head><body><main><h1>Byrådet</h1>"
        "<p>Mødedato: 12-05-2022</p><h2>Punkt 1: Godkendelse af dagsorden</h2><p>Sagsnr.: 23/100</p>"
        "<h3>Beslutning</h3><p>Godkendt.</p></main>"
        "<footer><p>Odder Kommune · Rådhusgade 3</p></footer></body></html>"
    )
    meeting = parse_document(page.encode("utf-8"), "referat.html")
    assert meeting.municipality == "Odder"
    assert meeting.items[0].decision is not None
    assert meeting.items[0].decision.text == "Godkendt."


@pytest.mark.parametrize(
    ("line", "committee"),
    [
        ("Udvalget for Natur, Teknik og Miljø - 2022-2025", "Udvalget for Natur, Teknik og Miljø"),
        ("Udvalg: Plan- og Boligudvalget (2022-2025)", "Plan- og Boligudvalget"),
        ("Arbejdsmarkeds- og Uddannelsesudvalget_2018-21", "Arbejdsmarkeds- og Uddannelsesudvalget"),
        ("Emne: Referat fra møde i Handicaprådet den 4. oktober 2023", "Handicaprådet"),
    ],
)
def test_committee_without_term_suffix(line: str, committee: str) -> None:
    meeting = parse_text(f"Referat\n{line}\nMødedato: 12-05-2022\n{_BODY}")
    assert meeting.committee == committee


def test_item_case_number_in_brackets_after_the_title() -> None:
    text = "Referat\nØkonomiudvalget\nMødedato: 12-05-2022\n1. Ny affaldsplan (2022-0365287)\nBeslutning:\nAnbefales.\n"
    item = parse_text(text).items[0]
    assert item.title == "Ny affaldsplan"
    assert item.case_number == "2022-0365287"


def test_attendance_clauses_leave_only_names() -> None:
    text = (
        "Referat\nSocialudvalget\nMødedato: 12-05-2022\nPunkt 1: Budget\nSagsnr.: 23/100\nBeslutning\nGodkendt.\n"
        "Fremmøde og inhabilitet: Kirsten Nielsen (S) erklærede sig inhabil og deltog ikke i behandlingen.\n"
        "Fraværende under behandlingen af punktet: Ole Bo (V)\n"
    )
    assert set(parse_text(text).items[0].absent) == {"Kirsten Nielsen", "Ole Bo"}


def test_recurring_case_number_lines_at_page_tops_are_no_furniture() -> None:
    pages = [
        f"Referat - Byrådet - 12-05-2022\nPunkt {n}: Sag nummer {n}\nSagsnr.: 22/{4400 + n}\nBeslutning\nGodkendt."
        for n in range(1, 5)
    ]
    meeting = parse_text("Referat\nByrådet\nMødedato: 12-05-2022\n" + "\f".join(pages))
    assert [item.case_number for item in meeting.items] == ["22/4401", "22/4402", "22/4403", "22/4404"]

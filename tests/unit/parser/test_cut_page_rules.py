"""Rules for pages of other systems as the perturbation harness met them: pages cut short, tabs, other labels,
explicit-style contents lists, substitutes. Each fixture is a small hand-written page of the family shape."""

from __future__ import annotations

import datetime as dt

from services.parser.core import parse_document
from services.parser.core.dates import find_date
from services.parser.core.profiles.generic import LISTED_WARNING
from shared.contracts.meeting import Outcome

_HEAD = "Referat\nUdvalg: Teknik- og Miljøudvalget\nMødedato: 14. marts 2024\nMødested: Rådhuset, lokale 2\n\n"


def _parse(text: str):  # type: ignore[no-untyped-def]
    return parse_document(text.encode("utf-8"), "page.txt")


def test_a_page_cut_after_its_contents_list_keeps_the_header_and_the_listed_items() -> None:
    page = _HEAD + "Dagsorden\n1 Godkendelse af dagsorden\n2 Budgetopfølgning for 2024\n3 Salg af areal (Lukket)\n"
    meeting = _parse(page)
    assert meeting.committee == "Teknik- og Miljøudvalget" and meeting.meeting_date == dt.date(2024, 3, 14)
    assert [i.number for i in meeting.items] == [1, 2, 3] and LISTED_WARNING in meeting.warnings
    assert all(i.decision is None for i in meeting.items)
    assert meeting.items[2].title == "Salg af areal" and meeting.items[2].is_closed


def test_the_last_heading_of_a_cut_page_is_an_item_only_in_sequence() -> None:
    body = "1. Godkendelse af dagsorden\nBeslutning\nGodkendt.\n\n2. Budgetopfølgning\nBeslutning\nGodkendt.\n\n"
    # the page ends on the heading itself: no body line is left to tell it is an item
    assert [i.number for i in _parse(_HEAD + body + "3. Lokalplan for et boligområde\n").items] == [1, 2, 3]
    # a number that does not follow the items is a line of the case text, not the next item
    assert [i.number for i in _parse(_HEAD + body + "7. Lokalplan for et boligområde\n").items] == [1, 2]


def test_a_heading_listed_above_is_an_item_with_one_line_of_body() -> None:
    page = (_HEAD + "Dagsorden:\n1. Godkendelse af dagsorden\n2. Orientering fra formanden\n3. Trafik på stationen\n\n"
            "1. Godkendelse af dagsorden\nBeslutning: Godkendt.\n\n2. Orientering fra formanden\n"
            "Beslutning: Taget til efterretning.\n\n3. Trafik på stationen\nFormanden fremlagde en liste over")
    assert [i.number for i in _parse(page).items] == [1, 2, 3]


def test_an_explicit_style_contents_list_is_no_run_of_items() -> None:
    listed = "".join(f"Punkt {n}: Sag nummer {n} om noget\n" for n in range(49, 55))
    page = (_HEAD + listed + "\nPunkt 49: Sag nummer 49 om noget\nSagsfremstilling\nTekst.\nBeslutning\nGodkendt.\n\n"
            "Punkt 50: Sag nummer 50 om noget\nSagsfremstilling\nTekst")
    meeting = _parse(page)
    assert [i.number for i in meeting.items][:2] == [49, 50]
    assert meeting.items[0].decision is not None and meeting.items[0].decision.outcome == Outcome.APPROVED


def test_tabs_after_labels_are_spaces() -> None:
    page = "Referat\nUdvalg:\tØkonomiudvalget\nMødedato:\t4/12 2012\nMødested:\tRådhuset\n\n" \
           "1. Godkendelse af dagsorden\nBeslutning\nGodkendt.\nForfald:\tAnne Hansen (V)\n"
    meeting = _parse(page)
    assert meeting.committee == "Økonomiudvalget" and meeting.meeting_date == dt.date(2012, 12, 4)
    assert meeting.items[0].absent == ("Anne Hansen",)


def test_day_slash_month_then_year_is_a_date_but_a_case_number_is_not() -> None:
    assert find_date("den 4/12 2012 kl. 16") == dt.date(2012, 12, 4)
    assert find_date("Sagsnr. 22/4401 2012") is None


def test_the_member_a_substitute_stands_in_for_is_absent() -> None:
    page = _HEAD + ("1. Godkendelse af dagsorden\nBeslutning\nGodkendt\n\nFraværende:\nLise Holm (A)\n"
                    "Mogens Berg (F) deltog i mødet i stedet for Ivan Lund (F)\n")
    assert set(_parse(page).items[0].absent) == {"Lise Holm", "Ivan Lund"}


def test_the_agenda_item_is_approved_when_a_sentence_approves_the_agenda() -> None:
    page = _HEAD + ("1. Godkendelse af dagsorden\nBeslutning\nDialogen med forsyningen blev taget til efterretning.\n"
                    "Dagsorden blev godkendt.\n\n2. Trafikplan\nBeslutning\nTaget til efterretning.\n")
    items = _parse(page).items
    assert items[0].decision is not None and items[0].decision.outcome == Outcome.APPROVED
    assert items[1].decision is not None and items[1].decision.outcome == Outcome.NOTED


def test_the_body_named_with_the_meetings_date_is_the_committee_when_the_header_names_none() -> None:
    page = ("25. jan 2022\n\n1. Godkendelse af dagsorden\nSagstema\nGodkendelse af dagsorden.\nHøring og sagsgang\n"
            "Økonomiudvalget den 11. januar 2022\nKommunalbestyrelsen den 25. januar 2022\nBeslutning\nGodkendt.\n")
    assert _parse(page).committee == "Kommunalbestyrelsen"


def test_a_bracketed_kle_case_number_leaves_the_title() -> None:
    page = _HEAD + "1. Salg af ejendommen ved havnen (82.06.00-G01-23-23)\nBeslutning\nGodkendt.\n"
    item = _parse(page).items[0]
    assert item.title == "Salg af ejendommen ved havnen" and item.case_number == "82.06.00-G01-23-23"

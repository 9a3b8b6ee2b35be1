"""The meeting header as printed by the long tail of systems, on small hand-written Danish fixtures.

Each fixture is a header followed by one ordinary item, so that the document parses as minutes; the
assertions are on what a reader of the header would write down.
"""

from __future__ import annotations

import datetime as dt

import pytest

from services.parser.core import parse_document
from services.parser.core.attachments import join_unfinished, list_lines
from services.parser.core.header_prose import body_of_meeting, held_sentence, venue_line
from services.parser.core.parse import parse_text
from shared.contracts.meeting import DocumentKind, ParsedMeeting
from tests.unit.parser.styled_pdf import styled_pdf

ITEM = "\n1. Godkendelse af dagsorden\nBeslutning\nGodkendt.\n"


def _parse(header: str) -> ParsedMeeting:
    return parse_text(header + ITEM)


# --- 1. A header written as a sentence ------------------------------------------------------------------------


def test_a_protocol_sentence_gives_date_time_committee_and_place() -> None:
    m = _parse("Protokol\nTirsdag den 9. oktober 2012 kl. 08:15 afholdt Børne- og Skoleudvalget møde i "
               "udvalgsværelse 3. Medlemmerne var til stede.")
    assert (m.meeting_date, m.start_time) == (dt.date(2012, 10, 9), "08:15")
    assert m.committee == "Børne- og Skoleudvalget"
    assert m.location == "udvalgsværelse 3"


def test_a_transcript_page_in_one_line_still_has_its_sentence() -> None:
    # Document-sharing sites print a whole PDF page as one line, the running head included.
    line = ("1 Teknikudvalget den , s. 1 SOLRØD KOMMUNE Teknikudvalget Protokol Onsdag den 6. marts 2013 kl. 17:00 "
            "afholdt Teknikudvalget møde i mødelokale 2. Medlemmerne var til stede.")
    m = parse_text(line + "\n2 Teknikudvalget den , s. 2 Sagsfremstilling Der orienteres om vejene.")
    assert m.kind == DocumentKind.MINUTES
    assert (m.committee, m.meeting_date, m.start_time, m.location) == (
        "Teknikudvalget", dt.date(2013, 3, 6), "17:00", "mødelokale 2")
    assert m.municipality == "Solrød"


@pytest.mark.parametrize(
    ("sentence", "committee", "place"),
    [
        ("Mødet blev afholdt den 3. marts 2021 kl. 16.00 på Rådhuset, Byrådssalen.", None, "Rådhuset, Byrådssalen"),
        ("Økonomiudvalget holdt møde onsdag den 3. marts 2021 kl. 16.00 i mødelokale 2.", "Økonomiudvalget",
         "mødelokale 2"),
        ("Udvalget for Teknik og Miljø afholdt ekstraordinært møde den 3. marts 2021 kl. 16.00 i Byrådssalen.",
         "Udvalget for Teknik og Miljø", "Byrådssalen"),
    ],
)
def test_the_usual_variants_of_the_sentence(sentence: str, committee: str | None, place: str) -> None:
    held = held_sentence(sentence)
    assert held is not None
    assert (held.date, held.time, held.committee, held.location) == (dt.date(2021, 3, 3), "16:00", committee, place)


@pytest.mark.parametrize(
    "text",
    [
        "Der blev afholdt en borgerinddragende event den 29. maj 2012 på torvet.",  # an event, not the meeting
        "På mødet den 4. maj 2020 blev der holdt oplæg om budgettet.",  # an earlier meeting's programme
        "Mødet afholdes den 4. maj 2020 kl. 16 i Byrådssalen.",  # future tense: an agenda's notice
    ],
)
def test_case_text_that_mentions_holding_something_is_no_header_sentence(text: str) -> None:
    assert held_sentence(text) is None


# --- 2. The body, not the meeting's name ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("Ekstraordinært forretningsudvalgsmøde", "Forretningsudvalget"),
        ("Ekstraordinært byrådsmøde", "Byrådet"),
        ("kommunalbestyrelsesmødet", "Kommunalbestyrelsen"),
        ("Handicaprådsmøde", "Handicaprådet"),
        ("Temamøde", None),
        ("Dialogmøde", None),
    ],
)
def test_the_body_of_a_meeting_name(name: str, body: str | None) -> None:
    assert body_of_meeting(name) == body


def test_a_meeting_name_on_the_cover_gives_the_body() -> None:
    m = _parse("Referat\nEkstraordinært byrådsmøde\nMandag den 30-04-2018 kl. 16:30")
    assert m.committee == "Byrådet"


def test_a_body_printed_elsewhere_wins_over_the_meeting_name() -> None:
    m = _parse("Referat\nUdvalg: Ekstraordinært økonomiudvalgsmøde\nMødedato: 30-04-2018\n"
               "Økonomiudvalget 2022-2025")
    assert m.committee == "Økonomiudvalget"
    m = _parse("Referat af ekstraordinært byrådsmøde den 3. maj 2018 kl. 17 i Byrådssalen")
    assert (m.committee, m.location) == ("Byrådet", "Byrådssalen")


def test_a_list_entry_naming_a_council_is_no_committee() -> None:
    m = _parse("Referat: 27. oktober 2025 kl. 08:00\nReferat\n- Godkendelse af dagsorden\n"
               "- Sammenlægning af Ungdomsråd og Seniorråd")
    assert m.committee is None


def test_the_municipality_around_a_committee_name_is_site_chrome() -> None:
    m = _parse("Ringsted Byråd - Ringsted Kommune\nÅben dagsorden\nMødedato: 3. maj 2018")
    assert m.committee == "Ringsted Byråd"
    assert m.municipality == "Ringsted"


# --- 3. Unlabelled place lines on covers ----------------------------------------------------------------------


@pytest.mark.parametrize("place", ["Mødecenter C, Lokale 32 på Nordby Rådhus", "Byrådssalen, Rådhuset",
                                   "Udvalgsværelse 2", "Kaløvig Kursuscenter"])
def test_a_venue_line_near_the_date_is_the_location(place: str) -> None:
    m = _parse(f"Referat\nKulturudvalget\nTorsdag den 20. juni 2013\nKl. 10:30\n{place}")
    assert m.location == place


@pytest.mark.parametrize("line", ["Universelt design i byrummet", "Godkendelse af dagsorden", "Byrådet",
                                  "Mødet holdes i salen."])
def test_lines_that_name_no_venue(line: str) -> None:
    assert not venue_line(line)


def test_a_labelled_place_wins_over_a_venue_line() -> None:
    m = _parse("Referat\nKulturudvalget\nMødested: Biblioteket, mødelokale 1\nTorsdag den 20. juni 2013\nByrådssalen")
    assert m.location == "Biblioteket, mødelokale 1"


# --- 4. Labels glued to values, labels before values, other label styles ----------------------------------------


def test_labels_glued_to_their_values() -> None:
    m = _parse("Referat\nUdvalg:Byrådet\nMødedatoTorsdag den 25. maj 2023 kl. 18.30\nMødestedByrådssalen")
    assert (m.committee, m.meeting_date, m.start_time, m.location) == (
        "Byrådet", dt.date(2023, 5, 25), "18:30", "Byrådssalen")


def test_labels_printed_before_their_values() -> None:
    m = _parse("Referat\nByrådet\nDato:\nTid:\nSted:\n25-05-2023\n18:30\nByrådssalen")
    assert (m.meeting_date, m.start_time, m.location) == (dt.date(2023, 5, 25), "18:30", "Byrådssalen")


def test_labels_before_values_with_an_empty_last_field() -> None:
    # `Fraværende:` without anyone absent: one value fewer than labels, then the list's caption.
    m = _parse("Åben dagsorden\nByrådet\nMødedato:\nMødet påbegyndt:\nMødested:\nFraværende:\n"
               "25. maj 2016\nkl. 18:00\nRådhuset, Torvet 5\nFølgende sager behandles:")
    assert (m.meeting_date, m.start_time, m.location) == (dt.date(2016, 5, 25), "18:00", "Rådhuset, Torvet 5")


def test_drupal_date_and_time() -> None:
    m = _parse("Referat\nByrådet\nDato: Torsdag, 25 maj, 2023 - 18:30")
    assert (m.meeting_date, m.start_time) == (dt.date(2023, 5, 25), "18:30")


def test_prepare_export_capitals_with_seconds() -> None:
    m = _parse("UDVALG\nUdvalget for Ældre\nMØDE\nReferat\nSTED\nTorvet 2, mødelokale 0.21\n"
               "STARTTIDSPUNKT\n04-06-2020 09:00:00\nSLUTTIDSPUNKT\n04-06-2020 11:00:00")
    assert (m.committee, m.meeting_date, m.start_time, m.location) == (
        "Udvalget for Ældre", dt.date(2020, 6, 4), "09:00", "Torvet 2, mødelokale 0.21")


def test_acadre_title_one_phrase_a_line() -> None:
    m = _parse("Referat\ntil\nmødet i Byrådet\nden 15. maj 2018 kl. 17:00\ni Byrådssalen")
    assert (m.committee, m.meeting_date, m.start_time, m.location) == (
        "Byrådet", dt.date(2018, 5, 15), "17:00", "Byrådssalen")


def test_a_title_sentence_with_its_place() -> None:
    m = _parse("Referat til mødet i Udvalget for Teknik og Miljø den 22. juni 2020 kl. 17:30 i Nordby Rådhus, "
               "Østergade 22 - Mødelokale Skoven")
    assert m.committee == "Udvalget for Teknik og Miljø"
    assert m.location == "Nordby Rådhus, Østergade 22 - Mødelokale Skoven"


def test_participants_one_a_line_end_at_the_next_label_or_bullet_change() -> None:
    m = _parse("Referat\nMandag den 30-04-2018 kl. 16:30\nDeltagere:\nAnne Hansen\nBo Ib\nCarl Berg\nAfbud:\nBo Ib")
    assert m.participants == ("Anne Hansen", "Carl Berg")
    m = _parse("Referat: 27. oktober 2025 kl. 08:00\nDeltagere\n- Anne Hansen\n- Carl Berg\nReferat\n"
               "- Godkendelse af dagsorden")
    assert m.participants == ("Anne Hansen", "Carl Berg")


# --- 6. eDoc attachment lists -----------------------------------------------------------------------------------


def test_an_attachment_list_stops_before_who_decides_and_the_next_sub_item() -> None:
    lines = ["2013-1 - Notat om budget", "Beslutningen træffes af", "Kommunalbestyrelsen"]
    assert list_lines(lines) == ["2013-1 - Notat om budget"]
    assert list_lines(["2013-1 - Program", "c. Konference om sundhed"]) == ["2013-1 - Program"]
    assert list_lines(["2013-1 - Program", "Social- og Sundhedsudvalget"]) == ["2013-1 - Program"]
    # A list lettered itself is no sub-item, and an attachment may be called like a caption.
    assert list_lines(["a. Kort", "b. Notat"]) == ["a. Kort", "b. Notat"]
    assert list_lines(["Indstilling", "Bilag 1: Kort"]) == ["Indstilling", "Bilag 1: Kort"]


def test_wrapped_attachment_lines_join_the_entry_above() -> None:
    assert join_unfinished(["2013-1 - Program for det nære", "sundhedsvæsen",
                            "2013-2 - Redegørelse vedrørende", "Ældrerådets høringssvar"]) == [
        "2013-1 - Program for det nære sundhedsvæsen", "2013-2 - Redegørelse vedrørende Ældrerådets høringssvar"]
    # File names are whole entries, in lower case too.
    assert join_unfinished(["aftale-om-løft.pdf", "oversigt-over-initiativer.pdf"]) == [
        "aftale-om-løft.pdf", "oversigt-over-initiativer.pdf"]


def _edoc_pdf() -> bytes:
    head = [("title", "Referat"), ("body", "Egedal Kommune"), ("heading", "Social- og Sundhedsudvalget"),
            ("body", "Mødedato: 05-03-2013"), ("body", "Mødetidspunkt: 16:00")]
    one = [("heading", "1. Meddelelser"), ("body", "Sagsnr.: 2013-1010 Dok.nr.: 2013-20001"),
           ("body", "a. Møder og konferencer"), ("heading", "Bilag"),
           ("entry", "2013-20102 - Program for konferencen om det nære"), ("wrap", "sundhedsvæsen"),
           ("body", "b. Redegørelse fra Træning og Aktivitet"), ("heading", "Bilag"),
           ("entry", "2013-20103 - Redegørelse fra Træning og Aktivitet vedrørende"),
           ("wrap", "Ældrerådets høringssvar"), ("body", "c. Udvalgets aktiviteter 2013"),
           ("heading", "Social- og Sundhedsudvalgets beslutning den 05.03.2013 Punkt 1"),
           ("body", "Taget til efterretning")]
    two = [("heading", "2. Prioritering af midler til kronisk syge borgere og hverdagsrehabilitering for"),
           ("heading", "ældre"), ("body", "Sagsnr.: 2013-1020 Dok.nr.: 2013-20011"), ("heading", "Bilag"),
           ("entry", "2013-20111 - Prioritering af midler til kronikerindsats"),
           ("entry", "2013-20112 - Oversigt over indsatser fordelt på"), ("wrap", "enheder"),
           ("body", "Beslutningen træffes af"), ("body", "Kommunalbestyrelsen"),
           ("heading", "Social- og Sundhedsudvalgets beslutning den 05.03.2013 Punkt 2"),
           ("body", "Indstillingen godkendt")]
    return styled_pdf([head, one, two], running="Social- og Sundhedsudvalget 05-03-2013")


def test_an_edoc_pdf_lists_each_attachment_once_and_whole() -> None:
    m = parse_document(_edoc_pdf(), "referat.pdf")
    assert [i.number for i in m.items] == [1, 2]
    assert m.items[0].attachments == ("2013-20102 - Program for konferencen om det nære sundhedsvæsen",
                                      "2013-20103 - Redegørelse fra Træning og Aktivitet vedrørende Ældrerådets "
                                      "høringssvar")
    assert m.items[1].title == "Prioritering af midler til kronisk syge borgere og hverdagsrehabilitering for ældre"
    assert m.items[1].attachments == ("2013-20111 - Prioritering af midler til kronikerindsats",
                                      "2013-20112 - Oversigt over indsatser fordelt på enheder")


def test_a_title_cut_on_an_unfinished_word_goes_on_in_capitals() -> None:
    m = parse_text("Referat\nByrådet\nMødedato: 3. maj 2018\n"
                   "1. Redegørelse fra Træning og Aktivitet vedrørende\nÆldrerådets høringssvar\n"
                   "Sagsnr.: 2018-1\nBeslutning\nGodkendt.\n")
    assert m.items[0].title == "Redegørelse fra Træning og Aktivitet vedrørende Ældrerådets høringssvar"


# --- Portal pages: the name in the page title, site text that is no committee -------------------------------


def test_a_page_title_with_the_committee_and_its_date() -> None:
    m = _parse("Byrådet - 25-05-2023\nReferat\nUdvalg:\nDato:\nTorsdag, 25 maj, 2023 - 18:30\nHent som fil:")
    assert (m.committee, m.meeting_date, m.start_time) == ("Byrådet", dt.date(2023, 5, 25), "18:30")


def test_site_sentences_naming_committees_are_no_committee() -> None:
    m = _parse("Dagsordener og referater\nHvis der er to referater på samme udvalg og på samme dato, så er det et "
               "tillægsreferat.\nSe hvilke fagudvalg der er aktive\nKultur og Fritid\nMandag den 30-04-2018 kl. 16:30")
    # The meeting heading right above its date is the committee, whatever the site says around it.
    assert m.committee == "Kultur og Fritid"


def test_only_a_name_above_the_date_is_the_committee() -> None:
    for above in ("Nordby Kommune", "Byrådssalen", "Referat", "Dagsordener og referater"):
        assert _parse(f"{above}\nMandag den 30-04-2018 kl. 16:30").committee is None, above


def test_bulleted_participants_lose_their_bullets() -> None:
    m = _parse("25. jan 2022\nDeltagere:\n • Anne Hansen (A)\n • Carl Berg (V)")
    assert m.participants == ("Anne Hansen", "Carl Berg")


def test_an_office_over_the_date_is_no_committee() -> None:
    for office in ("Borgmesterkontoret", "Center for Økonomi", "Teknisk Forvaltning"):
        assert _parse(f"{office}\n25. maj 2016").committee is None, office

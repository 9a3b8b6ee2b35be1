"""The generic path: items of layouts no known family claims, found from structure alone.

Each fixture is a small Danish text written for the rule it shows; expected values are read off the text.
"""

from __future__ import annotations

import pytest

from services.parser.core import parse_document, parse_text
from services.parser.core.patterns import ATTACHMENTS, DECISION, OTHER
from services.parser.core.profiles.generic import GENERIC_WARNING, TITLE_WARNING
from services.parser.core.sections import classify_heading
from shared.contracts.meeting import DocumentKind, Outcome
from tests.unit.parser.unknown_layout import ITEMS, unknown_layout_docx, unknown_layout_pdf

_HEADER = """Referat
Social- og Sundhedsudvalget
Mødedato: 3. april 2024
Mødested: Rådhuset, mødelokale 1
"""


def _items(text: str) -> list[tuple[int, str]]:
    return [(i.number, i.title) for i in parse_text(text).items]


# --- section captions glued to their values ---------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "kind", "inline"),
    [
        ("BeslutningGodkendt.", DECISION, "Godkendt."),
        ("BilagIngen bilag.", ATTACHMENTS, "Ingen bilag."),
        ("SagsfremstillingUdvalget besøger en virksomhed i Tarm.", OTHER, "Udvalget besøger en virksomhed i Tarm."),
    ],
)
def test_a_caption_glued_to_its_value_is_a_caption(line: str, kind: str, inline: str) -> None:
    heading = classify_heading(line)
    assert heading is not None
    assert (heading.kind, heading.inline) == (kind, inline)


@pytest.mark.parametrize("line", ["Beslutningerne blev truffet i går.", "BeslutningsGrundlag", "Bilagsmateriale"])
def test_a_word_that_merely_starts_like_a_caption_is_not_one(line: str) -> None:
    assert classify_heading(line) is None


# --- numbered heading forms ---------------------------------------------------------------------------

def test_number_colon_title_portal_with_glued_labels() -> None:
    """`1 : Title`, `BeslutningGodkendt.`, `Fraværende- Name ()`: a portal view that lost its line breaks."""
    text = """Referat: 8. maj 2024 kl. 15:00
Kopier link til punktet - Print
1 : Godkendelse af dagsorden
Sagsnr:
BilagIngen bilag.
BeslutningGodkendt.
Fraværende- Lone Vestergaard ()
Kopier link til punktet - Print
2 : Ansøgning om tilskud til byfest
Sagsnr:
SagsfremstillingForeningen søger om 25.000 kr. til byfesten.
BeslutningAnsøgningen blev imødekommet.
"""
    meeting = parse_text(text)
    assert [(i.number, i.title) for i in meeting.items] == [
        (1, "Godkendelse af dagsorden"), (2, "Ansøgning om tilskud til byfest")]
    first = meeting.items[0]
    assert first.decision is not None and first.decision.text == "Godkendt."
    assert first.decision.outcome is Outcome.APPROVED
    assert first.absent == ("Lone Vestergaard",)
    assert first.attachments == ()
    # The portal family (`profiles.PORTAL_COLON`) claims it by its `N : Title` lines: no generic warning.
    assert GENERIC_WARNING not in meeting.warnings


def test_one_colon_line_does_not_claim_the_portal_family() -> None:
    """`1 : 2` scale or a single `3 : Title` line in a text is no cue; the family needs two."""
    from services.parser.core.profiles import PORTAL_COLON

    assert not PORTAL_COLON.claims(["Referat", "1 : Godkendelse af dagsorden", "Tekst"])
    assert PORTAL_COLON.claims(["1 : Godkendelse af dagsorden", "Tekst", "2 : Eventuelt"])


def test_number_glued_to_its_title_after_the_dot() -> None:
    """`1.Temamøde - Vandløb (B)`: the dot and the title without a space."""
    text = _HEADER + """
1.Temamøde - Vandløb (B)
Sagsnummer: 24/1188
Sagsfremstilling
Der holdes temamøde om vandløb.
Beslutning Social- og Sundhedsudvalget den 03-04-2024
Drøftet.

2.Orientering om nye regler for hjemmehjælp (B)
Sagsnummer: 24/1201
Sagsfremstilling
Reglerne træder i kraft 1. juli.
Beslutning Social- og Sundhedsudvalget den 03-04-2024
Taget til efterretning.
"""
    meeting = parse_text(text)
    assert [(i.number, i.title, i.case_number) for i in meeting.items] == [
        (1, "Temamøde - Vandløb", "24/1188"), (2, "Orientering om nye regler for hjemmehjælp", "24/1201")]
    assert meeting.kind is DocumentKind.MINUTES


@pytest.mark.parametrize("prefix", ["§ {n}.", "Nr. {n} -", "Nr.{n}"])
def test_paragraph_sign_and_nr_headings(prefix: str) -> None:
    body = "\n".join(
        f"{prefix.format(n=n)} {title}\nSagsfremstilling\nTekst om sagen.\nBeslutning\nGodkendt.\n"
        for n, title in ((1, "Godkendelse af dagsorden"), (2, "Lokalplan for Engvej"), (3, "Budgetopfølgning"))
    )
    assert _items(_HEADER + "\n" + body) == [
        (1, "Godkendelse af dagsorden"), (2, "Lokalplan for Engvej"), (3, "Budgetopfølgning")]


def test_number_without_dot_needs_the_captions_its_items_share() -> None:
    """`1 Title` items repeat `Sagsfremstilling … Beslutning`; a numbered list in a case text does not."""
    text = _HEADER + """
1 Godkendelse af dagsorden
Beslutning
Godkendt.
2 Lokalplan for boliger ved Engvej
Sagsfremstilling
Planen giver mulighed for:
3 Nye boliger i to etager
4 Grønne fællesarealer
Indstilling
Forvaltningen indstiller, at planen vedtages.
Beslutning
Vedtaget.
5 Budgetopfølgning
Sagsfremstilling
Forbruget følger budgettet.
Beslutning
Taget til efterretning.
"""
    # The list lines 3 and 4 are numbered like items but hold no captions of their own; item numbers
    # must increase, so 5 follows 2 only if 3 and 4 are skipped.
    numbers = [n for n, _ in _items(text)]
    assert numbers[:2] == [1, 2]
    assert 5 in numbers


def test_title_with_case_number_below_it() -> None:
    """`Title` / `Sag nr. 129`: the item number printed under its title."""
    text = _HEADER + """
Godkendelse af dagsorden
Sag nr. 128
Beslutning
Godkendt.

Ny parkeringsstrategi for bymidten
Sag nr. 129
Sagsfremstilling
Forvaltningen har udarbejdet et udkast.
Beslutning
Godkendt med bemærkninger.
"""
    meeting = parse_text(text)
    assert [(i.number, i.title) for i in meeting.items] == [
        (128, "Godkendelse af dagsorden"), (129, "Ny parkeringsstrategi for bymidten")]
    assert meeting.items[1].decision is not None
    assert meeting.items[1].decision.text == "Godkendt med bemærkninger."


# --- case numbers and contents ------------------------------------------------------------------------

def test_kle_case_number_printed_before_the_heading_belongs_to_the_next_item() -> None:
    text = """Referat til mødet i Miljøudvalget den 4. marts 2024 kl. 16:00

01.02.03-G01-12-23

41. Godkendelse af dagsorden

Beslutning

Godkendt.

00.01.00-A00-1-24

42. Vandplan for Kærå

Sagsfremstilling

Vandplanen er sendt i høring.

Beslutning

Godkendt.
"""
    items = parse_text(text).items
    assert [(i.number, i.case_number) for i in items] == [(41, "01.02.03-G01-12-23"), (42, "00.01.00-A00-1-24")]
    # The next item's case number is not the end of the previous item's decision.
    assert items[0].decision is not None and items[0].decision.text == "Godkendt."


def test_a_case_number_under_the_heading_stays_with_its_item() -> None:
    """The usual order (`Punkt N:` / case number): a closed item's last line is its own case number."""
    text = _HEADER + """
Punkt 1: Godkendelse af dagsorden
24/100
Beslutning
Godkendt.

Punkt 2: Lukket
24/101

Punkt 3: Underskriftsblad
24/102
Beslutning
Underskrevet.
"""
    assert [(i.number, i.case_number) for i in parse_text(text).items] == [
        (1, "24/100"), (2, "24/101"), (3, "24/102")]


def test_a_page_number_column_is_no_item() -> None:
    """`Side` / `2` / `5` / `63` / `25. maj 2016`: a contents list's page column and a running head."""
    text = """Dagsorden
Byrådet
Mødedato: 25. maj 2016
Pkt. Tekst
1 Revisionsberetning for 2015
2 Årsregnskab 2015
3 Trafik i Østergade
Side
2
5
9
Byrådet
25. maj 2016
00.01.00-K01-1-16
1.
Revisionsberetning for 2015
Resumé
Revisionen har afgivet beretning.
"""
    meeting = parse_text(text)
    assert [(i.number, i.title, i.case_number) for i in meeting.items] == [
        (1, "Revisionsberetning for 2015", "00.01.00-K01-1-16")]
    # The contents list promised three items; the text holds one: said, not silently dropped.
    assert "items 2–3 of the table of contents not found" in meeting.warnings


def test_items_found_by_their_contents_titles_in_a_run_together_transcript() -> None:
    """A transcript that ran every page into one line: only the contents list's titles show the items."""
    text = (
        "1 Miljøudvalget den , s. 1 Protokol Mandag den 4. marts 2024 kl. 16:00 afholdt Miljøudvalget møde.\n"
        "2 Miljøudvalget den , s. 2 INDHOLDSFORTEGNELSE Sag nr: Side: 01 Vandplan for Kærå og Engå 3 "
        "02 Nye regler for spildevand i det åbne land 5\n"
        "3 Åbent punkt Miljøudvalget den , s.3 Vandplan for Kærå og Engå 1. Sagsfremstilling Planen er sendt "
        "i høring. 4 Åbent punkt Miljøudvalget den , s.4 Nye regler for spildevand i det åbne land "
        "1. Sagsfremstilling Reglerne gælder fra 1. juli.\n"
    )
    meeting = parse_text(text)
    assert [(i.number, i.title) for i in meeting.items] == [
        (1, "Vandplan for Kærå og Engå"), (2, "Nye regler for spildevand i det åbne land")]
    assert "Planen er sendt i høring" in meeting.items[0].sections[0].text
    assert TITLE_WARNING in meeting.warnings


def test_labels_printed_before_their_values() -> None:
    text = _HEADER + """
Punkt 1: Tilskud til foreningen
Sagsfremstilling:
Indstilling:
Beslutning:
Foreningen søger om 10.000 kr.
Forvaltningen indstiller, at ansøgningen imødekommes.
Godkendt.
"""
    item = parse_text(text).items[0]
    assert {s.name: s.text for s in item.sections} == {
        "Sagsfremstilling": "Foreningen søger om 10.000 kr.",
        "Indstilling": "Forvaltningen indstiller, at ansøgningen imødekommes.",
        "Beslutning": "Godkendt.",
    }
    assert item.decision is not None and item.decision.text == "Godkendt."


def test_an_empty_decision_before_the_attachments_is_no_labels_first_row() -> None:
    """An agenda's empty `Beslutning` then `Bilag`: the attachment is no decision."""
    text = """Dagsorden
Social- og Sundhedsudvalget
Mødedato: 3. april 2024

Punkt 1: Tilskud til foreningen
Indstilling
Forvaltningen indstiller, at ansøgningen imødekommes.
Beslutning
Bilag
Ansøgning fra foreningen
"""
    item = parse_text(text).items[0]
    assert item.decision is None
    assert item.attachments == ("Ansøgning fra foreningen",)


# --- the unknown layout: a Word-generated SBSYS publication -------------------------------------------

@pytest.mark.parametrize("build", [unknown_layout_pdf, unknown_layout_docx], ids=["pdf", "docx"])
def test_unknown_layout_parses_into_its_items_with_sub_items_under_their_parents(build) -> None:  # type: ignore[no-untyped-def]
    meeting = parse_document(build())
    assert meeting.kind is DocumentKind.MINUTES
    assert [(i.number, i.title) for i in meeting.items] == [(n, t) for n, t, _ in ITEMS]
    for item, (_, _, subs) in zip(meeting.items, ITEMS, strict=True):
        # Sub-items are named sections of their parent, never items of their own.
        assert [s.name for s in item.sections if s.name[:1].isdigit()] == subs
    assert GENERIC_WARNING in meeting.warnings
    assert meeting.participants[:4] == ("Mette Lund", "Jonas Krogh", "Pia Sørensen", "Karsten Bæk")


def test_unknown_layout_items_need_their_typography() -> None:
    """The same text without fonts and without its `Konklusion:` captions: `2 Status på …` is then a numbered
    line like any other (`14 områder …` could be one too) and no item; the font is what makes it a heading."""
    from tests.unit.parser.unknown_layout import CONTENT

    text = "\n".join(t for style, t in CONTENT if style != "break" and not t.startswith("Konklusion"))
    numbers = [i.number for i in parse_text(text).items]
    assert 2 not in numbers and 3 not in numbers


def test_a_short_gap_in_the_numbering_is_said() -> None:
    text = _HEADER + "".join(
        f"\nPunkt {n}: {title}\nBeslutning\nGodkendt.\n"
        for n, title in ((1, "Godkendelse af dagsorden"), (2, "Lokalplan for Engvej"), (4, "Eventuelt"))
    )
    meeting = parse_text(text)
    assert [i.number for i in meeting.items] == [1, 2, 4]
    assert "item 3 missing from the item numbering" in meeting.warnings


def test_html_heading_elements_make_number_title_lines_items() -> None:
    """A CMS page: `<h3>1 Title</h3>` over paragraphs, no captions; the heading element is the evidence."""
    items = "".join(
        f"<h3>{n} {title}</h3><p>{body}</p><p>Udvalget tog orienteringen til efterretning.</p>"
        for n, title, body in (
            (1, "Status på skolebyggeriet", "Byggeriet følger tidsplanen."),
            (2, "Trafiksikkerhed ved Bøgevej", "Der er målt hastigheder i uge 12."),
            (3, "Kommende arrangementer", "Der holdes borgermøde i juni."),
        )
    )
    page = (f"<html><body><h1>Referat</h1><p>Teknisk Udvalg</p><p>Mødedato: 3. april 2024</p>"
            f"<p>Der blev målt 3 steder.</p>{items}</body></html>")
    meeting = parse_document(page.encode(), "referat.html")
    assert [(i.number, i.title) for i in meeting.items] == [
        (1, "Status på skolebyggeriet"), (2, "Trafiksikkerhed ved Bøgevej"), (3, "Kommende arrangementer")]
    assert GENERIC_WARNING in meeting.warnings


def test_a_closed_item_printed_bare_is_an_item() -> None:
    """`6. Lukket punkt` with the next item right under it: a closed item has no public body."""
    text = _HEADER + """
5. Meddelelser
Sagsnummer: 00.22.04-G01-8-24
Beslutning
Taget til efterretning.

6. Lukket punkt

7. Helhedsplan for idrætsanlæg
Sagsnummer: 18.20.00-G01-1-24
Beslutning
Godkendt.
"""
    items = parse_text(text).items
    assert [(i.number, i.is_closed, i.decision) for i in items if i.number == 6] == [(6, True, None)]
    assert [i.number for i in items] == [5, 6, 7]


def test_absentees_labelled_with_body_and_date_after_the_decision() -> None:
    """`Fraværende i Byrådet, 25. januar 2022:` / names: attendance, not a second decision of this meeting."""
    text = """Referat
Byrådet
Mødedato: 25. januar 2022

1. Godkendelse af dagsorden
Indstilling
Til godkendelse.
Beslutning
Godkendt.
Fraværende i Byrådet, 25. januar 2022:
Hanne Dal, Ole Krogh
"""
    item = parse_text(text).items[0]
    assert item.decision is not None and item.decision.text == "Godkendt."
    assert item.decision.outcome is Outcome.APPROVED
    assert item.absent == ("Hanne Dal", "Ole Krogh")


@pytest.mark.parametrize(("word", "kind"), [("Protokol", DocumentKind.MINUTES), ("DAGSORDEN", DocumentKind.AGENDA)])
def test_the_kind_word_of_a_header_written_as_a_sentence(word: str, kind: DocumentKind) -> None:
    """No title line, no decision printed: the capitalised kind word in the header's sentence decides."""
    text = (f"Miljøudvalget {word} for mødet mandag den 4. marts 2024 kl. 16:00 på rådhuset, mødelokale 2.\n"
            "Punkt 1: Vandplan for Kærå\nSagsfremstilling\nPlanen er sendt i høring.\n")
    assert parse_text(text).kind is kind


def test_a_templates_empty_headings_without_colons_are_no_labels_first_row() -> None:
    text = _HEADER + """
Punkt 1: Tilskud til foreningen
Økonomi
Lovgrundlag
Beslutning
Godkendt.
Foreningen får besked i næste uge.
"""
    item = parse_text(text).items[0]
    assert item.decision is not None and item.decision.text.startswith("Godkendt.")
    assert {s.name: s.text for s in item.sections}["Økonomi"] == ""


def test_numbered_headings_without_any_meeting_header_are_no_minutes() -> None:
    """A report with `<h2>1 Indledning</h2>` headings: no known layout, no committee, date or kind word."""
    from services.parser.core import NotMinutes

    sections = "".join(
        f"<h2>{n} {title}</h2><p>{body}</p><h3>Sagsfremstilling</h3><p>Tekst.</p>"
        for n, title, body in ((1, "Indledning", "Rapporten beskriver vejtræerne."),
                               (2, "Metode", "Træerne er optalt i 2023."),
                               (3, "Resultater", "Der står 4.100 træer langs vejene."))
    )
    with pytest.raises(NotMinutes, match="no known layout"):
        parse_document(f"<html><body><h1>Vejtræer i kommunen</h1>{sections}</body></html>".encode(), "r.html")

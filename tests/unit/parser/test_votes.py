"""The vote grammar (`services.parser.core.votes.read_votes`) on hand-written Danish decision texts.

Each convention is shown from both sides: what is a vote, and the look-alike that is not (the body
itself abstaining, remarks, attendance, elections, rulings, members' recommendations).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.parser.core import parse_document
from services.parser.core.decisions import classify_outcome
from services.parser.core.votes import read_votes
from shared.contracts.meeting import Outcome, Votes


def _sides(votes: Votes | None) -> dict[str, Any]:
    """The non-empty sides and counts of a vote, as sets/ints, for compact assertions."""
    assert votes is not None
    out: dict[str, Any] = {}
    for side in ("in_favour", "against", "abstaining", "reserved"):
        names = getattr(votes, side)
        if names:
            out[side] = set(names)
        count = getattr(votes, f"{side}_count")
        if count is not None:
            out[f"{side}_count"] = count
    return out


# --- Side labels before a list -------------------------------------------------------------------

def test_labelled_lists_with_counts_after_the_parties() -> None:
    text = "Indstillingen blev godkendt.\nFor stemte: A, C og V (6)\nImod stemte: O (1)\nUndlod at stemme: F"
    assert _sides(read_votes(text)) == {
        "in_favour": {"A", "C", "V"}, "in_favour_count": 6, "against": {"O"}, "against_count": 1,
        "abstaining": {"F"},
    }


def test_count_before_the_parties() -> None:
    assert _sides(read_votes("For stemte: 9 (A, B, F, Ø)\nImod stemte: 4 (C, V)")) == {
        "in_favour": {"A", "B", "F", "Ø"}, "in_favour_count": 9, "against": {"C", "V"}, "against_count": 4}


def test_labelled_list_without_colon_stops_at_the_remark() -> None:
    text = ("For stemte (B), (K) og Ida Berg (UP-1).\n"
            "Imod stemte (O) og (L) med bemærkning om, at (O) ønsker en anden model, og at det haster.")
    assert _sides(read_votes(text)) == {"in_favour": {"B", "K", "Ida Berg"}, "against": {"O", "L"}}


def test_a_remark_after_a_vote_adds_no_side() -> None:
    """`… med bemærkning om, at Ø stemmer for a og b` explains the vote against; it is no vote for."""
    text = "Ad c, Imod stemte: Ø, med bemærkning om, at Ø stemmer for indstillingerne a og b."
    assert _sides(read_votes(text)) == {"against": {"Ø"}}


def test_per_point_votes_merge_per_side() -> None:
    text = "Anbefales.\nAd punkt 1 a\nImod: B og Ø med bemærkning om, at sagen bør vente.\nAd punkt 2\nImod: Ø og F"
    assert _sides(read_votes(text)) == {"against": {"B", "Ø", "F"}}


def test_bare_for_or_imod_starts_no_list_without_a_colon() -> None:
    assert read_votes("For at sikre fremdriften godkendes planen.\nImod forventning blev udgiften lavere.") is None


# --- A list before its verb ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Godkendt.\nPer Holm (V) stemte imod.", {"against": {"Per Holm"}}),
    ("Godkendt.\n(B) og (K) undlod at stemme ved pkt. 2. c.", {"abstaining": {"B", "K"}}),
    ("1.-3. Anbefales.\n1.-3. Ida Berg (L) undlod at tage stilling.", {"abstaining": {"Ida Berg"}}),
    ("Godkendt.\nK undlader.", {"abstaining": {"K"}}),
    ("Godkendt.\nOle Bo Lund (C) og Per T. Holm (A) undlader", {"abstaining": {"Ole Bo Lund", "Per T. Holm"}}),
    ("Godkendt.\nØ stemmer imod med bemærkning om, at prisen er for høj.\nF undlader at stemme.",
     {"against": {"Ø"}, "abstaining": {"F"}}),
    ("Godkendt.\n(F) undlod at stemme for så vidt angår punkt 2.", {"abstaining": {"F"}}),
    ("Anbefales ikke.\nPer Holm (A) stemte for administrationens indstillingspunkt 2.", {"in_favour": {"Per Holm"}}),
    ("Godkendt.\nIda Berg (UP-2) og Ø-gruppen stemte imod.", {"against": {"Ida Berg", "Ø"}}),
    ("Kirsten Lund og Ole Bo kunne tiltræde indstillingen.\nAnne Dam tog forbehold.\n"
     "Per Holm kunne ikke tiltræde indstillingen.",
     {"in_favour": {"Kirsten Lund", "Ole Bo"}, "reserved": {"Anne Dam"}, "against": {"Per Holm"}}),
])
def test_members_and_parties_before_the_verb(text: str, expected: dict[str, Any]) -> None:
    assert _sides(read_votes(text)) == expected


def test_a_majority_followed_by_its_members() -> None:
    """`Et flertal i udvalget kunne tiltræde …` names nobody; the members who make it up follow."""
    text = ("Et flertal i udvalget kunne tiltræde indstillingen.\n"
            "Anne Dam, Ole Bo og Kirsten Lund kunne tiltræde indstillingen.\n"
            "Per Holm kunne ikke tiltræde indstillingen.")
    assert _sides(read_votes(text)) == {"in_favour": {"Anne Dam", "Ole Bo", "Kirsten Lund"}, "against": {"Per Holm"}}
    assert read_votes("Et flertal i udvalget kunne tiltræde indstillingen.") is None


def test_a_majority_or_minority_that_names_its_parties() -> None:
    text = ("Et flertal bestående af A, C, N og V (6) anbefaler indstillingen.\n"
            "Et mindretal bestående af O (1) stemte imod.")
    assert _sides(read_votes(text)) == {
        "in_favour": {"A", "C", "N", "V"}, "in_favour_count": 6, "against": {"O"}, "against_count": 1}


# --- Party groups in the genitive ---------------------------------------------------------------

def test_party_groups_in_the_genitive_become_their_base_names() -> None:
    text = ("Tilbagesendes med bemærkning, at byrådet har vedtaget indstillingen.\n"
            "Venstres og Det Konservative Folkepartis byrådsgrupper og Ida Berg kunne ikke tiltræde punkt 1.\n"
            "Liberal Alliances byrådsgruppe tog forbehold.")
    assert _sides(read_votes(text)) == {
        "against": {"Venstre", "Det Konservative Folkeparti", "Ida Berg"}, "reserved": {"Liberal Alliance"}}


def test_a_name_ending_in_s_keeps_its_s_without_a_group_word() -> None:
    assert _sides(read_votes("Godkendt.\nKlaus Andreas og Jens Mikkelsens stemte imod.")) == {
        "against": {"Klaus Andreas", "Jens Mikkelsens"}}


# --- Printed counts ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Med stemmerne 17 for og 2 imod godkendte Byrådet indstillingen.", {"in_favour_count": 17, "against_count": 2}),
    ("Med stemmer 19 for og 1 imod godkendte Byrådet indstillingen.", {"in_favour_count": 19, "against_count": 1}),
    # `ingen` is a word, not a number: no count, and nobody is named against.
    ("Med stemmerne 15 for og ingen imod godkendte Byrådet indstillingen.", {"in_favour_count": 15}),
    ("Med stemmerne 13 for godkendte Byrådet indstillingen.", {"in_favour_count": 13}),
    ("Vedtaget med 15 stemmer for, 10 imod og 2 undlod.",
     {"in_favour_count": 15, "against_count": 10, "abstaining_count": 2}),
])
def test_printed_counts(text: str, expected: dict[str, Any]) -> None:
    assert _sides(read_votes(text)) == expected


def test_a_wish_is_a_side_only_beside_printed_counts() -> None:
    """`X ønskede (ikke) at sende forslaget …` pairs with the printed tally; alone it is a remark."""
    text = ("Med stemmerne 20 for og 1 imod besluttede byrådet at sende forslaget til behandling i udvalg.\n"
            "(B), (K) og (Ø) ønskede at sende forslaget til behandling.\n"
            "(O) ønskede ikke at sende forslaget til behandling.")
    assert _sides(read_votes(text)) == {
        "in_favour": {"B", "K", "Ø"}, "against": {"O"}, "in_favour_count": 20, "against_count": 1}
    assert read_votes("Godkendt.\n(V) ønskede at godkende administrationens indstilling.") is None


def test_the_vote_on_the_recommendation_not_the_amendment() -> None:
    text = ("Ændringsforslag fra V om at udsætte sagen:\nFor stemte: V (3)\nImod stemte: A og C (6)\n"
            "Indstillingen blev herefter sat til afstemning:\nFor stemte: A og C (6)\nImod stemte: V (3)")
    assert _sides(read_votes(text)) == {
        "in_favour": {"A", "C"}, "in_favour_count": 6, "against": {"V"}, "against_count": 3}


# --- Not votes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Godkendt.",
    "Udvalget undlod at tage stilling.",  # the whole body declining to recommend
    "2.-3. Udvalget undlod at tage stilling.",
    "Udvalget undlader stillingtagen på baggrund af de nye oplysninger.",
    "Økonomiudvalget kunne ikke anbefale indstillingen.",
    "Byrådet stemte for forslaget.",
    "Alle stemte for.",
    "Afbud: Anne Dam (V), Per Holm (A)",
    "Fraværende: Ole Bo",
    "Godkendt.\nIkke til stede: Kirsten Lund (Ø)",
    "Udvalget valgte Anne Dam som formand.",
    "Valggruppe 1 indstiller Ole Bo, som blev valgt.",
    "Per Holm spurgte, om han var inhabil. Udvalget afgjorde, at Per Holm ikke var inhabil.",
    "Anne Dam (A) og Ole Bo (C) anbefaler overfor byrådet at administrationens indstilling godkendes.",
    "Kirsten Lund (C) følger administrationens indstillingspunkt 2.",
    "Per Holm (Ø) er ikke imod et nyt vandværk men imod placeringen.",
    "Ole Bo undlod at deltage i behandlingen af punktet.",
    "Anne Dam ønskede sin stemme ført til protokol.",
    "Fremsendes med ændringsforslaget fra Venstres byrådsgruppe til Teknisk Udvalg.",
])
def test_not_a_vote(text: str) -> None:
    assert read_votes(text) is None


def test_empty_text_has_no_vote() -> None:
    assert read_votes("") is None
    assert read_votes(None) is None


# --- Through a reader: this meeting's decision, never its history ---------------------------------

def _firstagenda(html: str, title: str = "Vejplan") -> bytes:
    item = {"Punktnummer": "3", "Navn": title, "SagsNummer": "23-000001", "Bilag": [],
            "ExternalAgendaItemAttendees": [], "Felter": [{"Navn": "", "Html": html, "Link": ""}]}
    doc = {"Udvalg": {"Navn": "Teknisk Udvalg 2022-2025"},
           "Moede": {"Dato": "2023-03-01T16:30:00+01:00", "Sted": "Lokale 2", "Afsluttet": True,
                     "Moededeltagere": [{"Name": "Anne Dam", "Absent": False, "ParticipationCancelled": False}]},
           "Dagsordenpunkter": [item]}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def test_firstagenda_reads_the_decision_block_and_not_the_case_history() -> None:
    html = ("<div><h3>Beslutning</h3><span><p>Godkendt.</p><p>Per Holm (V) stemte imod.</p></span></div>"
            "<h3>Fremstilling</h3><span><h4>Sagens forløb</h4><p>01-02-2023 Økonomiudvalget</p>"
            "<p>Anbefales. Ole Bo (A) undlod at tage stilling.</p></span>")
    item = parse_document(_firstagenda(html)).items[0]
    assert _sides(item.votes) == {"against": {"Per Holm"}}


def test_firstagenda_closed_item_is_its_own_minute() -> None:
    """A closed item publishes no headings: its whole body is the minute, and its vote is read there."""
    html = "<p>Godkendt.</p><p>Imod stemte: (Ø) og Ida Berg (UP).</p>"
    item = parse_document(_firstagenda(html, "Lukket: Køb af ejendom")).items[0]
    assert item.is_closed
    assert _sides(item.votes) == {"against": {"Ø", "Ida Berg"}}


def test_firstagenda_withheld_decision_is_no_decision() -> None:
    html = "<div><h3>Beslutning</h3><span><p>Beslutning ikke frigivet</p></span></div>"
    assert parse_document(_firstagenda(html)).items[0].decision is None


def test_text_path_reads_votes_of_the_decision() -> None:
    text = ("Referat\nTeknisk Udvalg\nMødedato: 1. marts 2023\n\n1. Vejplan\nSagsfremstilling\nSagen handler om veje.\n"
            "Beslutning\nGodkendt.\nFor stemte: A og V (5)\nImod stemte: Ø (1)\n")
    item = parse_document(text.encode("utf-8"), "referat.txt").items[0]
    assert _sides(item.votes) == {"in_favour": {"A", "V"}, "in_favour_count": 5, "against": {"Ø"}, "against_count": 1}


# --- Outcomes this module's helpers fixed --------------------------------------------------------

@pytest.mark.parametrize(("text", "outcome"), [
    ("Udvalget drøftede sagen og stillede spørgsmål. Udvalget besluttede herefter at udsætte sagens behandling.",
     Outcome.POSTPONED),
    ("Punktet blev drøftet. Sagen genoptages på et senere møde.", Outcome.POSTPONED),
    ("Udvalget ønsker sagen genoptaget på kommende møde, idet der mangler oplysninger.", Outcome.POSTPONED),
    ("Sagen tages op på et senere møde.", Outcome.POSTPONED),
    ("Udvalget drøftede sagen.", Outcome.DISCUSSED),
    ("Godkendt. Sagen genoptages i 2025 med en status.", Outcome.APPROVED),
])
def test_postponement(text: str, outcome: Outcome) -> None:
    assert classify_outcome(text) == outcome


@pytest.mark.parametrize(("text", "expected"), [
    ("For: 15, Imod: 2, Undlod: 1", {"in_favour_count": 15, "against_count": 2, "abstaining_count": 1}),
    ("Ved afstemningen stemte A, B og C for, mens O stemte imod.", {"in_favour": {"A", "B", "C"}, "against": {"O"}}),
    ("Indstillingen blev vedtaget, idet 12 stemte for og 3 stemte imod.", {"in_favour_count": 12, "against_count": 3}),
    ("Forslaget blev vedtaget med 12 stemmer mod 3.", {"in_favour_count": 12, "against_count": 3}),
    ("Godkendt.\nSF's byrådsgruppe og Venstre-gruppen stemte imod.", {"against": {"SF", "Venstre"}}),
    ("Godkendt.\nRådmand Anne Dam (B) tog forbehold.", {"reserved": {"Anne Dam"}}),
])
def test_other_common_phrasings(text: str, expected: dict[str, Any]) -> None:
    assert _sides(read_votes(text)) == expected


@pytest.mark.parametrize("text", [
    "Byrådet stemte for forslaget.",
    "Der blev afsat 10 mio. kr. til formålet, og udvalget stemte for at sende sagen videre.",
    "Imod stemte: Ingen",
])
def test_more_look_alikes_are_no_votes(text: str) -> None:
    votes = read_votes(text)
    assert votes is None or not (votes.in_favour or votes.against or votes.abstaining or votes.reserved)


@pytest.mark.parametrize(("text", "expected"), [
    ("Godkendt.\nA og V stemte for, O stemte imod.", {"in_favour": {"A", "V"}, "against": {"O"}}),
    ("Godkendt.\nPer Holm (O) stemte imod, og Ida Berg (F) undlod at stemme.",
     {"against": {"Per Holm"}, "abstaining": {"Ida Berg"}}),
    # after `med bemærkning om, at` a position is the remark's content
    ("Godkendt.\nØ stemte imod med bemærkning om, at Ø stemmer for punkt 1.", {"against": {"Ø"}}),
    ("Undlod at stemme (1): F\nFor stemte 6: A og C", {"abstaining": {"F"}, "abstaining_count": 1,
                                                        "in_favour": {"A", "C"}, "in_favour_count": 6}),
])
def test_coordinated_positions_and_counts_before_lists(text: str, expected: dict[str, Any]) -> None:
    assert _sides(read_votes(text)) == expected


def test_a_labelled_voter_with_what_the_position_concerns() -> None:
    text = "Godkendt.\nImod: B i forhold til placering 2 a.\nUndlod: Ida Berg (K) ved pkt. 3"
    assert _sides(read_votes(text)) == {"against": {"B"}, "abstaining": {"Ida Berg"}}


def test_the_tally_on_the_item_not_on_the_amendment() -> None:
    text = ("Ændringsforslaget blev forkastet med 3 stemmer for og 6 imod.\n"
            "Indstillingen blev herefter godkendt med 6 stemmer for og 3 imod.")
    assert _sides(read_votes(text)) == {"in_favour_count": 6, "against_count": 3}
    assert _sides(read_votes("Ændringsforslaget blev vedtaget med 5 stemmer for og 4 imod.")) == {
        "in_favour_count": 5, "against_count": 4}

"""Decision text as the table and the live lines show it: one line, cut between words, with an ellipsis."""

from __future__ import annotations

from minutes_cli.decisions_cmd import clean_text


def test_pdf_line_breaks_become_spaces() -> None:
    assert clean_text("Udvalget godkendte\r\nindstillingen\n\n med  bemærkninger.") == (
        "Udvalget godkendte indstillingen med bemærkninger."
    )


def test_a_long_text_is_cut_at_a_word_with_an_ellipsis() -> None:
    text = "Økonomiudvalget anbefaler Byrådet at godkende budgetforslaget"
    cut = clean_text(text, 30)
    assert cut == "Økonomiudvalget anbefaler…"
    assert len(cut) <= 30


def test_a_text_that_fits_is_left_whole() -> None:
    assert clean_text("Godkendt.", 9) == "Godkendt."


def test_a_cut_right_after_a_word_keeps_that_word() -> None:
    assert clean_text("Sagen blev udsat til næste møde", 11) == "Sagen blev…"

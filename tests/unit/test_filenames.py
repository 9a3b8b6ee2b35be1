"""File names whose bytes are not UTF-8 keep their letters (issue 22: a Latin-1 name downloaded as `xf8_2024.txt`)."""

from __future__ import annotations

import os

import pytest

from shared.filenames import readable_name, unescape_stored_name


@pytest.mark.parametrize(
    ("on_disk", "shown"),
    [
        (b"Referat_Byr\xe5d_\xe6\xf8_2024.txt", "Referat_Byråd_æø_2024.txt"),  # Latin-1 / cp1252
        ("Referat_Byråd_æø_2024.txt".encode(), "Referat_Byråd_æø_2024.txt"),  # UTF-8 as it is
        ("Møde ".encode() + b"\xe6ndret.txt", "Møde ændret.txt"),  # both in one name
        (b"Tilbud \x80 2024.txt", "Tilbud € 2024.txt"),  # a byte only cp1252 defines
        (b"odd \x81.txt", "odd \x81.txt"),  # undefined in cp1252: Latin-1
    ],
)
def test_undecodable_bytes_of_a_name_on_disk_are_read_as_cp1252(on_disk: bytes, shown: str) -> None:
    assert readable_name(os.fsdecode(on_disk)) == shown


def test_a_surrogate_that_no_byte_made_is_replaced_not_raised() -> None:
    assert readable_name("a\ud800b.txt") == "a?b.txt"


def test_names_stored_with_escapes_get_their_letters_back() -> None:
    assert unescape_stored_name("Referat_Byr\\xe5d_\\xe6\\xf8_2024.txt") == "Referat_Byråd_æø_2024.txt"
    # Only the escapes the ingest wrote (bytes 0x80-0xff): other backslashes are left as they are.
    assert unescape_stored_name("C:\\x41\\notes.txt") == "C:\\x41\\notes.txt"

"""The pure inbox rules: ignored names, content sniffing, completeness, name and size checks."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.ingest import files
from services.ingest.files import FileSig, SettleTracker

INBOX = Path("/inbox")


@pytest.mark.parametrize(
    "name",
    ["report.pdf.part", "x.tmp", "X.TMP", "~$Referat.docx", ".hidden", ".~lock.x#", "dl.crdownload", "a.swp", "b~"],
)
def test_temporary_and_hidden_names_are_ignored(name: str) -> None:
    assert files.is_ignored_name(name)
    assert files.is_ignored(INBOX / name, INBOX)


@pytest.mark.parametrize(
    "name",
    [
        "Referat æøå.txt",
        "Byrådsmøde 2024-01-01.pdf",
        "-leading-dash.pdf",
        "a..b.pdf",
        "Referat..pdf",
        "x" * 200 + ".pdf",
        "partial.pdf",
        "tmp",
    ],
)
def test_ordinary_names_are_candidates(name: str) -> None:
    assert not files.is_ignored_name(name)
    assert not files.is_ignored(INBOX / name, INBOX)


def test_processed_and_rejected_folders_are_ignored_but_other_subfolders_are_not() -> None:
    assert files.is_ignored(INBOX / "processed" / "a.pdf", INBOX)
    assert files.is_ignored(INBOX / "rejected" / "a.pdf.reason.txt", INBOX)
    assert files.is_ignored(INBOX / "processed", INBOX)
    assert files.is_ignored(INBOX / ".sync" / "a.pdf", INBOX)
    assert not files.is_ignored(INBOX / "2024" / "a.pdf", INBOX)
    assert not files.is_ignored(INBOX / "2024" / "processed" / "a.pdf", INBOX)
    assert files.is_ignored(Path("/elsewhere/a.pdf"), INBOX)
    assert files.is_ignored(INBOX, INBOX)


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.csv", "a,b")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7\n...", files.PDF),
        (b"\x00\x00junk%PDF-1.4", files.PDF),
        (b"<!DOCTYPE html><html><body>x</body></html>", files.HTML),
        (b"\xef\xbb\xbf  <html lang='da'>", files.HTML),
        (b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">', files.HTML),
        (b"<HEAD><title>x</title>", files.HTML),
        ("Referat fra mødet i Byrådet".encode(), files.TEXT),
        ("Referat fra mødet".encode("cp1252"), files.TEXT),
        (b"\x89PNG\r\n\x1a\n\x00\x00", files.BINARY),
        (b"\x00\x01\x02\x03", files.BINARY),
        (_docx(), files.DOCX),
        (_zip(), files.BINARY),
        (b"PK\x03\x04 truncated", files.BINARY),
        # Structured exports, as the parser tells them (ingest's own sniffer called them text before).
        (b'{"Meeting": {"Title": "x"}, "Items": []}', files.JSON),
        (b'\xef\xbb\xbf<?xml version="1.0"?>\n<Publication><Item/></Publication>', files.XML),
        (b"<Publication>\n  <Item>1</Item>\n</Publication>", files.XML),
    ],
)
def test_sniffing_by_magic_bytes(data: bytes, expected: str) -> None:
    assert files.sniff_content_type(data) == expected


def test_text_cut_inside_a_multibyte_character_is_still_text() -> None:
    data = ("a" * 8191 + "æ").encode()  # the sample ends half-way through "æ"
    assert files.sniff_content_type(data) == files.TEXT


@given(st.binary(max_size=4096))
def test_sniffing_never_fails(data: bytes) -> None:
    assert files.sniff_content_type(data) in set(files.CONTENT_TYPES.values()) | {files.BINARY}


def _sig(size: int, mtime_s: float, *, link: bool = False) -> FileSig:
    return FileSig(size=size, mtime_ns=int(mtime_s * 1e9), ino=1, is_symlink=link, is_regular=not link)


def test_a_growing_file_is_complete_only_after_it_stops_changing() -> None:
    tracker = SettleTracker(settle_s=0.5)
    path = INBOX / "a.pdf"
    wall = 1000.0
    assert not tracker.observe(path, _sig(10, wall), now=0.0, wall_now=wall)
    assert not tracker.observe(path, _sig(20, wall + 0.3), now=0.3, wall_now=wall + 0.3)
    assert not tracker.observe(path, _sig(20, wall + 0.3), now=0.7, wall_now=wall + 0.7)
    assert tracker.observe(path, _sig(20, wall + 0.3), now=0.81, wall_now=wall + 0.81)
    assert path not in tracker


def test_an_old_file_is_complete_at_once() -> None:
    """Present at start-up, or written elsewhere then renamed in: its mtime is already old."""
    tracker = SettleTracker(settle_s=0.5)
    assert tracker.observe(INBOX / "a.pdf", _sig(10, 900.0), now=0.0, wall_now=1000.0)


def test_an_empty_file_waits_longer_before_counting_as_complete() -> None:
    tracker = SettleTracker(settle_s=0.5, empty_settle_s=2.0)
    path = INBOX / "a.pdf"
    assert not tracker.observe(path, _sig(0, 1000.0), now=0.0, wall_now=1000.0)
    assert not tracker.observe(path, _sig(0, 1000.0), now=1.0, wall_now=1001.0)
    assert tracker.observe(path, _sig(0, 1000.0), now=2.0, wall_now=1002.0)


def test_symlinks_and_vanished_files() -> None:
    tracker = SettleTracker(settle_s=0.5)
    assert tracker.observe(INBOX / "l", _sig(5, 1000.0, link=True), now=0.0, wall_now=1000.0)
    assert not tracker.observe(INBOX / "a", _sig(5, 1000.0), now=0.0, wall_now=1000.0)
    assert not tracker.observe(INBOX / "a", None, now=0.1, wall_now=1000.1)
    assert len(tracker) == 0


def test_names_that_are_not_utf8_are_shown_escaped() -> None:
    latin1 = os.fsdecode("Referat Køge.txt".encode("latin-1"))
    assert files.display_name(latin1) == "Referat K\\xf8ge.txt"
    assert files.display_name("Referat æøå.txt") == "Referat æøå.txt"
    assert files.display_name("line\nbreak.pdf") == "line\nbreak.pdf"


def test_size_problems() -> None:
    assert files.size_problem(0, 50) == "empty file"
    assert files.size_problem(1, 50) is None
    assert files.size_problem(50 * 1024 * 1024, 50) is None
    assert files.size_problem(int(61.2 * 1024 * 1024), 50) == "file is 61.2 MB, over the 50 MB cap"
    assert files.size_problem(2000, 0.001) == "file is 0.0 MB, over the 0.001 MB cap"


def test_fit_name_keeps_within_name_max() -> None:
    name = "æ" * 120 + ".pdf"  # 244 bytes
    fitted = files.fit_name(name, ".reason.txt")
    assert fitted.endswith(".reason.txt")
    assert len(os.fsencode(fitted)) <= files.NAME_MAX
    assert files.fit_name("short.pdf", ".reason.txt") == "short.pdf.reason.txt"


def _written(size: int, mtime_s: float, ctime_s: float) -> FileSig:
    return FileSig(size=size, mtime_ns=int(mtime_s * 1e9), ino=1, ctime_ns=int(ctime_s * 1e9))


def test_a_file_open_for_writing_is_never_complete_however_old_and_still() -> None:
    tracker = SettleTracker(settle_s=0.5, stable_s=10.0)
    path = INBOX / "slow.txt"
    sig = _written(1024, 900.0, 900.0)  # a writer that paused for 100 s
    assert not any(
        tracker.observe(path, sig, now=t, wall_now=1000.0 + t, writing=True) for t in (0.0, 5.0, 60.0, 600.0)
    )
    # Closed: complete once unchanged for the settle window (it is long unchanged already).
    assert tracker.observe(path, sig, now=601.0, wall_now=1601.0, writing=False)


def test_renamed_into_place_after_its_last_write_is_complete_at_once() -> None:
    tracker = SettleTracker(settle_s=0.5, stable_s=10.0)
    # ctime after mtime: renamed (or chmod-ed) after the last write, e.g. `mv staging/x inbox/`.
    assert tracker.observe(INBOX / "a.txt", _written(10, 999.9, 1000.0), now=0.0, wall_now=1000.0, writing=False)
    # Written in place, just now: waits for the settle window.
    assert not tracker.observe(INBOX / "b.txt", _written(10, 1000.0, 1000.0), now=0.0, wall_now=1000.0, writing=False)


def test_when_writers_cannot_be_seen_the_long_stable_window_applies() -> None:
    tracker = SettleTracker(settle_s=0.5, stable_s=10.0)
    path = INBOX / "share.txt"
    sig = _written(10, 1000.0, 1000.0)
    assert not tracker.observe(path, sig, now=0.0, wall_now=1000.0, writing=None)
    assert not tracker.observe(path, sig, now=5.0, wall_now=1005.0, writing=None)
    assert tracker.observe(path, sig, now=10.0, wall_now=1010.0, writing=None)


def test_a_version_inotify_saw_renamed_into_place_is_complete_at_once_even_in_the_same_clock_tick() -> None:
    tracker = SettleTracker(settle_s=0.5, stable_s=10.0)
    same_tick = _written(10, 1000.0, 1000.0)  # moved in the tick of its last write: ctime == mtime
    assert tracker.observe(INBOX / "a.txt", same_tick, now=0.0, wall_now=1000.0, writing=False, renamed=True)
    # Opened again after the rename: a writer is at work, so not complete whatever inotify said.
    assert not tracker.observe(INBOX / "b.txt", same_tick, now=0.0, wall_now=1000.0, writing=True, renamed=True)


def test_the_walk_for_writers_is_asked_only_when_a_file_could_complete() -> None:
    """The watcher walks /proc only for files `could_complete` names: a file just written in place is not yet
    complete whoever holds it, so it is not asked about; a renamed or settled one is."""
    tracker = SettleTracker(settle_s=0.5, stable_s=10.0)
    fresh, renamed = INBOX / "fresh.txt", INBOX / "renamed.txt"
    sig = _written(10, 1000.0, 1000.0)
    assert not tracker.could_complete(fresh, sig, now=0.0, wall_now=1000.0, visible=True)
    assert tracker.could_complete(renamed, sig, now=0.0, wall_now=1000.0, visible=True, renamed=True)
    assert not tracker.observe(fresh, sig, now=0.0, wall_now=1000.0, writing=False)
    assert not tracker.could_complete(fresh, sig, now=0.4, wall_now=1000.4, visible=True)
    assert tracker.could_complete(fresh, sig, now=0.5, wall_now=1000.5, visible=True)
    # Writers unseen: the long window, and a rename proves nothing.
    assert not tracker.could_complete(renamed, sig, now=0.0, wall_now=1000.0, visible=False, renamed=True)


@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0.0, 3.0), st.booleans(), st.booleans()), max_size=12))
def test_could_complete_says_what_observe_would_say_were_nobody_writing(
    steps: list[tuple[int, float, bool, bool]],
) -> None:
    """Whatever came before (writes, pauses, renames, times a writer was seen), `could_complete` is True exactly
    when `observe(writing=False)` would return True: skipping the walk for the others changes no answer."""
    import copy

    tracker = SettleTracker(settle_s=0.5, stable_s=10.0)
    path, now = INBOX / "a.txt", 0.0
    for size, pause, renamed, seen_writing in steps:
        now += pause
        sig = _written(size, 1000.0 + now - pause, 1000.0 + now - pause)
        probe = copy.deepcopy(tracker)
        expected = probe.observe(path, sig, now=now, wall_now=1000.0 + now, writing=False, renamed=renamed)
        assert tracker.could_complete(path, sig, now=now, wall_now=1000.0 + now, visible=True, renamed=renamed) \
            == expected
        tracker.observe(path, sig, now=now, wall_now=1000.0 + now, writing=seen_writing, renamed=renamed)

"""Reading one file: symlinks never followed, size caps, unreadable files, moving out of the inbox."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from services.ingest import intake
from services.ingest.intake import Rejected, Stored, inspect_and_store, move_into
from shared.blobs import LocalBlobStore


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def test_a_file_is_stored_under_its_sha(inbox: Path, blobs: LocalBlobStore) -> None:
    data = b"%PDF-1.7 referat"
    (inbox / "a.pdf").write_bytes(data)
    result = inspect_and_store(inbox / "a.pdf", blobs, 50)
    assert isinstance(result, Stored)
    assert result.document_id == hashlib.sha256(data).hexdigest()
    assert result.content_type == "application/pdf"
    assert result.size == len(data)
    assert blobs.get(result.blob_ref) == data


def test_symlink_is_rejected_and_never_read(inbox: Path, tmp_path: Path, blobs: LocalBlobStore) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not ingest")
    (inbox / "link.txt").symlink_to(secret)
    result = inspect_and_store(inbox / "link.txt", blobs, 50)
    assert isinstance(result, Rejected)
    assert result.reason.startswith("symlink not followed")
    assert str(secret) in result.reason
    assert result.error_type == "SymlinkNotFollowed"
    assert not (tmp_path / "blobs").exists()


def test_empty_and_oversize(inbox: Path, blobs: LocalBlobStore) -> None:
    (inbox / "empty.pdf").write_bytes(b"")
    (inbox / "big.txt").write_bytes(b"x" * 3000)
    empty = inspect_and_store(inbox / "empty.pdf", blobs, 50)
    big = inspect_and_store(inbox / "big.txt", blobs, 0.002)
    assert isinstance(empty, Rejected)
    assert empty.reason == "empty file"
    assert isinstance(big, Rejected)
    assert big.reason == "file is 0.0 MB, over the 0.002 MB cap"
    assert big.error_type == "FileTooLarge"


def test_fifo_is_not_a_regular_file(inbox: Path, blobs: LocalBlobStore) -> None:
    os.mkfifo(inbox / "pipe")
    result = inspect_and_store(inbox / "pipe", blobs, 50)
    assert isinstance(result, Rejected)
    assert result.reason == "not a regular file"


def test_unreadable_file(inbox: Path, blobs: LocalBlobStore, monkeypatch: pytest.MonkeyPatch) -> None:
    (inbox / "locked.pdf").write_bytes(b"%PDF-1.4")

    def denied(*_: object) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(intake, "_read_capped", denied)
    result = inspect_and_store(inbox / "locked.pdf", blobs, 50)
    assert isinstance(result, Rejected)
    assert result.reason == "unreadable: Permission denied"


@pytest.mark.parametrize("raw", [b"Referat K\xf8ge.txt", b"line\nbreak.txt"])
def test_any_name_the_os_can_hold_is_taken(inbox: Path, blobs: LocalBlobStore, raw: bytes) -> None:
    """A Latin-1 name from a Windows share (not UTF-8), or a newline: legitimate minutes all the same."""
    path = Path(os.fsdecode(os.fsencode(inbox) + b"/" + raw))
    path.write_bytes(b"hello")
    result = inspect_and_store(path, blobs, 50)
    assert isinstance(result, Stored)
    assert blobs.get(result.blob_ref) == b"hello"


def test_vanished_file(inbox: Path, blobs: LocalBlobStore) -> None:
    assert inspect_and_store(inbox / "nope.pdf", blobs, 50) is None


def test_move_into_keeps_both_on_a_name_clash_and_writes_the_reason(inbox: Path) -> None:
    rejected = inbox / "rejected"
    for content in (b"one", b"two"):
        (inbox / "a.pdf").write_bytes(content)
        intake.move_into(inbox / "a.pdf", rejected, "empty file")
    assert (rejected / "a.pdf").read_bytes() == b"one"
    assert (rejected / "a (2).pdf").read_bytes() == b"two"
    assert (rejected / "a (2).pdf.reason.txt").read_text() == "empty file\n"


def test_move_into_fits_a_long_name_with_its_reason_file(inbox: Path) -> None:
    name = "æ" * 120 + ".pdf"
    (inbox / name).write_bytes(b"x")
    target = intake.move_into(inbox / name, inbox / "rejected", "why")
    assert target is not None
    assert target.read_bytes() == b"x"
    assert target.with_name(target.name + ".reason.txt").read_text() == "why\n"


def test_move_into_moves_the_link_not_its_target(inbox: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (inbox / "l").symlink_to(outside)
    target = intake.move_into(inbox / "l", inbox / "rejected", "symlink not followed")
    assert target is not None
    assert target.is_symlink()
    assert outside.read_text() == "keep"


def test_a_reason_file_is_never_written_through_a_symlink(inbox: Path, tmp_path: Path) -> None:
    """Someone who can write the inbox plants `rejected/x.pdf.reason.txt -> a file of the service user`."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    rejected = inbox / "rejected"
    rejected.mkdir()
    (rejected / "x.pdf.reason.txt").symlink_to(victim)
    (inbox / "x.pdf").write_bytes(b"junk")
    moved = move_into(inbox / "x.pdf", rejected, "not minutes")
    # Another name is chosen, whose reason file does not exist yet; the link and its target are untouched.
    assert moved is not None and moved.name == "x (2).pdf"
    assert (rejected / "x (2).pdf.reason.txt").read_text() == "not minutes\n"
    assert victim.read_text() == "precious"


def test_a_rejected_folder_that_is_a_symlink_is_not_written_into(inbox: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (inbox / "rejected").symlink_to(elsewhere, target_is_directory=True)
    (inbox / "x.pdf").write_bytes(b"junk")
    with pytest.raises(OSError, match="symlink"):
        move_into(inbox / "x.pdf", inbox / "rejected", "not minutes")
    assert list(elsewhere.iterdir()) == []
    assert (inbox / "x.pdf").exists()


def test_the_blob_keeps_a_record_of_the_file_and_lists_only_blobs(inbox: Path, blobs: LocalBlobStore) -> None:
    (inbox / "første.txt").write_bytes(b"Referat\nPunkt 1\n")
    result = inspect_and_store(inbox / "første.txt", blobs, 50)
    assert isinstance(result, Stored)
    record = blobs.get_record(result.document_id)
    assert record is not None
    assert (record.original_name, record.size, record.content_type) == ("første.txt", result.size, result.content_type)
    assert record.received_at == result.received_at and record.source == str(inbox / "første.txt")
    # The same bytes under another name: the first name stays (like ingest's seen set).
    (inbox / "anden.txt").write_bytes(b"Referat\nPunkt 1\n")
    inspect_and_store(inbox / "anden.txt", blobs, 50)
    assert blobs.get_record(result.document_id) == record
    # Records and temp files beside the blobs are not blobs.
    (blobs.path_for(result.document_id).parent / ".tmp-x").write_bytes(b"partial")
    assert [b.document_id for b in blobs.list_blobs()] == [result.document_id]


def test_a_blob_without_or_with_a_torn_record(blobs: LocalBlobStore) -> None:
    ref = blobs.put(b"stored before records existed")
    digest = Path(ref).name
    assert blobs.get_record(digest) is None
    blobs.path_for(digest).with_suffix(".json").write_bytes(b'{"document_id": "')
    assert blobs.get_record(digest) is None
    assert [b.document_id for b in blobs.list_blobs()] == [digest]
    assert LocalBlobStore(blobs.root / "missing").get_record(digest) is None
    assert list(LocalBlobStore(blobs.root / "missing").list_blobs()) == []

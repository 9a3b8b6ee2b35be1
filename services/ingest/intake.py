"""Blocking file work run in threads: check one file, read it without following links, store its bytes."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from services.ingest import files
from shared.blobs import BlobCatalog, BlobRecord, BlobStore, HashFactory, HashObject
from shared.contracts.events import utcnow
from shared.filenames import readable_name
from shared.logging import get_logger

log = get_logger(__name__)

# Read in 1 MiB chunks, each hashed as it arrives (the file's one hash: the blob store is given the digest),
# and so that a file over the cap is stopped early.
CHUNK = 1 << 20


@dataclass(frozen=True)
class Stored:
    """A complete file whose bytes are in the blob store."""

    path: Path
    document_id: str
    size: int
    content_type: str
    blob_ref: str
    # size:mtime:inode of the version read: the file is moved only if it is still this version.
    marker: str = ""
    # When the bytes were accepted: the DocumentReceived and the blob's record say the same time.
    received_at: dt.datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Rejected:
    """A file ingest will not take, and why (the reason is shown to the user as is)."""

    path: Path
    reason: str
    error_type: str
    size: int | None
    marker: str  # identifies this version of the file, so a rescan does not report it again


def inspect_and_store(
    path: Path, blobs: BlobStore, max_file_mb: float, hash_factory: HashFactory = hashlib.sha256
) -> Stored | Rejected | None:
    """Check one file and store its bytes, hashed once while read; a Rejected says why not; None when it
    vanished meanwhile."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return _reject(path, f"unreadable: {exc.strerror or exc}", "Unreadable", None, "")
    marker = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
    if stat.S_ISLNK(st.st_mode):
        # Never followed: a link could expose any file the service can read (e.g. outside the inbox).
        return _reject(path, _symlink_reason(path), "SymlinkNotFollowed", None, marker)
    if not stat.S_ISREG(st.st_mode):
        return _reject(path, "not a regular file", "NotRegularFile", None, marker)
    # Any name the OS can hold is taken: non-UTF-8 bytes and control characters included (shown escaped).
    problem = files.size_problem(st.st_size, max_file_mb)
    if problem:
        return _reject(path, problem, "EmptyFile" if st.st_size == 0 else "FileTooLarge", st.st_size, marker)
    try:
        data, during, digest = _read_capped(path, int(max_file_mb * 1024 * 1024), hash_factory())
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a symlink between lstat and open
            return _reject(path, _symlink_reason(path), "SymlinkNotFollowed", None, marker)
        return _reject(path, f"unreadable: {exc.strerror or exc}", "Unreadable", st.st_size, marker)
    # Sizes are re-checked on the bytes read: the file may have changed since the lstat.
    problem = files.size_problem(len(data), max_file_mb)
    if problem:
        kind = "EmptyFile" if not data else "FileTooLarge"
        return _reject(path, problem, kind, len(data), marker)
    if (during.st_size, during.st_mtime_ns, during.st_ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
        # Written to while it was read: these bytes may be a partial version. It comes back when complete.
        return None
    blob_ref = blobs.put(data, digest)
    content_type = files.sniff_content_type(data)
    received_at = utcnow()
    record = BlobRecord(
        document_id=digest, original_name=readable_name(path.name), size=len(data),
        content_type=content_type, source=files.display_name(str(path)), received_at=received_at,
    )
    keep_record(blobs, record)
    return Stored(path, digest, len(data), content_type, blob_ref, marker, received_at)


def keep_record(blobs: BlobStore, record: BlobRecord) -> None:
    """Write the blob's record (before its DocumentReceived is published), where the store keeps records.

    Best effort: the record only lets `minutes check` re-publish a lost document under its own name and
    time; without it the document is still recovered (named by its id), so a failure must not stop ingest.
    """
    if not isinstance(blobs, BlobCatalog):
        return  # a store without records (test fakes)
    try:
        blobs.put_record(record)
    except Exception as exc:
        log.warning("could not write the blob's record", document_id=record.document_id, error=str(exc))


def _read_capped(path: Path, cap: int, hasher: HashObject) -> tuple[bytes, os.stat_result, str]:
    """Read at most cap+1 bytes, refusing symlinks and never blocking on a FIFO swapped in meanwhile;
    also returns the file's fstat after the read (to tell whether it changed meanwhile) and the bytes'
    sha256, fed chunk by chunk."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        chunks: list[bytes] = []
        total = 0
        # The whole file in the first read when it is unchanged (one more byte to see a growth): joining
        # one chunk returns it as it is, where chunks joined would hold the document twice at once.
        want = opened.st_size + 1
        while total <= cap:
            chunk = os.read(fd, min(max(want, CHUNK), cap + 1 - total))
            want = 0
            if not chunk:
                break
            chunks.append(chunk)
            hasher.update(chunk)
            total += len(chunk)
        return b"".join(chunks), os.fstat(fd), hasher.hexdigest()
    finally:
        os.close(fd)


def _symlink_reason(path: Path) -> str:
    """The symlink reason, naming the target (which is only read, never opened)."""
    try:
        target = os.readlink(path)
    except OSError:
        return "symlink not followed"
    return f"symlink not followed (points to {files.display_name(str(target))})"


def _reject(path: Path, reason: str, error_type: str, size: int | None, marker: str) -> Rejected:
    return Rejected(path, reason, error_type, size, f"{marker}:{reason}")


def unique_destination(folder: Path, name: str, suffix_for_room: str = "") -> Path:
    """A path in `folder` for `name` that does not exist yet (`name (2)`, `name (3)`, ...)."""
    candidate = folder / files.fit_name(name, suffix_for_room)
    if suffix_for_room:
        candidate = candidate.with_name(candidate.name[: -len(suffix_for_room)])
    if _free(candidate, suffix_for_room):
        return candidate
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    for n in range(2, 10_000):
        tail = f" ({n}){'.' + ext if ext else ''}"
        candidate = folder / files.fit_name(stem, tail + suffix_for_room)
        if suffix_for_room:
            candidate = candidate.with_name(candidate.name[: -len(suffix_for_room)])
        if _free(candidate, suffix_for_room):
            return candidate
    raise FileExistsError(f"no free name for {name} in {folder}")


def _free(candidate: Path, suffix: str) -> bool:
    """Neither the name nor its companion (`name + suffix`, the reason file) exists, not even as a link."""
    names = [candidate, candidate.with_name(candidate.name + suffix)] if suffix else [candidate]
    return not any(os.path.lexists(name) for name in names)


def version_marker(path: Path) -> str | None:
    """size:mtime:inode of the file now (lstat), or None when it is gone."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def _real_folder(folder: Path) -> None:
    """Create `folder` if needed and refuse it when it is a symlink (a link could send writes anywhere)."""
    folder.mkdir(parents=True, exist_ok=True)
    if stat.S_ISLNK(os.lstat(folder).st_mode):
        raise OSError(errno.ELOOP, f"{folder} is a symlink; not writing through it")


def write_reason(note: Path, reason: str) -> None:
    """Create the reason file; never through a symlink, never over an existing file (O_NOFOLLOW, O_EXCL)."""
    fd = os.open(note, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(reason + "\n")


def move_into(path: Path, folder: Path, reason: str | None = None) -> Path | None:
    """Move a file (or symlink, not its target) into `folder`, with `<name>.reason.txt` when a reason is given."""
    _real_folder(folder)
    room = ".reason.txt" if reason is not None else ""
    target = unique_destination(folder, path.name, room)
    try:
        os.rename(path, target)
    except FileNotFoundError:
        return None
    if reason is not None:
        write_reason(target.with_name(target.name + ".reason.txt"), reason)
    return target

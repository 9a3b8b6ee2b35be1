"""Pure inbox rules: which names to ignore, when a file is complete, what its bytes are, why it is rejected."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

PDF = "application/pdf"
HTML = "text/html"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
BINARY = "application/octet-stream"
JSON = "application/json"
XML = "application/xml"
# The parser's format names (services.parser.core.formats.detect_format) as content types.
CONTENT_TYPES = {"pdf": PDF, "html": HTML, "docx": DOCX, "txt": TEXT, "json": JSON, "xml": XML}

PROCESSED_DIR = "processed"
REJECTED_DIR = "rejected"

# Suffixes of half-written files: browsers, rsync/curl temp files, editors' swap files.
TEMP_SUFFIXES = (".part", ".tmp", ".temp", ".crdownload", ".download", ".partial", ".swp", ".swx", "~")
# Linux NAME_MAX, in bytes: a reason file name must fit in it.
NAME_MAX = 255


def is_ignored_name(name: str) -> bool:
    """True for names that are never documents: dotfiles, Office lock files, temporary download names."""
    lowered = name.lower()
    return name.startswith(".") or name.startswith("~$") or lowered.endswith(TEMP_SUFFIXES)


def is_ignored(path: Path, inbox: Path) -> bool:
    """True when the path is not a candidate: an ignored name, or inside the processed/ or rejected/ folder."""
    try:
        parts = path.relative_to(inbox).parts
    except ValueError:
        return True
    if not parts:
        return True
    if parts[0] in (PROCESSED_DIR, REJECTED_DIR):
        return True
    # A temporary or hidden folder hides everything below it (e.g. `.sync/`), like the name rules for files.
    return any(is_ignored_name(part) for part in parts)


def sniff_content_type(data: bytes) -> str:
    """The content type of the bytes as the parser will read them: its own format sniffer decides (pdf, docx,
    html, text, a JSON or XML export), so ingest and parser never disagree; what it refuses is octet-stream.

    Imported here, not at the top: the parser core's package pulls in all of it (~0.3 s), which the ingest
    service pays once at its first file, and the commands that only need the name rules never."""
    from services.parser.core.errors import DocumentError, EmptyDocument
    from services.parser.core.formats import detect_format

    try:
        return CONTENT_TYPES[detect_format(data)]
    except EmptyDocument:  # blanks only: text (ingest rejects empty files before, the parser these)
        return TEXT
    except DocumentError:  # refused (an image, an archive, binary data)
        return BINARY


@dataclass(frozen=True)
class FileSig:
    """What identifies one version of a file on disk without reading it."""

    size: int
    mtime_ns: int
    ino: int
    is_symlink: bool = False
    is_regular: bool = True
    # Not part of the version: a rename or chmod changes the ctime, not the content.
    ctime_ns: int = field(default=0, compare=False)
    uid: int = field(default=-1, compare=False)

    @classmethod
    def of(cls, st: os.stat_result) -> FileSig:
        """The signature of an lstat result."""
        return cls(
            size=st.st_size,
            mtime_ns=st.st_mtime_ns,
            ino=st.st_ino,
            is_symlink=stat.S_ISLNK(st.st_mode),
            is_regular=stat.S_ISREG(st.st_mode),
            ctime_ns=st.st_ctime_ns,
            uid=st.st_uid,
        )

    @property
    def finalised(self) -> bool:
        """Changed after its last write (renamed into place, or its mode or times set): a writer's last step.

        A write sets mtime and ctime to the same instant; only a later rename, chmod or utime moves the
        ctime past the mtime.
        """
        return self.size > 0 and self.ctime_ns > self.mtime_ns


@dataclass
class SettleTracker:
    """Decides when a file is complete (never before), from what the watcher can tell about its writers.

    - some process has it open for writing (`writing=True`): not complete, whatever its age;
    - nobody has it open (`writing=False`) and it was renamed into place after its last write (inotify said
      so, `renamed`, or its ctime is past its mtime): complete;
    - nobody has it open: complete once unchanged (size, mtime) for `settle_s`, or already that old;
    - writers cannot be seen (`writing=None`: no /proc, another user's file, a network mount): complete once
      unchanged for `stable_s`, long enough for slow writers.
    """

    settle_s: float
    # Writers often create a file and fill it a moment later: an empty file waits longer before it is
    # rejected as empty, so a slow start is not mistaken for an empty document.
    empty_settle_s: float = 2.0
    stable_s: float | None = None  # None: the same as settle_s
    _since: dict[Path, tuple[FileSig, float]] = field(default_factory=dict)

    def observe(
        self,
        path: Path,
        sig: FileSig | None,
        now: float,
        wall_now: float,
        writing: bool | None = None,
        renamed: bool = False,
    ) -> bool:
        """Record the path's current signature; True when it is complete (and stop tracking it).

        `renamed`: inotify reported this very version (`sig`) moved into place. The ctime test alone misses
        a rename in the same clock tick as the last write (file times have the kernel's tick, ~4 ms)."""
        if sig is None:  # gone before it settled
            self._since.pop(path, None)
            return False
        if sig.is_symlink or not sig.is_regular:
            # Never read, so nothing to wait for: the handler rejects it.
            self._since.pop(path, None)
            return True
        if writing:
            self._since[path] = (sig, now)
            return False
        if writing is False and (renamed or sig.finalised):
            self._since.pop(path, None)
            return True
        window = self.settle_s if writing is False or self.stable_s is None else self.stable_s
        settle = max(window, self.empty_settle_s) if sig.size == 0 else window
        previous = self._since.get(path)
        if previous is None:
            if wall_now - sig.mtime_ns / 1e9 >= settle:
                return True
            self._since[path] = (sig, now)
            return False
        old_sig, since = previous
        if old_sig != sig:
            self._since[path] = (sig, now)
            return False
        if now - since >= settle:
            del self._since[path]
            return True
        return False

    def could_complete(
        self, path: Path, sig: FileSig, now: float, wall_now: float, visible: bool, renamed: bool = False
    ) -> bool:
        """Whether `observe` would call this file complete were nobody writing it (nothing is recorded).

        Asking which processes hold a file open costs a walk of /proc (milliseconds on a busy machine); the
        answer only matters for a file that is otherwise complete, since one being written and one not yet
        settled are both "not yet" whoever holds them. The watcher walks for these files alone.
        """
        if sig.is_symlink or not sig.is_regular:
            return True
        if visible and (renamed or sig.finalised):
            return True
        window = self.settle_s if visible or self.stable_s is None else self.stable_s
        settle = max(window, self.empty_settle_s) if sig.size == 0 else window
        previous = self._since.get(path)
        if previous is None:
            return wall_now - sig.mtime_ns / 1e9 >= settle
        old_sig, since = previous
        return old_sig == sig and now - since >= settle

    def forget(self, path: Path) -> None:
        """Stop tracking a path (deleted)."""
        self._since.pop(path, None)

    def __contains__(self, path: object) -> bool:
        return path in self._since

    def __len__(self) -> int:
        return len(self._since)

    def paths(self) -> list[Path]:
        """The paths waiting to settle."""
        return list(self._since)


def display_name(name: str) -> str:
    """A name safe to log and to put in an event: bytes that are not UTF-8 (a Latin-1 name from a Windows
    share) shown as `\\xNN` escapes; the file itself keeps its name, bytes and all."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def size_problem(size: int, max_file_mb: float) -> str | None:
    """Why a file of this size is rejected, or None."""
    if size == 0:
        return "empty file"
    if size > max_file_mb * 1024 * 1024:
        return f"file is {size / 1024 / 1024:.1f} MB, over the {max_file_mb:g} MB cap"
    return None


def fit_name(name: str, suffix: str = "") -> str:
    """`name + suffix` shortened (in the middle of the name) to fit NAME_MAX bytes."""
    full = name + suffix
    if len(os.fsencode(full)) <= NAME_MAX:
        return full
    budget = NAME_MAX - len(os.fsencode(suffix))
    stem = name
    while len(os.fsencode(stem)) > budget:
        stem = stem[:-1]
    return stem + suffix

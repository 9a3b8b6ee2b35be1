"""Which files some process still has open for writing, from /proc (Linux): the sign a file is not complete.

watchfiles reports no `close_write`, so "closed after writing" is read from the processes' open files
instead: `/proc/<pid>/fd/<n>` names the file, `/proc/<pid>/fdinfo/<n>` its access mode. Only processes of
this user (or all, as root) can be inspected, so the answer is trusted only for files this user owns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")


def can_see_writers(st_uid: int) -> bool:
    """Whether /proc shows every likely writer of a file owned by `st_uid` (its owner's processes)."""
    if not (PROC / "self" / "fd").is_dir():
        return False
    uid = os.geteuid()
    return uid == 0 or uid == st_uid


def open_for_writing(paths: Iterable[Path], proc: Path = PROC) -> set[Path]:
    """The paths among `paths` that some visible process holds open with write access."""
    wanted = {os.fsencode(path): path for path in paths}
    if not wanted:
        return set()
    found: set[Path] = set()
    me = str(os.getpid())
    try:
        pids = [name for name in os.listdir(proc) if name.isdigit() and name != me]
    except OSError:
        return found
    for pid in pids:
        fd_dir = proc / pid / "fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:  # another user's process, or gone
            continue
        for fd in fds:
            try:
                target = os.readlink(os.fsencode(fd_dir / fd))
            except OSError:
                continue
            if target in wanted and _writable(proc / pid / "fdinfo" / fd):
                found.add(wanted[target])
        if len(found) == len(wanted):
            break
    return found


def _writable(fdinfo: Path) -> bool:
    try:
        text = fdinfo.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags:"):
            flags = int(line.split()[1], 8)
            return (flags & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)
    return False

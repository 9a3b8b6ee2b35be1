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
    """The paths among `paths` that some visible process holds open with write access.

    One walk reads every descriptor of every process (thousands on a busy machine), and ingest walks once per
    check while files are pending, so the walk is written for the system calls alone: each process's `fd`
    directory is opened once and its links read relative to it (`dir_fd`), instead of
    building and resolving a path per descriptor (17.6 -> 3.4 ms of CPU a walk over 2,300 descriptors).
    """
    # Links read through a str name come back as str, undecodable bytes as surrogates: os.fspath matches them.
    wanted = {os.fspath(path): path for path in paths}
    if not wanted:
        return set()
    found: set[Path] = set()
    root = os.fspath(proc)
    me = str(os.getpid())
    try:
        pids = [name for name in os.listdir(root) if name.isdigit() and name != me]
    except OSError:
        return found
    readlink = os.readlink
    for pid in pids:
        try:
            fd_dir = os.open(f"{root}/{pid}/fd", os.O_RDONLY | os.O_DIRECTORY)
        except OSError:  # another user's process, or gone
            continue
        try:
            fds = os.listdir(fd_dir)
            for fd in fds:
                try:
                    target = readlink(fd, dir_fd=fd_dir)
                except OSError:
                    continue
                if target in wanted and _writable(f"{root}/{pid}/fdinfo/{fd}"):
                    found.add(wanted[target])
        except OSError:
            continue
        finally:
            os.close(fd_dir)
        if len(found) == len(wanted):
            break
    return found


def _writable(fdinfo: str) -> bool:
    try:
        with open(fdinfo, encoding="ascii", errors="replace") as f:
            text = f.read()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags:"):
            flags = int(line.split()[1], 8)
            return (flags & os.O_ACCMODE) in (os.O_WRONLY, os.O_RDWR)
    return False

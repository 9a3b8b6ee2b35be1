"""Files renamed into the inbox (inotify's IN_MOVED_TO), which watchfiles reports as plain additions.

A rename is a writer's last step (written elsewhere, then moved into place: `mv`, rsync, curl -o plus mv,
most upload tools), so a file reported moved in, with no writer, is complete at once. Without this the
watcher falls back to file times (ctime past mtime), which miss a rename in the same kernel clock tick as
the last write and then wait out the settle window, a second by default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from shared.logging import get_logger

log = get_logger(__name__)


async def watch_moves(inbox: Path, on_moved: Callable[[Path], None]) -> None:
    """Call `on_moved(path)` for every file renamed into `inbox` or a folder below it, until cancelled.

    Returns at once where inotify is not available (not Linux, or the watch limit reached), saying so once:
    completeness is then judged without it (see SettleTracker).
    """
    try:
        from asyncinotify import Mask, RecursiveInotify
    except ImportError:  # not Linux: the dependency is not installed there
        return
    try:
        inotify = RecursiveInotify()
        # Folders created or moved in get watches of their own (RecursiveInotify); the folders' files that
        # came with them are found by the watcher's scan.
        inotify.add_recursive_watch(inbox, Mask.MOVED_TO)
    except (OSError, ValueError) as exc:
        log.warning("renames into the inbox are judged by file times only", reason=str(exc))
        return
    with contextlib.closing(inotify):
        while True:
            event = await inotify.get()
            if Mask.MOVED_TO in event.mask and Mask.ISDIR not in event.mask and event.path is not None:
                on_moved(event.path)

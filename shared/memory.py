"""Freed memory goes back to the operating system (glibc's malloc; elsewhere nothing is set).

Large buffers (set once per service process, `release_large_buffers`): glibc serves an allocation of 128 KiB
or more with its own mmap, returned to the system when freed, but it raises that threshold to the size of each
such block freed (up to 32 MiB): after the first large document, the next ones' buffers (event bodies, section
texts, SQL parameters of a few MB) come from the heap, which is returned only from its top, so a service kept
its peak for good (the store stayed at 215 MB after storing a 49 MB document). Fixing the threshold turns the
adjustment off.

Many small objects (the API after a burst of live clients, issue 22): CPython's own allocator (pymalloc)
returns a 1 MiB arena only once every object in it is gone, and a few survivors of a burst (a timer handle,
a cached entry, CPython's free lists) sit in most of the arenas the burst added: 1,000 SSE clients left the
API 16–22 MB above its start even after a full collection and `malloc_trim`. Under glibc's malloc
(PYTHONMALLOC=malloc, `use_system_malloc`) a survivor holds only its 4 KiB page, and `return_freed` (a full
collection, which also empties the free lists, then `malloc_trim`) gives the rest back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import sys
import time
from functools import cache

from shared.logging import get_logger

log = get_logger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
THRESHOLD = 128 * 1024  # glibc's default, kept fixed


@cache
def _libc() -> ctypes.CDLL | None:
    """glibc, or None when this C library has no mallopt/malloc_trim (musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.mallopt  # noqa: B018 (the lookup fails without glibc)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError, TypeError):
        log.debug("not glibc: malloc left as it is", libc=name)
        return None
    return libc


def release_large_buffers() -> bool:
    """Fix malloc's mmap and trim thresholds (see above); True when set."""
    libc = _libc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, THRESHOLD)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 2 * THRESHOLD))


def use_system_malloc() -> None:
    """Run this process's Python objects on glibc's malloc (see above): re-executes the same command line
    (same pid) with PYTHONMALLOC=malloc, unless the environment already says which allocator to use or this
    is not glibc. Call it before the process has opened or started anything."""
    if "PYTHONMALLOC" in os.environ or _libc() is None:
        return
    os.environ["PYTHONMALLOC"] = "malloc"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def return_freed() -> float:
    """A full collection (which also empties CPython's free lists), then glibc's `malloc_trim`, which gives
    every whole free page back to the system; the milliseconds it took."""
    started = time.perf_counter()
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
    return (time.perf_counter() - started) * 1000

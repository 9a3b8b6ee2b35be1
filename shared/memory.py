"""Large buffers go back to the operating system when freed (glibc's malloc, set once per service process).

glibc serves an allocation of 128 KiB or more with its own mmap, returned to the system when freed, but it
raises that threshold to the size of each such block freed (up to 32 MiB): after the first large document,
the next ones' buffers (event bodies, section texts, SQL parameters of a few MB) come from the heap, which is
returned only from its top, so a service kept its peak for good (the store stayed at 215 MB after storing a
49 MB document). Fixing the threshold turns the adjustment off. Not glibc (musl, macOS): nothing to set.
"""

from __future__ import annotations

import ctypes
import ctypes.util

from shared.logging import get_logger

log = get_logger(__name__)

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
THRESHOLD = 128 * 1024  # glibc's default, kept fixed


def release_large_buffers() -> bool:
    """Fix malloc's mmap and trim thresholds (see above); True when set."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        log.debug("malloc thresholds not set: no glibc mallopt", libc=name)
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, 2 * THRESHOLD))

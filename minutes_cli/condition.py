"""A failure of the supervisor's own work (a restart, a file it writes), said once per change of state.

A full disk makes the same write fail every few seconds for as long as it lasts: one line when it starts
failing, one when the kind of failure changes, one when it works again — never one per attempt.
"""

from __future__ import annotations

import errno
import time
from typing import Any

from shared.logging import get_logger

log = get_logger(__name__)


def kind(error: BaseException) -> str:
    """What kind of failure, stable across attempts (no paths, pids or timestamps): `OSError ENOSPC`."""
    if isinstance(error, OSError) and error.errno is not None:
        return f"{type(error).__name__} {errno.errorcode.get(error.errno, error.errno)}"
    return type(error).__name__


def short(error: BaseException) -> str:
    """The error in one line of at most a few hundred characters."""
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:300]}"


class Condition:
    """One thing the supervisor does that can fail (`what`): `fail` and `clear` log only changes."""

    def __init__(self, what: str, **fields: Any) -> None:
        self.what = what
        self.fields = fields
        self.kind: str | None = None
        self.error: str | None = None
        self.since: float | None = None
        self.attempts = 0

    @property
    def failing(self) -> bool:
        """Whether the last attempt failed."""
        return self.kind is not None

    def fail(self, error: BaseException, **fields: Any) -> None:
        """An attempt failed: said when the failure starts or changes kind."""
        self.attempts += 1
        self.error = short(error)
        if kind(error) != self.kind:
            self.kind = kind(error)
            self.since = self.since or time.monotonic()
            log.error(f"{self.what} failed", error=self.error, **self.fields, **fields)

    def clear(self, **fields: Any) -> None:
        """An attempt worked: said when it follows failures."""
        if self.kind is not None:
            took = round(time.monotonic() - (self.since or time.monotonic()), 1)
            log.warning(f"{self.what} works again", failed_s=took, attempts=self.attempts, **self.fields, **fields)
        self.kind = self.error = self.since = None
        self.attempts = 0

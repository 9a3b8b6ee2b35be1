"""Bounds on the API's long requests: exports and live streams each hold a slot while they run.

A slot is taken without waiting: at the bound the request is refused at once with 429 and `Retry-After`
(a request that queued would hold its socket and, for an export, nothing would tell it how long). The count
is per API process and lives on the event loop (no lock: taking and giving back never await).
"""

from __future__ import annotations

from services.api.errors import ApiError


class Busy(ApiError):
    """429: the bound is reached; try again after `retry_after_s`."""

    def __init__(self, what: str, limit: int, retry_after_s: int) -> None:
        super().__init__(429, f"too many {what} at once (at most {limit}); try again in {retry_after_s} s")
        self.headers = {"Retry-After": str(retry_after_s)}


class Slots:
    """At most `limit` holders at once; `take` raises Busy beyond it."""

    def __init__(self, what: str, limit: int, retry_after_s: int) -> None:
        self.what = what
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.in_use = 0

    def take(self) -> Slot:
        """A slot (give it back with `Slot.release`, once; later calls do nothing)."""
        if self.in_use >= self.limit:
            raise Busy(self.what, self.limit, self.retry_after_s)
        self.in_use += 1
        return Slot(self)


class Slot:
    """One taken slot."""

    __slots__ = ("_slots",)

    def __init__(self, slots: Slots) -> None:
        self._slots: Slots | None = slots

    def release(self) -> None:
        """Give the slot back (idempotent: a response's several exits may all call it)."""
        if self._slots is not None:
            self._slots.in_use -= 1
            self._slots = None

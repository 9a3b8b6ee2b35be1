"""Bounds on the API's long requests: exports and live streams each hold a slot while they run.

A slot is taken without waiting: at the bound the request is refused at once with 429 and `Retry-After`
(a request that queued would hold its socket and, for an export, nothing would tell it how long). The count
is per API process and lives on the event loop (no lock: taking and giving back never await).

Live streams come in bursts (1,000 clients, then they leave): once most holders of a burst have gone, the
memory they used is given back to the system (`AfterBurst`, shared/memory.py), once per burst, not per client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from services.api.errors import ApiError
from shared.logging import get_logger
from shared.memory import return_freed

log = get_logger(__name__)

# A burst is over when the holders fall to a quarter of their peak or fewer, and by at least this many.
BURST_DROP = 100
# Then wait this long (the closed connections' own objects go as their transports close) before giving
# the memory back, if the holders are still that few.
BURST_SETTLE_S = 2.0


class Busy(ApiError):
    """429: the bound is reached; try again after `retry_after_s`."""

    def __init__(self, what: str, limit: int, retry_after_s: int) -> None:
        super().__init__(429, f"too many {what} at once (at most {limit}); try again in {retry_after_s} s")
        self.headers = {"Retry-After": str(retry_after_s)}


class Slots:
    """At most `limit` holders at once; `take` raises Busy beyond it."""

    def __init__(self, what: str, limit: int, retry_after_s: int, after_burst: AfterBurst | None = None) -> None:
        self.what = what
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.in_use = 0
        self.after_burst = after_burst

    def take(self) -> Slot:
        """A slot (give it back with `Slot.release`, once; later calls do nothing)."""
        if self.in_use >= self.limit:
            raise Busy(self.what, self.limit, self.retry_after_s)
        self.in_use += 1
        if self.after_burst is not None:
            self.after_burst.peak = max(self.after_burst.peak, self.in_use)
        return Slot(self)

    def _released(self) -> None:
        self.in_use -= 1
        if self.after_burst is not None:
            self.after_burst.fell_to(self.in_use, lambda: self.in_use)


class Slot:
    """One taken slot."""

    __slots__ = ("_slots",)

    def __init__(self, slots: Slots) -> None:
        self._slots: Slots | None = slots

    def release(self) -> None:
        """Give the slot back (idempotent: a response's several exits may all call it)."""
        if self._slots is not None:
            self._slots._released()
            self._slots = None


class AfterBurst:
    """Gives a burst's memory back once it is over: when the holders fall to a quarter of their peak or fewer
    (and by at least `drop`), `return_freed` runs once, `settle_s` later, if they are still that few. Its cost
    (a full collection and `malloc_trim`: 4–8 ms on the API, whose start-up objects are frozen out of
    collections, services/api/server.py) is paid once per burst; a client coming and going alone never
    triggers it."""

    def __init__(self, what: str, drop: int = BURST_DROP, settle_s: float = BURST_SETTLE_S) -> None:
        self.what = what
        self.drop = drop
        self.settle_s = settle_s
        self.peak = 0  # the most holders at once since the last time memory was given back
        self.returned = 0  # how many times it was
        self._pending: asyncio.TimerHandle | None = None

    def _over(self, now: int) -> bool:
        return self.peak - now >= self.drop and now * 4 <= self.peak

    def fell_to(self, now: int, in_use: Callable[[], int]) -> None:
        """The holders fell to `now` (`in_use` reads them again when the time comes)."""
        if self._pending is None and self._over(now):
            self._pending = asyncio.get_running_loop().call_later(self.settle_s, self._return, in_use)

    def _return(self, in_use: Callable[[], int]) -> None:
        self._pending = None
        now = in_use()
        if not self._over(now):
            return  # they came back: the next fall decides
        took_ms = return_freed()
        log.info(f"{self.what} burst over: freed memory returned", peak=self.peak, now=now, took_ms=round(took_ms))
        self.peak = now
        self.returned += 1

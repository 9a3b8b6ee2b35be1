"""The one retry policy: capped exponential backoff (tenacity's), for every loop that waits for something.

Every wait in the pipeline that stands for "try again later" takes its delays from here, so a change of the
policy (the cap, jitter) is made once. `Backoff.delay(n)` is tenacity's `wait_exponential` for attempt n;
`retry_while` runs a coroutine under tenacity's `AsyncRetrying` while an error says "not yet" (an outage).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential

T = TypeVar("T")


def _state(attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    return state


@dataclass(frozen=True)
class Backoff:
    """Delays `initial_s`, twice that, ... up to `cap_s` (attempt numbers start at 1)."""

    initial_s: float = 0.5
    # Short enough that work resumes within seconds of a dependency's return.
    cap_s: float = 8.0

    @property
    def wait(self) -> wait_exponential:
        """The tenacity wait strategy of this policy."""
        return wait_exponential(multiplier=self.initial_s, exp_base=2, min=self.initial_s, max=self.cap_s)

    def delay(self, attempt: int) -> float:
        """The wait before retry number `attempt` (1 = the first retry)."""
        return float(self.wait(_state(max(1, attempt))))


# The policies in use: outages of a dependency (Redis, the database), and retries of a failing handler.
OUTAGE = Backoff(0.5, 8.0)
HANDLER = Backoff(0.5, 4.0)


class _Stopped(Exception):
    """`retry_while`'s wait was cut short by its stop event."""


async def sleep_or_stop(seconds: float, stop: asyncio.Event | None) -> bool:
    """Sleep `seconds`, or less when `stop` is set meanwhile; True when stopped."""
    if stop is None:
        await asyncio.sleep(seconds)
        return False
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def retry_while(
    call: Callable[[], Awaitable[T]],
    transient: Callable[[BaseException], bool],
    policy: Backoff = OUTAGE,
    before_sleep: Callable[[BaseException, float], None] | None = None,
    stop: asyncio.Event | None = None,
) -> T:
    """`call()`, again after the policy's delay for as long as it raises an error `transient` accepts.

    Any other error is raised at once. `before_sleep(error, delay)` is told of each retry (to log changes
    of state, not every attempt). When `stop` is set the wait is cut short and the last transient error is
    raised (a service shutting down while it waits).
    """
    errors: list[BaseException] = []

    def tell(state: RetryCallState) -> None:
        if state.outcome is not None and state.next_action is not None:
            error = state.outcome.exception()
            if error is not None:
                errors[:] = [error]
                if before_sleep is not None:
                    before_sleep(error, state.next_action.sleep)

    async def sleep(seconds: float) -> None:
        if await sleep_or_stop(seconds, stop):
            raise _Stopped

    def stopped(_state: RetryCallState) -> bool:
        return stop is not None and stop.is_set()

    retrying = AsyncRetrying(
        retry=retry_if_exception(transient), wait=policy.wait, before_sleep=tell, reraise=True,
        sleep=sleep, stop=stopped,
    )
    try:
        async for attempt in retrying:
            with attempt:
                return await call()
    except _Stopped:
        raise errors[-1] from None
    raise AssertionError("unreachable: tenacity either returns or re-raises")  # pragma: no cover

"""The one retry policy (shared/retry.py): capped doubling delays, and retrying only what is transient."""

from __future__ import annotations

import asyncio

import pytest

from shared.retry import Backoff, retry_while


def test_delays_double_from_the_first_and_stop_at_the_cap() -> None:
    policy = Backoff(0.5, 4.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


async def test_retry_while_retries_transient_errors_and_raises_others_at_once() -> None:
    calls: list[int] = []
    told: list[float] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("down")
        return "ok"

    fast = Backoff(0.001, 0.002)
    result = await retry_while(flaky, lambda e: isinstance(e, ConnectionError), fast, lambda _e, d: told.append(d))
    assert (result, len(calls), told) == ("ok", 3, [0.001, 0.002])

    async def broken() -> str:
        calls.append(1)
        raise ValueError("bad input")

    calls.clear()
    with pytest.raises(ValueError, match="bad input"):
        await retry_while(broken, lambda e: isinstance(e, ConnectionError), fast)
    assert len(calls) == 1


async def test_retry_while_cuts_its_wait_short_and_raises_the_last_error_once_stop_is_set() -> None:
    stop, called = asyncio.Event(), asyncio.Event()
    calls: list[int] = []

    async def never() -> str:
        calls.append(1)
        called.set()
        raise ConnectionError(f"down {len(calls)}")

    hour = Backoff(3600.0, 3600.0)
    waiting = asyncio.create_task(retry_while(never, lambda e: isinstance(e, ConnectionError), hour, stop=stop))
    await called.wait()
    stop.set()  # shutting down while it waits an hour: it returns at once, with no second attempt
    with pytest.raises(ConnectionError, match="down 1"):
        await asyncio.wait_for(waiting, 60)
    assert len(calls) == 1

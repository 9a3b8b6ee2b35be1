"""The shared consume rule, with fakes: which errors are outages, and what happens to each kind of failure."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis import exceptions as redis_errors

from shared.consume import ConsumeStep, OutageGate, redis_outage
from shared.contracts.events import DeadLettered


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (redis_errors.ConnectionError("Connection refused"), True),
        (redis_errors.TimeoutError("Timeout reading"), True),
        (redis_errors.BusyLoadingError("Redis is loading the dataset in memory"), True),
        (redis_errors.OutOfMemoryError("command not allowed when used memory > 'maxmemory'."), True),
        (redis_errors.ResponseError("MISCONF Redis is configured to save RDB snapshots, but cannot"), True),
        (redis_errors.ResponseError("Error running script: OOM command not allowed when used memory > x"), True),
        (redis_errors.AuthenticationError("invalid password"), False),
        (redis_errors.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"), False),
        (KeyError("x"), False),
        (ConnectionRefusedError(111, "refused"), True),
    ],
)
def test_which_errors_are_outages(error: BaseException, outage: bool) -> None:
    assert redis_outage(error) is outage


class Letters:
    def __init__(self) -> None:
        self.events: list[DeadLettered] = []

    async def __call__(self, event: DeadLettered) -> None:
        self.events.append(event)


def _step(letters: Letters, **kw: Any) -> ConsumeStep:
    return ConsumeStep(service="t", stream="s", max_deliveries=3, dead_letter=letters, retry_initial_s=0.01,
                       gate=OutageGate("t", initial_s=0.01, cap_s=0.02), **kw)


async def test_an_outage_is_waited_out_without_counting_a_delivery() -> None:
    letters = Letters()
    calls = 0

    async def handle(value: int) -> int:
        nonlocal calls
        calls += 1
        if calls <= 10:  # more outage attempts than max_deliveries: none of them count
            raise redis_errors.ConnectionError("down")
        return value * 2

    done = await _step(letters).run(message_id="1-0", deliveries=1, payload="{}", decode=lambda: 21, handle=handle)
    assert done.result == 42 and done.attempts == 1 and calls == 11
    assert letters.events == []


async def test_other_errors_are_counted_and_dead_lettered_at_max_deliveries() -> None:
    letters = Letters()

    async def handle(value: int) -> int:
        raise RuntimeError("bug")

    done = await _step(letters).run(message_id="1-0", deliveries=2, payload="{}", decode=lambda: 1, handle=handle)
    # Redis had delivered it twice already (a worker died holding it): one more failure is the third.
    assert done.dead_lettered == "bug" and done.attempts == 3
    [letter] = letters.events
    assert letter.attempts == 3 and letter.retryable and letter.error_type == "RuntimeError"


async def test_invalid_and_permanent_errors_are_dead_lettered_at_once() -> None:
    letters = Letters()

    def bad() -> int:
        raise ValueError("not json")

    async def never(value: int) -> int:
        raise AssertionError("not called")

    step = _step(letters, permanent=(LookupError,))
    first = await step.run(message_id="1-0", deliveries=1, payload="x", decode=bad, handle=never)

    async def permanent(value: int) -> int:
        raise LookupError("bad document")

    second = await step.run(message_id="2-0", deliveries=1, payload="{}", decode=lambda: 1, handle=permanent)
    assert first.attempts == second.attempts == 1
    assert [e.retryable for e in letters.events] == [False, False]


async def test_the_outage_is_logged_once_per_state_change(capsys: pytest.CaptureFixture[str]) -> None:
    gate = OutageGate("t", initial_s=0.001, cap_s=0.002)
    for _ in range(50):
        await gate.wait(redis_errors.ConnectionError("down"))
    gate.up()
    gate.up()
    await asyncio.sleep(0)
    out = capsys.readouterr().out
    assert out.count("dependency unavailable") == 1
    assert out.count("dependency available again") == 1

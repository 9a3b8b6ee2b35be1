"""The pure pieces of the API's bounds (issue 22.2): slots, stream positions and times, the hub's hand-off."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from services.api import hub as hub_module
from services.api import limits as limits_module
from services.api.errors import ApiError
from services.api.hub import Dropped, Hub, Live, Subscriber
from services.api.limits import AfterBurst, Busy, Slots
from services.api.live import start_id
from shared.stream_worker import Entry, OutOfStreamTime, millis_at


def test_slots_refuse_beyond_the_bound_with_retry_after_and_come_back_once_each() -> None:
    slots = Slots("exports", 2, 7)
    a, b = slots.take(), slots.take()
    with pytest.raises(Busy) as refused:
        slots.take()
    assert refused.value.status == 429 and refused.value.headers == {"Retry-After": "7"}
    a.release()
    a.release()  # a second release of the same slot gives back nothing more
    assert slots.in_use == 1
    slots.take()
    with pytest.raises(Busy):
        slots.take()
    b.release()
    assert slots.in_use == 1


async def test_memory_is_given_back_once_when_a_burst_is_over_not_per_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    returned: list[int] = []
    monkeypatch.setattr(limits_module, "return_freed", lambda: returned.append(1) or 1.0)
    burst = AfterBurst("live streams", drop=100, settle_s=0.05)
    slots = Slots("live streams", 1000, 10, after_burst=burst)

    # One client coming and going, again and again: never a burst.
    for _ in range(5):
        slots.take().release()
    # 200 come; 130 go: still more than a quarter of the peak.
    held = [slots.take() for _ in range(200)]
    for slot in held[:130]:
        slot.release()
    await asyncio.sleep(0.2)
    assert returned == []
    # 60 more go (10 left): given back once, after the settle time, however many go after that.
    for slot in held[130:190]:
        slot.release()
    assert returned == []
    await asyncio.sleep(0.2)
    assert returned == [1] and burst.peak == 10 and burst.returned == 1
    for slot in held[190:]:
        slot.release()
    await asyncio.sleep(0.2)
    assert returned == [1]  # the burst was already given back; the last few are no new one

    # A burst that is over but comes back within the settle time: nothing given back.
    held = [slots.take() for _ in range(200)]
    for slot in held:
        slot.release()
    held = [slots.take() for _ in range(150)]
    await asyncio.sleep(0.2)
    assert returned == [1]
    for slot in held:
        slot.release()
    await asyncio.sleep(0.2)
    assert returned == [1, 1]


@pytest.mark.parametrize(
    "bad", ["99999999999999999999-0", "0-18446744073709551616", "18446744073709551616-0", "1", "-1-0", "1-2-3", "a-b"]
)
def test_a_last_event_id_redis_would_refuse_is_a_400(bad: str) -> None:
    with pytest.raises(ApiError) as refused:
        start_id(bad, None)
    assert refused.value.status == 400 and refused.value.message.startswith("Last-Event-ID:")


def test_the_largest_ids_are_still_ids() -> None:
    assert start_id("18446744073709551615-18446744073709551615", None) == "18446744073709551615-18446744073709551615"
    assert start_id(None, "18446744073709551615-0") == "18446744073709551615-0"


@pytest.mark.parametrize("since", ["1960-01-01", "1969-12-31T23:59:59.999+00:00", "0001-01-01T00:00:00+01:00"])
def test_a_since_before_1970_is_a_400_naming_the_earliest_time(since: str) -> None:
    with pytest.raises(ApiError) as refused:
        start_id(None, since)
    assert refused.value.status == 400 and "1970-01-01" in refused.value.message


def test_stream_time_starts_in_1970() -> None:
    assert millis_at(dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) == 0
    assert millis_at(dt.datetime(2024, 1, 1)) == 1704067200000  # naive is UTC
    with pytest.raises(OutOfStreamTime):
        millis_at(dt.datetime(1960, 1, 1))
    assert start_id(None, "1970-01-01T00:00:00Z") == "0-18446744073709551615"


def _live(entry_id: str) -> Live:
    return Live(Entry(entry_id, b"{}"))


async def test_the_hub_skips_what_a_subscriber_already_sent_and_drops_one_that_fell_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hub = Hub("redis://unused")
    hub.head = "5-0"
    hub._pager = object()  # type: ignore[assignment]  # at the head: no catch-up read
    sub = hub.subscriber(None)
    assert sub.after == "5-0"
    seen = hub.entries(sub)
    first = asyncio.ensure_future(anext(seen))
    await asyncio.sleep(0)
    assert hub.subscribers == {sub}
    # A batch overlapping what the subscriber is past: only the newer entries come out, in order.
    sub.queue.put_nowait([_live("4-0"), _live("5-0"), _live("5-1"), _live("6-0")])
    assert (await first).entry.id == "5-1"
    assert (await anext(seen)).entry.id == "6-0"

    # A subscriber too far behind is dropped by the follower: its iteration ends with Dropped.
    monkeypatch.setattr(hub_module, "QUEUE_MAX", 2)
    slow = Subscriber("6-0")
    hub.subscribers.add(slow)
    slow.queue.put_nowait([_live("7-0")])
    slow.queue.put_nowait([_live("8-0")])

    async def one_batch():  # type: ignore[no-untyped-def]
        yield [Entry("9-0", b"{}")]

    class Reader:
        def follow(self):  # type: ignore[no-untyped-def]
            return one_batch()

    await hub._follow(Reader())  # type: ignore[arg-type]
    assert slow not in hub.subscribers and sub in hub.subscribers
    assert hub.head == "9-0"
    assert sub.queue.get_nowait()[0].entry.id == "9-0"
    hub.remove(sub)
    assert hub.subscribers == set()
    await seen.aclose()


async def test_a_wait_pings_on_its_timeout_and_a_stopping_server_ends_every_stream() -> None:
    hub = Hub("redis://unused")
    hub.head = "5-0"
    sub = hub.subscriber(None)
    hub.subscribers.add(sub)
    # Nothing came within the timeout: an empty batch (the response's moment to ping), the subscriber intact.
    assert await hub.wait(sub, 0.01) == []
    assert hub.subscribers == {sub}
    waiting = asyncio.ensure_future(hub.wait(sub, 60))
    await asyncio.sleep(0)
    hub.end_all()
    with pytest.raises(Dropped):
        await waiting
    assert hub.subscribers == set()

"""The polite client and the FirstAgenda list reader, on httpx's mock transport and the real Hvidovre list."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from collections.abc import AsyncIterator

import httpx
import pytest

from services.ingest.sources import firstagenda
from services.ingest.sources.client import FetchFailed, PoliteClient, Validators, retry_after
from services.ingest.sources.types import PortalGarbage
from shared.settings import Settings
from tests.conftest import FIXTURES

HVIDOVRE = FIXTURES / "corpus" / "portal" / "hvidovre" / "udvalgsliste-excerpt.json"


def _settings(**extra: object) -> Settings:
    values: dict[str, object] = {"sources_min_interval_s": 0.0, "sources_timeout_s": 2.0, "sources_attempts": 3,
                                 "sources_contact": "desk@example.org", **extra}
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


class Waits:
    """A sleep that records what it was asked to wait, and waits for nothing."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)


async def test_retry_after_is_honoured_then_the_answer_is_returned() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(503),
                    httpx.Response(200, json={"ok": True})])
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return next(answers)

    waits = Waits()
    async with PoliteClient(_settings(), transport=httpx.MockTransport(handler), sleep=waits,
                            backoff_initial_s=0.5) as client:
        answer = await client.get("https://portal.example/api/agenda/udvalgsliste")
    assert answer.status == 200 and answer.body == b'{"ok":true}'
    # 7 s as the server asked, then the client's own backoff (doubled after the first try).
    assert waits.asked == [7.0, 1.0]
    assert seen[0].headers["User-Agent"].startswith("minutes/") and "+desk@example.org" in seen[0].headers["User-Agent"]


async def test_a_long_retry_after_ends_the_request_for_a_later_poll() -> None:
    waits = Waits()
    transport = httpx.MockTransport(lambda _: httpx.Response(429, headers={"Retry-After": "3600"}))
    async with PoliteClient(_settings(), transport=transport, sleep=waits) as client:
        with pytest.raises(FetchFailed, match="HTTP 429") as caught:
            await client.get("https://portal.example/x")
    assert waits.asked == [] and caught.value.retry_after_s == 3600.0


async def test_a_404_is_not_retried() -> None:
    calls = []
    transport = httpx.MockTransport(lambda r: calls.append(r) or httpx.Response(404))
    async with PoliteClient(_settings(), transport=transport, sleep=Waits()) as client:
        with pytest.raises(FetchFailed, match="HTTP 404"):
            await client.get("https://portal.example/x")
    assert len(calls) == 1


async def test_validators_are_sent_and_a_304_keeps_them() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["If-None-Match"] == '"v1"'
        assert request.headers["If-Modified-Since"] == "Mon, 01 Dec 2025 10:00:00 GMT"
        return httpx.Response(304)

    held = Validators('"v1"', "Mon, 01 Dec 2025 10:00:00 GMT")
    async with PoliteClient(_settings(), transport=httpx.MockTransport(handler)) as client:
        answer = await client.get("https://portal.example/x", held)
    assert answer.not_modified and answer.validators == held


async def test_an_answer_over_the_size_limit_is_refused() -> None:
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=b"x" * 3_000_000))
    async with PoliteClient(_settings(sources_max_response_mb=1), transport=transport) as client:
        with pytest.raises(FetchFailed, match="over the limit"):
            await client.get("https://portal.example/x")


async def test_the_deadline_covers_the_whole_answer_not_each_read() -> None:
    async def trickle() -> AsyncIterator[bytes]:
        for _ in range(100):  # a byte every 0.1 s: each read is quick, the whole answer takes 10 s
            await asyncio.sleep(0.1)
            yield b"x"

    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=trickle()))
    async with PoliteClient(_settings(sources_timeout_s=0.5, sources_attempts=1), transport=transport) as client:
        started = asyncio.get_running_loop().time()
        with pytest.raises(FetchFailed, match=r"no complete answer within 0\.5s"):
            await client.get("https://portal.example/x")
    assert asyncio.get_running_loop().time() - started < 3


async def test_requests_to_one_host_are_one_at_a_time_and_spaced() -> None:
    active, most, starts = 0, 0, []

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, most
        active += 1
        most = max(most, active)
        starts.append(asyncio.get_running_loop().time())
        await asyncio.sleep(0.05)
        active -= 1
        return httpx.Response(200, content=b"{}")

    async with PoliteClient(_settings(sources_min_interval_s=0.2), transport=httpx.MockTransport(handler)) as client:
        await asyncio.gather(*(client.get(f"https://portal.example/{n}") for n in range(4)))
    assert most == 1
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= 0.19 for gap in gaps), gaps


def test_retry_after_as_seconds_or_a_date() -> None:
    now = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert retry_after("120", now) == 120.0
    assert retry_after("Thu, 01 Jan 2026 12:01:30 GMT", now) == 90.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None


def test_the_real_committee_list_gives_each_publication_with_its_version() -> None:
    listed = firstagenda.parse_listing(HVIDOVRE.read_bytes())
    assert len(listed) == 12  # the excerpt's 12 meetings of 4 committees
    # The same meeting published twice (agenda, then minutes) is two ids of one committee and date.
    same_day = [item for item in listed if item.committee == "Kultur- og Fritidsudvalget"
                and item.meeting_date == dt.date(2026, 3, 2)]
    assert sorted((item.title, item.closed) for item in same_day) == [("Dagsorden", False), ("Referat", True)]
    assert len({item.version for item in same_day}) == 2
    assert all(item.released for item in listed)


@pytest.mark.parametrize("body", [
    b"<!DOCTYPE html><html><body>portal</body></html>",
    b'{"Udvalg": {"x": [{"Navn": "A", "Moeder": [{"Id": "1", "Afsluttet": "ja"}]}]}}',
    b'{"Udvalg": [1, 2]}',
    b'{"Udvalg": {"x": [{"Navn": "A", "Moeder": [{"Id": 5}]}]}}',
    HVIDOVRE.read_bytes()[:500],  # truncated
])
def test_a_list_that_is_not_one_is_refused(body: bytes) -> None:
    with pytest.raises(PortalGarbage):
        firstagenda.parse_listing(body)


def test_a_meeting_answer_is_checked_for_its_shape_only() -> None:
    firstagenda.check_meeting(b'{"Moede": {}, "Dagsordenpunkter": []}')
    for body in (b"<html></html>", b'{"Moede": {}, "Dagsordenpunkter": "x"}', b'{"Moede": {}, "Dagsordenp'):
        with pytest.raises(PortalGarbage):
            firstagenda.check_meeting(body)


def test_a_feed_entry_of_a_portal_decision_links_to_the_portal_too() -> None:
    from types import SimpleNamespace

    from services.api.feeds import render_feed
    from services.readmodel.filter import ReadFilter
    from shared.contracts.events import DecisionMade
    from shared.contracts.meeting import Outcome

    def made(n: int, source_url: str | None) -> DecisionMade:
        return DecisionMade(
            event_id=f"00000000-0000-0000-0000-00000000000{n}", municipality="Greve", committee="Byråd",
            meeting_date=dt.date(2025, 6, 25), item_number=n, item_title="Punkt", case_number=None,
            outcome=Outcome.APPROVED, decision_text="Godkendt.", document_id="d" * 64, item_id=f"{'d' * 64}:{n}",
            item_url="minutes://items/x", occurred_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), source_url=source_url,
        )

    deps = SimpleNamespace(settings=SimpleNamespace(page_url="https://minutes.example/"))
    portal = "https://dagsordener.greve.dk/api/agenda/dagsorden/abc"
    body = render_feed(deps, ReadFilter(), [made(1, portal), made(2, None)], "https://minutes.example/feed")  # type: ignore[arg-type]
    assert body.count(f"Mødet på dagsordensportalen: {portal}".encode()) == 1  # Danish unless asked

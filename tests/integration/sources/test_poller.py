"""The poller against the stand-in portal, on real Redis (ingest's seen set and documents stream) and a
migrated SQLite database: what is fetched, what is published, what the state says after faults."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from services.ingest.bootstrap import bootstrap, build_broker
from services.ingest.handlers import IngestDeps
from services.ingest.sources import state
from services.ingest.sources.client import PoliteClient
from services.ingest.sources.runner import poll_sources
from services.store.db import create_engine, migrate
from shared.blobs import LocalBlobStore
from shared.settings import Settings
from tests.integration.ingest.helpers import documents, make_settings
from tests.integration.sources.portal import Portal, changed, greve_meetings, serve

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


class Pipeline:
    """The poll's surroundings: settings, database, ingest deps on real Redis, a polite client."""

    def __init__(self, settings: Settings, engine: Any, deps: IngestDeps, client: PoliteClient) -> None:
        self.settings, self.engine, self.deps, self.client = settings, engine, deps, client

    async def poll(self, name: str = "greve") -> Any:
        return (await poll_sources(self.settings, self.engine, self.deps, self.client, name=name, due_only=False))[name]

    async def source(self, name: str = "greve") -> state.Source:
        return await state.get_source(self.engine, name)


def _settings(tmp_path: Path, redis_url: str, **extra: Any) -> Settings:
    db = tmp_path / "minutes.db"
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{db}", "allow_private_urls": True,
        "sources_min_interval_s": 0.0, "sources_timeout_s": 2.0, "sources_attempts": 3, **extra,
    }
    return make_settings(tmp_path, redis_url, **values)


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    with serve() as running:
        yield running


@pytest.fixture
async def pipeline(tmp_path: Path, redis_url: str, portal: Portal) -> AsyncIterator[Pipeline]:
    settings = _settings(tmp_path, redis_url)
    await migrate(settings.effective_database_url)
    engine = create_engine(settings.effective_database_url)
    broker, publisher = build_broker(redis_url)
    client = Redis.from_url(redis_url)
    async with broker:
        blobs = LocalBlobStore(tmp_path / "blobs")
        deps = bootstrap(settings, redis=client, publisher=publisher, blobs=blobs, watch_inbox=False)
        await state.add_source(engine, state.Source(name="greve", type="firstagenda", url=portal.url,
                                                    municipality="Greve"))
        async with PoliteClient(settings, backoff_initial_s=0.05) as http:
            yield Pipeline(settings, engine, deps, http)
    await client.aclose()
    await engine.dispose()


async def test_first_poll_hands_every_meeting_to_the_pipeline_once(pipeline: Pipeline, portal: Portal,
                                                                   redis_client: Redis) -> None:
    result = await pipeline.poll()
    assert result.error is None
    assert (result.listed, result.fetched, result.published) == (40, 40, 40)
    docs = await documents(redis_client)
    # The same path as a dropped file: the id is the sha256 of the portal's bytes, the source is the meeting's URL.
    by_id = {doc.document_id: doc for doc in docs}
    for meeting in greve_meetings():
        doc = by_id[hashlib.sha256(meeting.body).hexdigest()]
        assert doc.source == f"{portal.url}/api/agenda/dagsorden/{meeting.id}"
        assert doc.content_type == "application/json" and doc.size == len(meeting.body)
        assert pipeline.deps.blobs.get(doc.blob_ref) == meeting.body
    source = await pipeline.source()
    assert source.meetings_seen == 40 and source.error is None and source.last_ok_at is not None

    # Nothing changed: the next poll asks for the list only (answered in full: the stand-in gives no validators).
    before = len(portal.requests)
    again = await pipeline.poll()
    assert (again.fetched, again.published) == (0, 0)
    assert portal.requests[before:] == ["/api/agenda/udvalgsliste"]
    assert len(await documents(redis_client)) == 40


async def test_a_new_meeting_is_the_only_one_fetched(pipeline: Pipeline, portal: Portal, redis_client: Redis) -> None:
    await pipeline.poll()
    first = greve_meetings()[0]
    newer = changed(first, new_id="11111111-2222-3333-4444-555555555555", Dato="2025-12-01T08:00:00+01:00",
                    MeetingBeginUtc="2025-12-01T08:00:00+01:00")
    portal.add(newer)
    before = len(portal.requests)
    result = await pipeline.poll()
    assert portal.requests[before:] == ["/api/agenda/udvalgsliste", f"/api/agenda/dagsorden/{newer.id}"]
    assert (result.fetched, result.published) == (1, 1)
    assert len(await documents(redis_client)) == 41
    assert (await pipeline.source()).meetings_seen == 41


async def test_a_changed_publication_is_fetched_again_and_the_unchanged_answer_costs_a_304(
    pipeline: Pipeline, portal: Portal, redis_client: Redis
) -> None:
    await pipeline.poll()
    meeting = greve_meetings()[3]
    # Re-released with the same content: the list says it changed, the server says the answer did not.
    entry = {**meeting.entry, "ReleasedDate": "2025-01-02T10:00:00+01:00"}
    same_body = type(meeting)(meeting.id, meeting.committee, entry, meeting.body)
    portal.add(same_body)
    result = await pipeline.poll()
    assert (result.fetched, result.not_modified, result.published) == (0, 1, 0)
    assert portal.fetched(meeting.id) == 2
    assert len(await documents(redis_client)) == 40
    # Re-released with new content: fetched, published as a new document.
    portal.add(changed(meeting, ReleasedDate="2025-02-03T10:00:00+01:00", Sted="Byrådssalen"))
    result = await pipeline.poll()
    assert (result.fetched, result.published) == (1, 1)
    assert len(await documents(redis_client)) == 41


@pytest.mark.parametrize("fault", ["500", "429:1", "hang:5", "html", "truncated", "down"])
async def test_a_failing_portal_is_reported_and_nothing_is_lost_or_duplicated(
    pipeline: Pipeline, portal: Portal, redis_client: Redis, fault: str
) -> None:
    ids = [meeting.id for meeting in greve_meetings()]
    # Every try of one meeting's request fails (the client's tries included) ...
    victim = sorted(greve_meetings(), key=lambda m: m.entry["Dato"])[10].id
    tries = 1 if fault in ("html", "truncated") else pipeline.settings.sources_attempts
    portal.faults.extend([(f"/api/agenda/dagsorden/{victim}", fault)] * tries)
    result = await pipeline.poll()
    assert result.error is not None, result
    assert result.published == 10  # the ten older meetings are done and stay done
    source = await pipeline.source()
    assert source.error == result.error and source.error_since is not None and source.failures == 1
    assert source.next_poll_at is not None and source.next_poll_at > dt.datetime.now(dt.UTC)
    if fault.startswith("429"):
        assert "HTTP 429" in result.error
    if fault == "html":
        assert "HTML" in result.error
    # ... then it recovers: the rest is fetched, the ten are not fetched again, nothing is published twice.
    result = await pipeline.poll()
    assert result.error is None and result.published == 30
    docs = await documents(redis_client)
    assert len(docs) == len({doc.document_id for doc in docs}) == 40
    assert all(portal.fetched(meeting_id) == 1 for meeting_id in ids if meeting_id != victim)
    source = await pipeline.source()
    assert source.error is None and source.error_since is None and source.meetings_seen == 40


async def test_a_private_address_is_refused_unless_allowed(pipeline: Pipeline, portal: Portal, tmp_path: Path,
                                                           redis_url: str) -> None:
    from services.alerts.urls import UrlRefused
    from services.ingest.sources.poller import check_source_url

    with pytest.raises(UrlRefused, match="MINUTES_ALLOW_PRIVATE_URLS"):
        await check_source_url(portal.url, allow_private=False)
    await check_source_url(portal.url, allow_private=True)
    with pytest.raises(UrlRefused, match="credentials"):
        await check_source_url("http://user:pw@example.org/", allow_private=True)
    with pytest.raises(UrlRefused, match="http"):
        await check_source_url("ftp://example.org/", allow_private=True)
    # The connection itself is refused too: a name that resolves inward at poll time is not fetched.
    strict = _settings(tmp_path, redis_url, allow_private_urls=False)
    async with PoliteClient(strict) as http:
        guarded = Pipeline(strict, pipeline.engine, pipeline.deps, http)
        result = await guarded.poll()
    assert result.error is not None and "127.0.0.1, loopback" in result.error
    assert "MINUTES_ALLOW_PRIVATE_URLS=true" in result.error
    assert portal.requests == []


async def test_a_failing_source_is_said_once_per_change_of_state_and_shown_by_check(
    pipeline: Pipeline, portal: Portal
) -> None:
    from structlog.testing import capture_logs

    from minutes_cli.check_cmd import _sources
    from services.store.state_check import Report

    portal.faults.extend([("/api/agenda/udvalgsliste", "500")] * 6)
    with capture_logs() as logs:
        first = await pipeline.poll()
        second = await pipeline.poll()  # the same failure again: not said again
        third = await pipeline.poll()  # recovered: said once
    assert first.error == second.error and first.error is not None and "HTTP 500" in first.error
    assert third.error is None and third.published == 40
    said = [entry["event"] for entry in logs if entry["event"].startswith("source ")]
    assert said == ["source failing; will retry", "source recovered", "source polled"]
    report = Report()
    await _sources(pipeline.engine, report)
    assert report.problems == [] and report.notes == ["1 sources followed, 40 meetings seen"]


async def test_check_reports_a_failing_source(pipeline: Pipeline, portal: Portal) -> None:
    from minutes_cli.check_cmd import _sources
    from services.store.state_check import Report

    portal.faults.extend([("/api/agenda/udvalgsliste", "html")])
    result = await pipeline.poll()
    assert result.error is not None and "HTML" in result.error
    report = Report()
    await _sources(pipeline.engine, report)
    [problem] = report.problems
    assert problem.startswith(f"source greve ({portal.url}) failing since ") and "HTML" in problem

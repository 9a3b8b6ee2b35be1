"""Attachments of a followed portal's meetings keep their links, on SQLite and PostgreSQL: the real poller
fetches from the stand-in portal into real Redis and the blob store, the parser core reads each fetched blob,
the store's own write and relay path stores and announces it, and the API serves it. Every attachment of a
decided item links to `{portal}/Vis/Pdf/bilag/{Bilag id}` in the API, the meeting page, the Atom feed and the
exports, and the stand-in answers that link; nothing is downloaded. A dropped file keeps names only."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.ingest.bootstrap import bootstrap, build_broker
from services.ingest.sources import state
from services.ingest.sources.client import PoliteClient
from services.ingest.sources.runner import poll_sources
from services.parser.core import parse_document
from services.parser.events import meeting_events
from services.store.db import create_engine, migrate
from shared.blobs import LocalBlobStore
from tests.integration.api.live_helpers import live_settings, publish, publish_doc, serving
from tests.integration.ingest.helpers import documents, make_settings
from tests.integration.sources.portal import BILAG_PATH, Meeting, greve_meetings, serve
from tests.integration.store.corpus_store import corpus

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]
ATOM = "{http://www.w3.org/2005/Atom}"


def _bilag_of_decided(meeting: Meeting) -> dict[int, list[tuple[str, str]]]:
    """Per item number, the (name, Bilag id) pairs of the items the parser reads a decision in, read from the
    portal's answer itself (names with their spacing folded, as the parser keeps names)."""
    decided = {item.number for item in parse_document(meeting.body).items if item.decision is not None}
    out: dict[int, list[tuple[str, str]]] = {}
    for raw in json.loads(meeting.body)["Dagsordenpunkter"]:
        pairs = [(" ".join(b["Navn"].split()), b["Id"]) for b in raw.get("Bilag") or []]
        if pairs and int(raw["Number"]) in decided:
            out[int(raw["Number"])] = pairs
    return out


def _chosen() -> list[Meeting]:
    """Three Greve meetings with decided items that list attachments."""
    chosen = [m for m in sorted(greve_meetings(), key=lambda m: m.id) if _bilag_of_decided(m)][:3]
    assert len(chosen) == 3
    return chosen


@pytest.fixture
async def followed(database_url: str, redis_url: str, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """The chosen meetings polled from the stand-in, parsed, stored and announced; the API serving them."""
    meetings = _chosen()
    await migrate(database_url)
    engine = create_engine(database_url)
    settings = make_settings(tmp_path, redis_url, database_url=database_url, allow_private_urls=True,
                             sources_min_interval_s=0.0, sources_timeout_s=5.0)
    broker, publisher = build_broker(redis_url)
    redis = Redis.from_url(redis_url)
    blobs = LocalBlobStore(tmp_path / "blobs")
    try:
        with serve(meetings) as portal:
            async with broker:
                deps = bootstrap(settings, publisher=publisher, redis=redis, blobs=blobs, watch_inbox=False)
                await state.add_source(engine, state.Source(name="greve", type="firstagenda", url=portal.url))
                async with PoliteClient(settings) as http:
                    polled = await poll_sources(settings, engine, deps, http, name="greve", due_only=False)
            assert polled["greve"].error is None and polled["greve"].published == 3
            for received in await documents(redis):
                # The parser's work on the fetched bytes, then the store's transaction and its outbox relay.
                meeting = parse_document(blobs.get(received.blob_ref))
                await publish(engine, redis, list(meeting_events(received, meeting)))
            # A dropped file (no source) of the same portal format: its references have no address.
            dropped = next(doc for doc in corpus() if doc.path.suffix == ".json")
            await publish_doc(engine, redis, dropped)
            api_settings = live_settings(database_url, redis_url, tmp_path / "data")
            with serving(api_settings) as base:
                yield {"base": base.rstrip("/"), "portal": portal, "meetings": meetings,
                       "dropped": dropped.received.document_id}
    finally:
        await redis.aclose()
        await engine.dispose()


async def _get(url: str, **params: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(url, params=params)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return response


def _doc(meeting: Meeting) -> str:
    return hashlib.sha256(meeting.body).hexdigest()


async def test_a_followed_meetings_decisions_link_their_attachments_on_the_portal(followed: dict[str, Any]) -> None:
    base, portal = followed["base"], followed["portal"]
    requests_before = len(portal.requests)
    linked: list[str] = []
    by_anchor: dict[str, list[str]] = {}  # `{document id}#item-{position}`: the item's links
    for meeting in followed["meetings"]:
        expected = {
            number: [(name, f"{portal.url}{BILAG_PATH}{bilag}") for name, bilag in pairs]
            for number, pairs in _bilag_of_decided(meeting).items()
        }
        # The meeting in the API: each decided item's attachments, name and link, in the portal's order.
        detail = (await _get(f"{base}/api/v1/meetings/{_doc(meeting)}")).json()
        got = {
            item["number"]: [(a["name"], a["url"]) for a in item["attachment_refs"]]
            for item in detail["items"] if item["number"] in expected
        }
        assert got == expected
        for item in detail["items"]:
            if item["number"] in expected:
                assert item["decision_text"]
                by_anchor[f"{_doc(meeting)}#item-{item['position']}"] = [url for _, url in expected[item["number"]]]
        # The meeting page links each one.
        page = (await _get(f"{base}/meetings/{_doc(meeting)}")).text
        for pairs in expected.values():
            for _name, url in pairs:
                assert f'href="{url}"' in page
                linked.append(url)
    # Nothing was downloaded to build any of this: the stand-in saw no attachment request.
    assert not [p for p in portal.requests[requests_before:] if p.startswith(BILAG_PATH)]

    # The decisions list and the exports carry the same links.
    hits = (await _get(f"{base}/api/v1/decisions", municipality="Greve", limit=200)).json()["items"]
    from_hits = {link["url"] for hit in hits for link in hit["attachment_links"]}
    assert set(linked) <= from_hits
    items_export = (await _get(f"{base}/api/v1/exports/jsonl", rows="items")).text
    exported = [json.loads(line) for line in items_export.splitlines()]
    assert set(linked) <= {link["url"] for row in exported for link in row["attachment_links"]}
    oparl = (await _get(f"{base}/api/v1/exports/oparl")).text
    assert all(url in oparl for url in linked)
    # The feed holds the newest 50 announcements: each entry of an item with attachments lists their links.
    feed = ET.fromstring((await _get(f"{base}/feeds/decisions.atom")).content)
    checked = 0
    for entry in feed.iter(f"{ATOM}entry"):
        href = entry.find(f"{ATOM}link").get("href")
        urls = by_anchor.get(href.rsplit("/", 1)[1])
        if urls:
            content = entry.findtext(f"{ATOM}content") or ""
            assert all(url in content for url in urls), (href, urls)
            checked += 1
    assert checked >= 3

    # The links answer: the stand-in serves each attachment's PDF there.
    for url in linked:
        response = await _get(url)
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-") and url.rsplit("/", 1)[1].encode() in response.content


async def test_a_dropped_file_keeps_references_but_no_links(followed: dict[str, Any]) -> None:
    base = followed["base"]
    detail = (await _get(f"{base}/api/v1/meetings/{followed['dropped']}")).json()
    with_refs = [item for item in detail["items"] if item["attachment_refs"]]
    assert with_refs, "the dropped portal JSON lists attachments with ids"
    assert all(a["ref"] and a["url"] is None for item in with_refs for a in item["attachment_refs"])
    page = (await _get(f"{base}/meetings/{followed['dropped']}")).text
    name = with_refs[0]["attachments"][0]
    assert f"<li>{name}</li>" in page  # the name as before, no link
    assert BILAG_PATH not in page

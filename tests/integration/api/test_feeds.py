"""Atom feeds on SQLite and PostgreSQL: valid per RFC 4287 (its RELAX NG schema plus the rules the schema
cannot say), stable ids, links to the decision on its meeting page, revisions as entries, filters applied."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
import redis.asyncio as aioredis
from lxml import etree

from services.readmodel.decisions import iter_decisions
from services.readmodel.filter import ReadFilter
from services.store.db import create_engine, migrate
from shared.contracts.meeting import Outcome
from tests.conftest import FIXTURES
from tests.integration.api.live_helpers import live_settings, publish, publish_doc, serving
from tests.integration.store.corpus_store import corpus
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration
ATOM = "{http://www.w3.org/2005/Atom}"
SCHEMA = etree.RelaxNG(etree.parse(str(FIXTURES / "atom" / "atom.rng")))


@pytest.fixture
async def engine(database_url: str):  # type: ignore[no-untyped-def]
    await migrate(database_url)
    eng = create_engine(database_url)
    yield eng
    await eng.dispose()


def valid_atom(body: bytes) -> etree._Element:
    """The parsed feed, after checking it against RFC 4287's schema and its Schematron rules."""
    root = etree.fromstring(body)
    assert SCHEMA.validate(root), SCHEMA.error_log
    entries = root.findall(f"{ATOM}entry")
    # RFC 4287 4.1.1: an atom:author on the feed, or on every entry.
    assert root.find(f"{ATOM}author") is not None or all(e.find(f"{ATOM}author") is not None for e in entries)
    # 4.1.1: no two entries with the same atom:id and atom:updated.
    keys = [(e.findtext(f"{ATOM}id"), e.findtext(f"{ATOM}updated")) for e in entries]
    assert len(keys) == len(set(keys))
    # 4.1.1: an entry without atom:content needs a link rel=alternate; ours have both.
    for e in entries:
        assert e.find(f"{ATOM}content") is not None
        # RFC 4287 4.2.7.2: a link without rel is rel="alternate".
        assert any(link.get("rel", "alternate") == "alternate" for link in e.findall(f"{ATOM}link"))
    return root


def entry_ids(root: etree._Element) -> list[str]:
    return [str(e.findtext(f"{ATOM}id")) for e in root.findall(f"{ATOM}entry")]


async def test_the_feed_validates_has_stable_ids_and_links_to_the_decision(
    engine, database_url: str, redis_url: str, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    docs = [d for d in corpus() if any(i.decision for i in d.meeting.items)][:4]
    for doc in docs:
        await publish_doc(engine, redis_client, doc)
    stored = [h async for h in iter_decisions(engine, ReadFilter())]
    settings = live_settings(database_url, redis_url, tmp_path / "data")
    with serving(settings) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            first = await client.get("/feeds/decisions.atom")
            second = await client.get("/feeds/decisions.atom")
            assert first.status_code == 200
            assert first.headers["content-type"].startswith("application/atom+xml")
            one, two = valid_atom(first.content), valid_atom(second.content)
            assert entry_ids(one) == entry_ids(two)
            assert one.findtext(f"{ATOM}id") == two.findtext(f"{ATOM}id")
            # Every stored decision is an entry, under the id of the event that announced it.
            assert sorted(entry_ids(one)) == sorted(f"urn:uuid:{h.event_id}" for h in stored)
            # The alternate link of an entry is its item on the meeting page.
            entry = one.findall(f"{ATOM}entry")[0]
            hit = next(h for h in stored if f"urn:uuid:{h.event_id}" == entry.findtext(f"{ATOM}id"))
            links = entry.findall(f"{ATOM}link")
            href = next(link.get("href") for link in links if link.get("rel", "alternate") == "alternate")
            parts = urlsplit(str(href))
            position = hit.item_id.rsplit(":", 1)[1]
            assert (parts.path, parts.fragment) == (f"/meetings/{hit.document_id}", f"item-{position}")
            page = await client.get(parts.path)
            assert page.status_code == 200 and f'id="item-{position}"' in page.text
            assert hit.decision_text.split()[0] in str(entry.findtext(f"{ATOM}content"))


async def test_one_feed_per_filter_and_revisions_are_entries(
    engine, database_url: str, redis_url: str, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    hdr = header(committee="Teknisk Udvalg", day=dt.date(2025, 6, 2))
    v1, v1_items = meeting(
        "feed-v1", hdr=hdr, items=[item(1, text="Godkendt."), item(2, text="Taget til efterretning.")]
    )
    other, other_items = meeting("feed-other", hdr=header(committee="Børneudvalget", day=dt.date(2025, 6, 3)))
    await publish(engine, redis_client, [v1, *v1_items])
    await publish(engine, redis_client, [other, *other_items])
    corrected = [item(1, text="Godkendt med den ændring at fristen forlænges.", outcome=Outcome.APPROVED),
                 item(2, text="Taget til efterretning.")]  # fmt: skip
    v2, v2_items = meeting("feed-v2", hdr=hdr, items=corrected)
    await publish(engine, redis_client, [v2, *v2_items])

    settings = live_settings(database_url, redis_url, tmp_path / "data")
    with serving(settings) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            wanted = {"committee": "teknisk", "outcome": "approved"}
            feed = valid_atom((await client.get(f"/feeds/decisions.atom?{urlencode(wanted)}")).content)
            reordered = valid_atom(
                (await client.get("/feeds/decisions.atom?outcome=approved&q=&committee=teknisk")).content
            )
            everything = valid_atom((await client.get("/feeds/decisions.atom")).content)
            english = valid_atom((await client.get(f"/feeds/decisions.atom?{urlencode(wanted)}&lang=en")).content)
            bad = await client.get("/feeds/decisions.atom?outcome=maybe")
    # The same filter in another order (and an empty field) is the same feed; another filter is another.
    assert feed.findtext(f"{ATOM}id") == reordered.findtext(f"{ATOM}id") != everything.findtext(f"{ATOM}id")
    titles = [str(e.findtext(f"{ATOM}title")) for e in feed.findall(f"{ATOM}entry")]
    # Newest first: the revision of item 1, then the two original decisions of the first version.
    # In Danish unless asked: the municipality, the committee and the outcome as the page names them.
    assert titles[0].startswith("[rettet] Aarhus Kommune · Teknisk Udvalg: 1. ") and titles[0].endswith("— Godkendt")
    assert len(titles) == 3 and not any(t.startswith("[rettet]") for t in titles[1:])
    revised = feed.findall(f"{ATOM}entry")[0]
    assert "fristen forlænges" in str(revised.findtext(f"{ATOM}content"))
    assert "Tidligere (Godkendt):" in str(revised.findtext(f"{ATOM}content"))
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "da"
    # ?lang=en: the same entries in English, and a self link that keeps the language.
    assert entry_ids(english) == entry_ids(feed) and english.findtext(f"{ATOM}id") == feed.findtext(f"{ATOM}id")
    english_titles = [str(e.findtext(f"{ATOM}title")) for e in english.findall(f"{ATOM}entry")]
    assert english_titles[0].startswith("[revised] Aarhus Kommune · Teknisk Udvalg")
    assert english_titles[0].endswith("— Approved")
    assert "Previously (Approved):" in str(english.findall(f"{ATOM}entry")[0].findtext(f"{ATOM}content"))
    self_link = next(link.get("href") for link in english.findall(f"{ATOM}link") if link.get("rel") == "self")
    assert "lang=en" in str(self_link)
    assert len(everything.findall(f"{ATOM}entry")) == 3 + len(other_items)
    # Who voted how and who was absent (in Danish, the default), as the factory's item 2 records them (for A
    # and F, 7; against V, 2).
    entries = everything.findall(f"{ATOM}entry")
    contents = {str(e.findtext(f"{ATOM}title")): str(e.findtext(f"{ATOM}content")) for e in entries}
    voted = next(text for title, text in contents.items() if "Børneudvalget" in title and ": 2. " in title)
    assert "\nFor (7): A, F\nImod (2): V" in voted and "Undlod at stemme" not in voted
    absent = next(text for title, text in contents.items() if "Børneudvalget" in title and ": 1. " in title)
    assert "Fraværende: Bo Hansen (V)" in absent and "For (" not in absent
    assert bad.status_code == 400 and "outcome" in bad.text

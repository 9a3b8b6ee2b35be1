"""Search latency on a store of N items (default 30,000): the read API's first page per query, warm.

The store is filled from the benchmark corpus through the store's repository (`store_events`, 100 events per
transaction, as the store ceiling does) rather than the pipeline, which the other phases already measure;
when the corpus holds fewer items than asked, its meetings are stored again as further meetings (new
document ids, dates shifted by ten years per copy) until there are enough.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.ceilings import PUBLIC_BASE_URL, Parsed, fresh_database
from bench.observe import percentiles
from shared.contracts.events import AgendaItemParsed, DocumentReceived, MeetingParsed, utcnow

# Queries a reader of this corpus would type: common and rare words, inflections, a phrase, OR, exclusion.
QUERIES = (
    "godkendt",
    "lokalplanen",
    "cykelstier",
    '"taget til efterretning"',
    "klimahandleplan OR vintertjenesten",
    "budgetopfølgning -juni",
    "sagsbehandlingen borgere",
    "plejecentre tilsyn",
)
PAGE = 20


def _copies(parsed: Sequence[Parsed], items: int) -> list[MeetingParsed | AgendaItemParsed]:
    from services.parser.events import meeting_events

    events: list[MeetingParsed | AgendaItemParsed] = []
    total, copy = 0, 0
    while total < items and parsed:
        for p in parsed:
            if total >= items:
                break
            doc_id = p.document_id if copy == 0 else hashlib.sha256(f"{p.document_id}:{copy}".encode()).hexdigest()
            meeting = p.meeting
            if copy and meeting.meeting_date:
                shifted = meeting.meeting_date + dt.timedelta(days=3653 * copy)
                meeting = meeting.model_copy(update={"meeting_date": shifted})
            received = DocumentReceived(document_id=doc_id, original_name=p.doc.name, size=len(p.doc.data),
                                        content_type="text/plain", blob_ref=f"file:///bench/{doc_id}")
            events.extend(meeting_events(received, meeting))
            total += len(meeting.items)
        copy += 1
    return events


async def _measure(parsed: Sequence[Parsed], url: str, items: int, repeats: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from services.readmodel import decisions as reader
    from services.readmodel.filter import ReadFilter
    from services.store.db import create_engine, migrate
    from services.store.indexer import SearchIndexer
    from services.store.models import agenda_items
    from services.store.repository import store_events

    await migrate(url)
    events = _copies(parsed, items)
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        for i in range(0, len(events), 100):
            async with engine.begin() as conn:
                await store_events(conn, events[i : i + 100], now=utcnow(), public_base_url=PUBLIC_BASE_URL)
        await SearchIndexer(engine).run_once()  # what the store service's indexer does after the commits
        fill_s = time.perf_counter() - started
        async with engine.connect() as conn:
            stored = (await conn.execute(select(func.count()).select_from(agenda_items))).scalar_one()
            municipality = events[0].meeting.municipality
            cases = [ReadFilter(q=q) for q in QUERIES]
            cases += [ReadFilter(q="godkendt", municipality=municipality), ReadFilter()]
            for flt in cases:  # warm-up: caches, query plans, the stemmer
                await reader.search_decisions(conn, flt, limit=PAGE)
            per_query: dict[str, list[float]] = {}
            hits: dict[str, int] = {}
            for _ in range(repeats):
                for flt in cases:
                    label = (flt.q or "(no query)") + (f" · {flt.municipality}" if flt.municipality else "")
                    t = time.perf_counter()
                    page = await reader.search_decisions(conn, flt, limit=PAGE)
                    per_query.setdefault(label, []).append((time.perf_counter() - t) * 1000)
                    hits[label] = len(page.items)
            # The second page of the commonest word: the keyset continues where the first page ended.
            common = ReadFilter(q="godkendt")
            first = await reader.search_decisions(conn, common, limit=PAGE)
            second: list[float] = []
            for _ in range(repeats):
                t = time.perf_counter()
                await reader.search_decisions(conn, common, cursor=first.next_cursor, limit=PAGE)
                second.append((time.perf_counter() - t) * 1000)
            totals = {q: await reader.count_decisions(conn, ReadFilter(q=q)) for q in QUERIES}
    finally:
        await engine.dispose()
    searched = [ms for label, values in per_query.items() if label != "(no query)" for ms in values]
    return {
        "items": stored,
        "fill_s": round(fill_s, 1),
        "fill_items_per_s": round(stored / fill_s, 1) if fill_s else None,
        "page_size": PAGE,
        "repeats": repeats,
        "latency_ms": percentiles(searched),
        "second_page_ms": percentiles(second),
        "per_query_p50_ms": {label: percentiles(v)["p50"] for label, v in per_query.items()},
        "first_page_hits": hits,
        "matching_decisions": totals,
    }


def search_latency(
    parsed: Sequence[Parsed], workdir: Path, kind: str, postgres_url: str | None, items: int = 30_000,
    repeats: int = 10,
) -> dict[str, Any]:
    """Fill a fresh store with `items` items and time the first page of each query `repeats` times."""
    with fresh_database(kind, workdir, "search", postgres_url) as url:
        return asyncio.run(_measure(parsed, url, items, repeats))

"""The store's CPU per document, alone: `python -m bench.store_cpu --docs 200 --runs 3 [--postgres URL]`.

Stores generated documents with the store's repository, 100 stream entries per transaction (as the store
service and `minutes bench`'s store-only ceiling do), then drains the search indexer (when this version of
the store has one), and prints meetings/s, CPU ms per document (process time: storing plus indexing) and
the SQL statements the database executed per 100-entry batch (SQLAlchemy's `before_cursor_execute`; an
executemany counts once per row, as SQLite runs its statement once per row) and the driver calls per batch.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import pickle
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

# Store batches per indexer pass: the store service commits a 100-entry batch every ~10-20 ms at its
# ceiling, and its indexer passes at most every 0.5 s (indexer.PASS_INTERVAL_S), so tens of batches a pass;
# 5 is on the cautious side (smaller passes cost more).
INDEX_EVERY = 5
CACHE = Path(tempfile.gettempdir()) / "minutes-store-cpu-events-{n}.pickle"


def _events(n: int) -> list[Any]:
    path = Path(str(CACHE).format(n=n))
    if path.exists():
        return list(pickle.loads(path.read_bytes()))
    from bench import ceilings, corpus
    from services.parser.events import meeting_events
    from shared.contracts.events import DocumentReceived

    _, parsed = ceilings.parse_ceiling(corpus.generate_corpus(n, 0, 0.0))
    events: list[Any] = []
    for p in parsed:
        received = DocumentReceived(document_id=p.document_id, original_name=p.doc.name, size=len(p.doc.data),
                                    content_type="text/plain", blob_ref="file:///x")
        events.extend(meeting_events(received, p.meeting))
    path.write_bytes(pickle.dumps(events))
    return events


async def _run(events: list[Any], docs: int, batch: int, url: str) -> dict[str, float]:
    from services.store.db import create_engine, migrate
    from services.store.repository import store_events
    from shared.contracts.events import utcnow

    await migrate(url)
    engine = create_engine(url)
    # [statements, driver calls] of the store's transactions and of the indexer's.
    counts = {"store": [0, 0], "index": [0, 0]}
    phase = "store"

    def count(_conn: Any, _cursor: Any, _sql: str, parameters: Any, _context: Any, executemany: bool) -> None:
        # SQLite runs its prepared statement once per row of an executemany: count each run.
        counts[phase][0] += len(parameters) if executemany else 1
        counts[phase][1] += 1

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    writer = None
    if importlib.util.find_spec("services.store.sqlite_writer") is not None:
        # This version's store writes SQLite through a plain connection (one thread hop a batch): so here.
        from services.store.sqlite_writer import SqliteWriter, sync_url

        file_url = sync_url(url)
        writer = SqliteWriter(file_url) if file_url else None
        if writer is not None:
            event.listen(writer.engine, "before_cursor_execute", count)
    indexer = None
    if importlib.util.find_spec("services.store.indexer") is not None:
        from services.store.indexer import SearchIndexer

        indexer = SearchIndexer(engine)
    cpu = {"store": 0.0, "index": 0.0}

    async def index() -> None:
        nonlocal phase
        assert indexer is not None
        phase, started = "index", time.process_time()
        await indexer.run_once()
        phase, cpu["index"] = "store", cpu["index"] + time.process_time() - started

    try:
        wall = time.perf_counter()
        batches = 0
        for i in range(0, len(events), batch):
            started = time.process_time()
            chunk = events[i : i + batch]
            if writer is not None:
                await writer.run(lambda conn, chunk=chunk: store_events(  # type: ignore[misc]
                    conn, chunk, now=utcnow(), public_base_url="minutes://items/"))
            else:
                async with engine.begin() as conn:
                    await store_events(conn, chunk, now=utcnow(), public_base_url="minutes://items/")
            cpu["store"] += time.process_time() - started
            batches += 1
            if indexer is not None and batches % INDEX_EVERY == 0:
                await index()  # as in the store service: a pass at most every 0.5 s, storing goes on
        if indexer is not None:
            await index()
        wall = time.perf_counter() - wall
    finally:
        if writer is not None:
            writer.close()
        await engine.dispose()
    return {
        "meetings_per_s": docs / wall,
        "cpu_ms_per_doc": 1000 * (cpu["store"] + cpu["index"]) / docs,
        "store_cpu_ms_per_doc": 1000 * cpu["store"] / docs,
        "index_cpu_ms_per_doc": 1000 * cpu["index"] / docs,
        "statements_per_batch": counts["store"][0] / batches,
        "driver_calls_per_batch": counts["store"][1] / batches,
        "index_statements_per_batch": counts["index"][0] / batches,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (a fresh database per run); else SQLite")
    args = ap.parse_args()
    from bench.ceilings import fresh_database

    events = _events(args.docs)
    results = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            kind = "postgres" if args.postgres else "sqlite"
            with fresh_database(kind, Path(tmp), "store_cpu", args.postgres) as url:
                results.append(asyncio.run(_run(events, args.docs, args.batch, url)))
    for key in results[0]:
        values = [r[key] for r in results]
        print(f"{key:26} median {statistics.median(values):8.1f}   runs {' '.join(f'{v:.1f}' for v in values)}")


if __name__ == "__main__":
    main()

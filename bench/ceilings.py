"""Ceilings of the pipeline's three stages on the benchmark corpus: parse-only, broker-only, store-only."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aioredis

from bench.corpus import GeneratedDoc
from shared.contracts.events import AgendaItemParsed, DocumentReceived, MeetingParsed, utcnow
from shared.contracts.meeting import ParsedMeeting
from shared.redis_server import RedisServer
from shared.stream_worker import Entry, GroupWorker

PUBLIC_BASE_URL = "minutes://items/"


@dataclass
class Parsed:
    """One corpus document with what the real parser made of it."""

    doc: GeneratedDoc
    document_id: str
    meeting: ParsedMeeting

    @property
    def matches(self) -> bool:
        """The parser found the generator's item and decision counts."""
        return (len(self.meeting.items), len(self.meeting.decisions)) == (
            self.doc.expected_items, self.doc.expected_decisions)


def document_id(data: bytes) -> str:
    """The pipeline's document id: sha256 of the bytes."""
    return hashlib.sha256(data).hexdigest()


def _parse_fn() -> Any:
    from services.parser.core import parse_document

    return parse_document


def parse_ceiling(docs: Sequence[GeneratedDoc]) -> tuple[dict[str, Any], list[Parsed]]:
    """Parser core in this one process, each document once: documents/s, MB/s, items/s (and the results)."""
    parse = _parse_fn()
    parse(docs[0].data, docs[0].name)  # warm caches (regexes, municipality table) outside the timing
    out: list[Parsed] = []
    started = time.perf_counter()
    for doc in docs:
        out.append(Parsed(doc, "", parse(doc.data, doc.name)))
    elapsed = time.perf_counter() - started
    for p in out:
        p.document_id = document_id(p.doc.data)
    size = sum(len(d.data) for d in docs)
    items = sum(len(p.meeting.items) for p in out)
    return {
        "documents": len(docs),
        "elapsed_s": round(elapsed, 3),
        "docs_per_s": round(len(docs) / elapsed, 1),
        "mb_per_s": round(size / 1e6 / elapsed, 2),
        "items_per_s": round(items / elapsed, 1),
        "mismatches": sum(not p.matches for p in out),
        "mismatched_documents": [p.doc.name for p in out if not p.matches][:20],
    }, out


def pipeline_messages(parsed: Sequence[Parsed]) -> list[list[bytes]]:
    """Per document, the bodies the pipeline sends: DocumentReceived, MeetingParsed, items, DecisionMade."""
    from services.parser.events import meeting_events
    from services.store.repository import decision_made

    now = utcnow()
    out = []
    for p in parsed:
        received = DocumentReceived(
            document_id=p.document_id, original_name=p.doc.name, size=len(p.doc.data),
            content_type="application/pdf" if p.doc.name.endswith(".pdf") else "text/plain",
            blob_ref=f"file:///data/blobs/{p.document_id[:2]}/{p.document_id}", source="inbox",
        )
        events = meeting_events(received, p.meeting)
        bodies = [received.model_dump_json().encode()] + [e.model_dump_json().encode() for e in events]
        bodies += [
            decision_made(e, now=now, public_base_url=PUBLIC_BASE_URL).model_dump_json().encode()
            for e in events
            if isinstance(e, AgendaItemParsed) and e.item.decision is not None
        ]
        out.append(bodies)
    return out


async def _consume(url: str, stream: str, group: str, total: int, batch: int) -> None:
    """Read and ack `total` entries through the stream worker; raises if the stream runs dry."""
    client = aioredis.Redis.from_url(url)
    consumed = 0

    async def handle(entries: list[Entry]) -> None:
        nonlocal consumed
        consumed += len(entries)
        if consumed >= total:
            worker.stop.set()

    worker = GroupWorker(client, stream, group, "c1", handle, batch=batch, claim_idle_ms=None)
    try:
        async with asyncio.timeout(max(30.0, total / 1000)):
            await worker.run()
    except TimeoutError:
        raise RuntimeError(f"broker ceiling: stream ran dry after {consumed} of {total} messages") from None
    finally:
        await client.aclose()


def broker_ceiling(messages: Sequence[Sequence[bytes]], workdir: Path, batch: int = 100) -> dict[str, Any]:
    """Pipelined XADD of every message, then the services' stream worker (XREADGROUP COUNT `batch` + one XACK
    per batch, shared/stream_worker.py) with a no-op handler, own redis-server."""
    flat = [body for doc in messages for body in doc]
    server = RedisServer(workdir / "redis-broker-ceiling")
    url = server.start()
    client = redis.Redis.from_url(url)
    stream, group = "bench:ceiling", "bench"
    try:
        client.xgroup_create(stream, group, id="0", mkstream=True)
        started = time.perf_counter()
        for i in range(0, len(flat), 500):
            pipe = client.pipeline(transaction=False)
            for body in flat[i : i + 500]:
                pipe.xadd(stream, {"json": body})
            pipe.execute()
        published = time.perf_counter()
        asyncio.run(_consume(url, stream, group, len(flat), batch))
        done = time.perf_counter()
    finally:
        client.close()
        server.stop()
    total = done - started
    per_doc = len(flat) / len(messages)
    return {
        "messages": len(flat),
        "mean_message_bytes": round(sum(map(len, flat)) / len(flat)),
        "messages_per_doc": round(per_doc, 2),
        "elapsed_s": round(total, 3),
        "publish_per_s": round(len(flat) / (published - started)),
        "consume_ack_per_s": round(len(flat) / (done - published)),
        "messages_per_s": round(len(flat) / total),
        "docs_per_s": round(len(flat) / total / per_doc, 1),
    }


async def _admin(postgres_url: str, statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    admin = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await admin.dispose()


@contextlib.contextmanager
def fresh_database(kind: str, workdir: Path, name: str, postgres_url: str | None) -> Iterator[str]:
    """URL of an empty database: a SQLite file in `workdir`, or a new database on the PostgreSQL server."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{(workdir / f'{name}.db').resolve()}"
        return
    from sqlalchemy import make_url

    if not postgres_url:
        raise SystemExit("--store postgres needs --database-url (or MINUTES_DATABASE_URL) of a PostgreSQL server")
    db = f"minutes_bench_{name}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(postgres_url, f'CREATE DATABASE "{db}"'))
    try:
        yield make_url(postgres_url).set(database=db).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(postgres_url, f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))


async def _store(parsed: Sequence[Parsed], url: str, batch: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from services.parser.events import meeting_events
    from services.store.db import create_engine, migrate
    from services.store.indexer import SearchIndexer
    from services.store.models import decisions
    from services.store.repository import store_events
    from services.store.sqlite_writer import SqliteWriter, sync_url

    await migrate(url)
    events: list[MeetingParsed | AgendaItemParsed] = []
    for p in parsed:
        received = DocumentReceived(document_id=p.document_id, original_name=p.doc.name, size=len(p.doc.data),
                                    content_type="text/plain", blob_ref="file:///x")
        events.extend(meeting_events(received, p.meeting))
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        # Like the store service: one transaction per delivery of `batch` stream entries, and its search
        # indexer's pass now and then (it runs at most every 0.5 s beside the store): the ceiling includes
        # making what was stored searchable.
        indexer = SearchIndexer(engine)
        # On SQLite the service writes through its plain-connection writer: so does the ceiling.
        file_url = sync_url(url)
        writer = SqliteWriter(file_url) if file_url else None
        for n, i in enumerate(range(0, len(events), batch), 1):
            chunk = events[i : i + batch]
            if writer is not None:
                await writer.run(lambda conn, chunk=chunk: store_events(  # type: ignore[misc]
                    conn, chunk, now=utcnow(), public_base_url=PUBLIC_BASE_URL))
            else:
                async with engine.begin() as conn:
                    await store_events(conn, chunk, now=utcnow(), public_base_url=PUBLIC_BASE_URL)
            if n % 5 == 0:
                await indexer.run_once()
        await indexer.run_once()
        elapsed = time.perf_counter() - started
        if writer is not None:
            writer.close()
        async with engine.connect() as conn:
            stored = (await conn.execute(select(func.count()).select_from(decisions))).scalar_one()
    finally:
        await engine.dispose()
    items = sum(len(p.meeting.items) for p in parsed)
    return {
        "meetings": len(parsed),
        "events": len(events),
        "elapsed_s": round(elapsed, 3),
        "meetings_per_s": round(len(parsed) / elapsed, 1),
        "items_per_s": round(items / elapsed, 1),
        "decisions_stored": stored,
    }


def store_ceiling(
    parsed: Sequence[Parsed], workdir: Path, kind: str, postgres_url: str | None, batch: int = 100
) -> dict[str, Any]:
    """Idempotent upserts of the parsed meetings with the store's repository, `batch` events per transaction."""

    with fresh_database(kind, workdir, "store_ceiling", postgres_url) as url:
        return asyncio.run(_store(parsed, url, batch))

"""The seeds and the real corpus, parsed by the parser core and stored by the store's own code path.

Parsing is pure and the slow part (PDFs), so it is done once per test session; every test stores the
parsed documents into its own fresh database through `meeting_events` + `store_events`, as the pipeline does.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from services.parser.core import DocumentError, parse_document
from services.parser.events import meeting_events
from services.store.indexer import SearchIndexer
from services.store.repository import ItemsEvent, store_events
from shared.contracts.events import DocumentReceived, utcnow
from shared.contracts.meeting import ParsedMeeting

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"
SEEDS = CORPUS / "seeds"
REAL_DOCS = CORPUS / "real" / "docs"
REAL_GOLD = CORPUS / "real" / "gold"
BASE = "https://minutes.test/items/"
RECEIVED_AT = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class StoredDoc:
    """One corpus file, what ingest would have announced for it, and its parse."""

    path: Path
    received: DocumentReceived
    meeting: ParsedMeeting


def received_for(path: Path, data: bytes, index: int) -> DocumentReceived:
    """The DocumentReceived ingest would publish (blob reference as the local blob store names it)."""
    digest = hashlib.sha256(data).hexdigest()
    return DocumentReceived(
        document_id=digest,
        original_name=path.name,
        size=len(data),
        content_type="application/octet-stream",
        blob_ref=f"file:///data/blobs/{digest[:2]}/{digest[2:4]}/{digest}",
        received_at=RECEIVED_AT + dt.timedelta(minutes=index),
    )


@functools.cache
def corpus() -> tuple[StoredDoc, ...]:
    """The five seeds and every real-corpus document the parser accepts (the 1942 protocol it refuses).

    One document per meeting: the real corpus holds one Syddjurs meeting three times (PDF, Word, Acadre XML),
    which the store keeps as versions of one meeting; the read tests here count decisions per document, and
    keep the PDF (its items have pages).
    """
    out: list[StoredDoc] = []
    meetings: dict[tuple[str | None, str | None, dt.date | None], int] = {}
    paths = sorted(SEEDS.glob("*.txt")) + sorted(REAL_DOCS.iterdir())
    for index, path in enumerate(paths):
        data = path.read_bytes()
        try:
            meeting = parse_document(data, path.name)
        except DocumentError:
            continue
        key = (meeting.municipality, meeting.committee, meeting.meeting_date)
        doc = StoredDoc(path, received_for(path, data, index), meeting)
        if key not in meetings:
            meetings[key] = len(out)
            out.append(doc)
        elif path.suffix == ".pdf":
            out[meetings[key]] = doc
    return tuple(out)


async def store(engine: AsyncEngine, events: Sequence[ItemsEvent], *, index: bool = True) -> None:
    """One store transaction, as the store handler runs it; then (unless `index` is false) the search
    indexer's pass, as the store service runs it after the commit, so what is stored is searchable."""
    async with engine.begin() as conn:
        await store_events(conn, events, now=utcnow(), public_base_url=BASE)
    if index:
        await SearchIndexer(engine).run_once()


async def fill(engine: AsyncEngine, docs: tuple[StoredDoc, ...] | None = None) -> tuple[StoredDoc, ...]:
    """Store the corpus (or `docs`), one document per transaction; returns what was stored."""
    docs = corpus() if docs is None else docs
    for doc in docs:
        await store(engine, list(meeting_events(doc.received, doc.meeting)))
    return docs

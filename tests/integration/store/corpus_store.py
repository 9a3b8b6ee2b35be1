"""A store filled the way the pipeline fills it, from the seeds and the real corpus (for read-side tests).

Each file is put into a real blob store, announced as a `DocumentReceived`, parsed by the parser core,
turned into the parser's events (`services.parser.events.meeting_events`) and stored by the store's
repository in one transaction per document — the same code path as `minutes up`, without Redis.
Files the parser refuses (the 1942 protocol) are left out, as the pipeline dead-letters them.
"""

from __future__ import annotations

import datetime as dt
import json
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.parser.core import DocumentError, parse_document
from services.parser.events import meeting_events
from services.store.repository import store_events
from shared.blobs import LocalBlobStore, sha256_hex
from shared.contracts.events import DocumentReceived

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SEEDS = FIXTURES / "corpus" / "seeds"
REAL_DOCS = FIXTURES / "corpus" / "real" / "docs"
GOLD_DIRS = (FIXTURES / "corpus" / "gold", FIXTURES / "corpus" / "real" / "gold")


@dataclass
class Filled:
    """What was stored: file name -> document id, and the files the parser refused."""

    documents: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)


def corpus_files() -> list[Path]:
    """The five seeds and every document of the real corpus."""
    return sorted(SEEDS.glob("*.txt")) + sorted(p for p in REAL_DOCS.iterdir() if p.is_file())


def gold() -> list[dict[str, Any]]:
    """Every gold annotation (seeds and real corpus): what a person read in each document."""
    return [json.loads(p.read_text()) for d in GOLD_DIRS for p in sorted(d.glob("*.json"))]


async def fill(engine: AsyncEngine, blobs_dir: Path) -> Filled:
    """Store every corpus file through the pipeline's code path; returns what was stored and refused."""
    store = LocalBlobStore(blobs_dir)
    out = Filled()
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for n, path in enumerate(corpus_files()):
        data = path.read_bytes()
        received = DocumentReceived(
            document_id=sha256_hex(data),
            original_name=path.name,
            size=len(data),
            content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            blob_ref=store.put(data),
            source=str(path.parent),
            received_at=base + dt.timedelta(minutes=n),
        )
        try:
            parsed = parse_document(data, path.name)
        except DocumentError:
            out.refused.append(path.name)
            continue
        async with engine.begin() as conn:
            await store_events(
                conn, meeting_events(received, parsed), now=base + dt.timedelta(minutes=n, seconds=30),
                public_base_url="minutes://items/",
            )
        out.documents[path.name] = received.document_id
    return out

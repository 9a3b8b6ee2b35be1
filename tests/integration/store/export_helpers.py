"""What the export and Datasette tests need beside `corpus_store`: the gold files and a name -> id map."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.store import corpus_store

GOLD_DIRS = (corpus_store.CORPUS / "gold", corpus_store.REAL_GOLD)


@dataclass
class Filled:
    """What was stored: the corpus file's name -> its document id."""

    documents: dict[str, str] = field(default_factory=dict)


def gold() -> list[dict[str, Any]]:
    """Every gold annotation (seeds and real corpus): what a person read in each document."""
    return [json.loads(p.read_text()) for d in GOLD_DIRS for p in sorted(d.glob("*.json"))]


async def fill(engine: AsyncEngine) -> Filled:
    """Store the seeds and the real corpus through the pipeline's code path (see corpus_store)."""
    docs = await corpus_store.fill(engine)
    return Filled({doc.path.name: doc.received.document_id for doc in docs})

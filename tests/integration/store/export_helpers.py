"""What the export and Datasette tests need beside `corpus_store`: the gold files and a name -> id map."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.db import create_engine, migrate
from tests.integration.store import corpus_store

GOLD_DIRS = (corpus_store.CORPUS / "gold", corpus_store.REAL_GOLD)


@dataclass
class Filled:
    """What was stored: the corpus file's name -> its document id."""

    documents: dict[str, str] = field(default_factory=dict)


def gold() -> list[dict[str, Any]]:
    """The gold annotation of every stored document (seeds and real corpus): what a person read in each.

    Only documents `corpus_store` stores (one per meeting: the Syddjurs meeting's Word and Acadre XML twins of
    its PDF are left out there).
    """
    stored = {doc.path.name for doc in corpus_store.corpus()}
    golds = (json.loads(p.read_text()) for d in GOLD_DIRS for p in sorted(d.glob("*.json")))
    return [g for g in golds if g["file"] in stored]


async def fill(engine: AsyncEngine) -> Filled:
    """Store the seeds and the real corpus through the pipeline's code path (see corpus_store)."""
    docs = await corpus_store.fill(engine)
    return Filled({doc.path.name: doc.received.document_id for doc in docs})


def filled_data_dir(path: Path) -> Filled:
    """Make `path` a data dir (what `--data` takes) whose SQLite store is migrated and filled as by `fill`."""
    path.mkdir()
    return asyncio.run(_fill_sqlite(f"sqlite+aiosqlite:///{path / 'minutes.db'}"))


async def _fill_sqlite(url: str) -> Filled:
    await migrate(url)
    engine = create_engine(url)
    try:
        return await fill(engine)
    finally:
        await engine.dispose()

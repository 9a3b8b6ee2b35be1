"""A store filled from the seeds and the real corpus (the store's own code path), blobs in a real local blob
store, and the API serving it under uvicorn on a free loopback port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from services.store.db import create_engine, migrate
from shared.blobs import LocalBlobStore
from shared.settings import Settings
from tests.integration.api.server import running_api
from tests.integration.store.corpus_store import StoredDoc, corpus, fill

MAX_PAGE = 7


@dataclass
class Served:
    """The running API and what is stored behind it."""

    base: str
    settings: Settings
    docs: tuple[StoredDoc, ...]
    blobs: LocalBlobStore


def with_blobs(blobs: LocalBlobStore, docs: tuple[StoredDoc, ...]) -> tuple[StoredDoc, ...]:
    """The corpus with its bytes put in `blobs`, and each announcement naming the real reference."""
    out = []
    for doc in docs:
        ref = blobs.put(doc.path.read_bytes())
        out.append(StoredDoc(doc.path, doc.received.model_copy(update={"blob_ref": ref}), doc.meeting))
    return tuple(out)


def api_settings(database_url: str, data_dir: Path, **extra: object) -> Settings:
    """Settings of an API on the test database, with a small page cap so the cap is visible."""
    return Settings(
        database_url=database_url,
        data_dir=data_dir,
        api_page_size=5,
        api_max_page_size=MAX_PAGE,
        _env_file=None,
        **extra,  # type: ignore[call-arg, arg-type]
    )


async def stored_corpus(database_url: str, data_dir: Path, **extra: object) -> tuple[Settings, tuple[StoredDoc, ...]]:
    """The database migrated and the corpus stored in it (its bytes in the blob store under `data_dir`); the
    API's settings (`api_settings` with `extra`) and what was stored."""
    await migrate(database_url)
    settings = api_settings(database_url, data_dir, **extra)
    docs = with_blobs(LocalBlobStore(settings.blobs_dir), corpus())
    engine = create_engine(database_url)
    try:
        await fill(engine, docs)
    finally:
        await engine.dispose()
    return settings, docs


@pytest.fixture
async def served(database_url: str, tmp_path: Path) -> AsyncIterator[Served]:
    """The corpus stored (SQLite and PostgreSQL), the API on it."""
    settings, docs = await stored_corpus(database_url, tmp_path / "data")
    with running_api(settings) as base:
        yield Served(base, settings, docs, LocalBlobStore(settings.blobs_dir))

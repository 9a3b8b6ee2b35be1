"""Accepted documents whose DocumentReceived Redis lost are published again by the state check, once, and
only those: not a stored one, not one in flight, not one ingest may still be publishing (real Redis, real
ingest, SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from services.ingest.backfill import backfill
from services.store.lost_documents import UNKNOWN_TYPE, broker_publish, recover_lost_documents
from services.store.models import documents
from shared import streams
from shared.blobs import LocalBlobStore
from shared.contracts.events import DeadLettered
from shared.dead_letter import dead_letter
from shared.settings import Settings
from tests.conftest import SEEDS
from tests.integration.ingest.helpers import documents as received_on_stream

LATER = dt.timedelta(minutes=10)  # "now" for the check: past the default 5-minute grace window


def _settings(tmp_path: Path, redis_url: str) -> Settings:
    return Settings(redis_url=redis_url, data_dir=tmp_path / "data", inbox=tmp_path / "inbox", _env_file=None)


def _seed(tmp_path: Path, n: int, extra: str = "") -> Path:
    """A copy of the n-th seed document, named after `extra`, which is appended (another document)."""
    seed = sorted(SEEDS.glob("*.txt"))[n]
    path = tmp_path / "drop" / f"møde {n}{extra}{seed.suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(seed.read_bytes() + extra.encode())
    return path


async def _check(engine: AsyncEngine, client: aioredis.Redis, settings: Settings, now: dt.datetime) -> int:
    store = LocalBlobStore(settings.blobs_dir)
    assert settings.redis_url
    return await recover_lost_documents(
        engine, client, store, broker_publish(settings.redis_url), grace_s=settings.lost_documents_grace_s, now=now
    )


async def _delete_entries(client: aioredis.Redis, stream: str) -> None:
    """Lose every entry of a stream, as a truncated AOF would (the group and its pending list stay)."""
    rows: Any = await client.xrange(stream)
    if rows:
        await client.xdel(stream, *[entry_id for entry_id, _ in rows])


async def test_a_lost_document_received_is_published_again_with_its_original_fields(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, engine: AsyncEngine
) -> None:
    settings = _settings(tmp_path, redis_url)
    report = await backfill([_seed(tmp_path, 0)], settings)
    assert report.new == 1
    [original] = await received_on_stream(redis_client)
    record = LocalBlobStore(settings.blobs_dir).get_record(original.document_id)
    assert record is not None and record.original_name == original.original_name
    assert record.received_at == original.received_at

    await _delete_entries(redis_client, streams.DOCUMENTS)
    # Ingest remembers it published these bytes: a rescan of the same file would not publish them again.
    again = await backfill([_seed(tmp_path, 0)], settings)
    assert (again.new, again.known) == (0, 1)
    assert await received_on_stream(redis_client) == []

    now = dt.datetime.now(dt.UTC)
    assert await _check(engine, redis_client, settings, now) == 0  # inside the grace window: left alone
    assert await _check(engine, redis_client, settings, now + LATER) == 1
    [republished] = await received_on_stream(redis_client)
    assert republished.model_dump() == original.model_dump()  # same id, name, size, type, ref, source, time

    # A second check publishes nothing more: the entry is in flight now, and later the document is stored.
    assert await _check(engine, redis_client, settings, now + LATER) == 0
    async with engine.begin() as conn:
        await conn.execute(insert(documents).values(document_id=original.document_id, stored_at=now))
    await _delete_entries(redis_client, streams.DOCUMENTS)  # parsed, acknowledged and trimmed
    assert await _check(engine, redis_client, settings, now + LATER) == 0
    assert await received_on_stream(redis_client) == []


async def test_only_blobs_nothing_covers_are_published_again(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, engine: AsyncEngine
) -> None:
    settings = _settings(tmp_path, redis_url)
    names = ["stored", "pending", "parsed", "dead", "lost"]
    paths = [_seed(tmp_path, n % 3, extra=name) for n, name in enumerate(names)]
    await backfill(paths, settings)
    events = {event.original_name: event for event in await received_on_stream(redis_client)}
    ids = {name: events[path.name].document_id for name, path in zip(names, paths, strict=True)}
    await _delete_entries(redis_client, streams.DOCUMENTS)
    now = dt.datetime.now(dt.UTC)

    async with engine.begin() as conn:  # stored (the documents row exists)
        await conn.execute(insert(documents).values(document_id=ids["stored"], stored_at=now))
    # In flight on the documents stream: read by a parser (pending), not acknowledged (backfill made the group).
    await broker_publish(redis_url)([events[paths[1].name]])
    got: Any = await redis_client.xreadgroup(streams.PARSER_GROUP, "p1", {streams.DOCUMENTS: ">"}, count=10)
    assert len(got[0][1]) == 1
    # Parsed, its events on the items stream, not stored yet (plain JSON, as any client may write).
    await redis_client.xadd(streams.ITEMS, {streams.PUBLIC_FIELD: orjson.dumps({"document_id": ids["parsed"]})})
    # Rejected by the parser: dead-lettered.
    await dead_letter(
        redis_client,
        DeadLettered(
            service="parser",
            stream=streams.DOCUMENTS,
            document_id=ids["dead"],
            error="not minutes",
            error_type="DocumentError",
            retryable=False,
            attempts=1,
            payload="{}",
        ),
    )
    # An old blob without a record (stored before records existed), lost too.
    legacy = LocalBlobStore(settings.blobs_dir)
    ref = legacy.put(b"legacy document bytes")
    legacy_id = Path(ref).name
    old = (now - dt.timedelta(days=3)).timestamp()
    os.utime(legacy.path_for(legacy_id), (old, old))

    rows: Any = await redis_client.xrange(streams.DOCUMENTS)
    before = {entry_id for entry_id, _ in rows}
    # Just stored: the grace window (5 min) keeps the newest blobs out, whatever else is true of them.
    assert await _check(engine, redis_client, settings, now) == 1  # only the 3-day-old legacy blob
    assert await _check(engine, redis_client, settings, now + LATER) == 1  # the lost one joins, once
    after: Any = await redis_client.xrange(streams.DOCUMENTS)
    published = [
        event for event in await received_on_stream(redis_client) if event.document_id in {legacy_id, ids["lost"]}
    ]
    assert len(after) - len(before) == 2
    assert sorted(e.document_id for e in published) == sorted([legacy_id, ids["lost"]])
    legacy_event = next(e for e in published if e.document_id == legacy_id)
    assert legacy_event.original_name == legacy_id and legacy_event.content_type == UNKNOWN_TYPE
    assert legacy_event.size == len(b"legacy document bytes")
    assert abs(legacy_event.received_at.timestamp() - old) < 1
    assert legacy_event.blob_ref == ref
    lost_event = next(e for e in published if e.document_id == ids["lost"])
    assert lost_event == events[paths[4].name]
    assert await _check(engine, redis_client, settings, now + LATER) == 0


async def test_a_database_without_tables_is_not_compared(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis
) -> None:
    """Before the first migration nothing can be told stored: the check says so instead of publishing all."""
    from services.store.db import create_engine
    from services.store.lost_documents import NotMigrated

    settings = _settings(tmp_path, redis_url)
    await backfill([_seed(tmp_path, 0)], settings)
    await _delete_entries(redis_client, streams.DOCUMENTS)
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(NotMigrated):
            await _check(engine, redis_client, settings, dt.datetime.now(dt.UTC) + LATER)
    finally:
        await engine.dispose()
    assert await received_on_stream(redis_client) == []


async def test_the_store_publishes_them_again_at_start(
    tmp_path: Path, redis_url: str, redis_client: aioredis.Redis, engine: AsyncEngine, database_url: str
) -> None:
    from services.store import bootstrap

    settings = Settings(
        redis_url=redis_url,
        database_url=database_url,
        data_dir=tmp_path / "data",
        _env_file=None,
        lost_documents_grace_s=60,
    )
    blobs = LocalBlobStore(settings.blobs_dir)
    lost_id = Path(blobs.put(b"accepted long ago, never parsed")).name
    young_id = Path(blobs.put(b"accepted just now")).name
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).timestamp()
    os.utime(blobs.path_for(lost_id), (old, old))
    deps = bootstrap.bootstrap(settings, engine=engine, redis=redis_client)
    try:
        await bootstrap.prepare(deps)
        await bootstrap.prepare(deps)  # a second store worker starting: nothing more
    finally:
        await deps.relay.stop(flush=False)
    assert [event.document_id for event in await received_on_stream(redis_client)] == [lost_id]
    assert young_id != lost_id

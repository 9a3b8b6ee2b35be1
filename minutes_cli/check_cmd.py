"""`minutes check`: the state of the database, Redis and the public stream, repaired where it can be."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.db import create_engine
from services.store.lost_documents import NotMigrated, broker_publish, recover_lost_documents
from services.store.outbox import OutboxRelay
from services.store.state_check import DatabaseCorrupt, Report, check_redis, reconcile_outbox, refuse_if_corrupt
from shared.blobs import BlobCatalog, open_blob_store
from shared.redis_server import RedisServer, generated_password, read_address
from shared.settings import Settings

# Exit status when a person must act before the pipeline may start (EX_DATAERR).
EXIT_CORRUPT = 65
# Exit status when stored documents' original files are missing or corrupt (the pipeline may run: the
# decisions are stored, only the originals cannot be offered).
EXIT_BLOB_FAULTS = 1


@asynccontextmanager
async def _redis(settings: Settings) -> AsyncIterator[tuple[Redis, str, Path | None]]:
    """The configured Redis, the running `minutes up`'s, or the embedded one started just for the check."""
    url = settings.redis_url or read_address(settings.data_dir)
    server: RedisServer | None = None
    folder = settings.data_dir / "redis"
    if url is None:
        # Nothing running on this data dir: start its Redis (AOF and all) for as long as the check takes.
        server = RedisServer(folder, binary=settings.redis_server_bin, password=generated_password(folder))
        url = server.start()
    client = Redis.from_url(url)
    try:
        yield client, url, (None if settings.redis_url else folder / "redis.log")
    finally:
        await client.aclose()
        if server is not None:
            server.stop()


async def run_check(settings: Settings, *, blob_sample: int | None = None, blobs: bool = True) -> Report:
    """Check everything; re-announce what the public stream lost. Never raises for what it finds.

    `blob_sample`: how many stored blobs to read and hash (0: all; None: `MINUTES_CHECK_BLOB_SAMPLE`);
    `blobs=False` skips them."""
    report = Report()
    database_url = settings.effective_database_url
    corrupt = False
    try:
        refuse_if_corrupt(database_url)
    except DatabaseCorrupt as exc:
        corrupt = True
        report.problems.append(str(exc))
    async with _redis(settings) as (client, url, redis_log):
        await check_redis(client, report, redis_log)
        if not corrupt:
            engine = create_engine(database_url)
            try:
                relay = OutboxRelay(engine, client, maxlen=settings.stream_maxlen)
                report.reannounced = await reconcile_outbox(engine, client, relay, settings.stream_maxlen)
                await _recover(settings, engine, client, url, report)
                if blobs:
                    sample = settings.check_blob_sample if blob_sample is None else blob_sample
                    await _blobs(settings, engine, report, sample)
                await _sources(engine, report)
            finally:
                await engine.dispose()
    if report.reannounced:
        report.notes.append(
            f"re-announced {report.reannounced} decisions missing from the public stream (same event_id)"
        )
    if report.republished:
        report.notes.append(f"{report.republished} documents accepted but never parsed: re-published")
    return report


async def _recover(settings: Settings, engine: AsyncEngine, client: Redis, url: str, report: Report) -> None:
    """Re-publish accepted documents Redis lost; a blob store that cannot be listed is a problem, not a crash."""
    catalog = open_blob_store(settings)
    assert isinstance(catalog, BlobCatalog)
    try:
        report.republished = await recover_lost_documents(
            engine, client, catalog, broker_publish(url), grace_s=settings.lost_documents_grace_s
        )
    except NotMigrated:
        report.notes.append("blob store not compared: the database is not migrated yet (`minutes migrate` does it)")
    except Exception as exc:  # S3 unreachable, bad credentials: the rest of the check still stands
        report.problems.append(f"could not compare the blob store with the pipeline: {exc}")


async def _blobs(settings: Settings, engine: AsyncEngine, report: Report, sample: int) -> None:
    """Every stored document's original file (or a sample) read and hashed; faults recorded and reported."""
    from sqlalchemy.exc import DBAPIError

    from services.store.blob_integrity import verify_blobs

    try:
        found = await verify_blobs(engine, open_blob_store(settings), sample=sample)
    except DBAPIError as exc:  # not migrated to 0015 yet: said, and the rest of the check still stands
        report.notes.append(f"blobs not verified: {exc.orig}")
        return
    except Exception as exc:  # S3 unreachable, bad credentials: a problem of the store, not of the blobs
        report.problems.append(f"could not verify the blobs: {exc}")
        return
    report.blob_faults = len(found.faults)
    for doc, fault in sorted(found.faults.items()):
        report.problems.append(f"blob of document {doc[:16]} ({found.names[doc]}): {fault}; no longer offered")
    scope = f"{found.checked} of {found.of}" if found.checked < found.of else f"all {found.of}"
    restored = f", {found.restored} restored and offered again" if found.restored else ""
    report.notes.append(f"blobs verified (sha256): {scope}, {len(found.faults)} missing or corrupt{restored}")


async def _sources(engine: AsyncEngine, report: Report) -> None:
    """Followed portals that are failing (services/ingest/sources/): said, never repaired here."""
    from sqlalchemy.exc import DBAPIError

    from services.ingest.sources.state import list_sources

    try:
        found = await list_sources(engine)
    except DBAPIError as exc:  # e.g. not migrated to 0011 yet: said, and the rest of the check still stands
        report.notes.append(f"followed sources not read: {exc.orig}")
        return
    for source in found:
        if source.error:
            since = source.error_since.isoformat(timespec="seconds") if source.error_since else "?"
            report.problems.append(f"source {source.name} ({source.url}) failing since {since}: {source.error}")
    if found:
        report.notes.append(f"{len(found)} sources followed, {sum(s.meetings_seen for s in found)} meetings seen")


def print_report(report: Report) -> int:
    """Print the report; the exit status is non-zero when the database is corrupt."""
    for line in report.problems:
        sys.stdout.write(f"PROBLEM  {line}\n")
    for line in report.notes:
        sys.stdout.write(f"ok       {line}\n")
    if report.ok:
        sys.stdout.write("ok       no problems found\n")
    if any(line.startswith("database ") for line in report.problems):
        return EXIT_CORRUPT
    return EXIT_BLOB_FAULTS if report.blob_faults else 0

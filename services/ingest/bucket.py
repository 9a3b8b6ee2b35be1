"""Ingest from an S3-compatible bucket: each new object version becomes a document like a dropped file."""

from __future__ import annotations

import asyncio
import json

from redis.asyncio import Redis

from services.ingest import files
from services.ingest.handlers import SERVICE, IngestDeps, publish_unseen
from services.ingest.intake import keep_record
from services.ingest.s3_source import BucketSource, run_bucket_source
from shared.blobs import BlobRecord
from shared.contracts.events import DeadLettered, DocumentReceived, utcnow
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)


async def ingest_object(name: str, data: bytes, source_url: str, deps: IngestDeps) -> str:
    """Store and publish one object's bytes (once per sha256); bad objects are dead-lettered, never raised."""
    problem = files.size_problem(len(data), deps.max_file_mb) or ("empty file" if not data else None)
    if problem:
        await deps.outbox.dead_letter(
            DeadLettered(
                service=SERVICE,
                stream="bucket",
                original_name=name,
                error=problem,
                error_type="FileTooLarge" if data else "EmptyFile",
                retryable=False,
                attempts=1,
                payload=json.dumps({"url": source_url, "name": name, "size": len(data)}, ensure_ascii=False),
            )
        )
        log.warning("object rejected", file=name, url=source_url, reason=problem)
        return "rejected"
    document_id, blob_ref, content_type = await asyncio.to_thread(_store, data, deps)
    event = DocumentReceived(
        document_id=document_id,
        original_name=name,
        size=len(data),
        content_type=content_type,
        blob_ref=blob_ref,
        source=source_url,
        received_at=utcnow(),
    )
    record = BlobRecord(**event.model_dump(include=set(BlobRecord.model_fields) - {"schema_version"}))
    await asyncio.to_thread(keep_record, deps.blobs, record)
    [new] = await publish_unseen([event], deps)
    if not new:
        return "known"
    log.info("document received", document_id=event.document_id, file=name, url=source_url, size=len(data))
    return "new"


def _store(data: bytes, deps: IngestDeps) -> tuple[str, str, str]:
    """Hash the bytes once, store them under that digest, sniff their type: blocking work, run in a thread."""
    hasher = deps.hash_factory()
    hasher.update(data)
    digest = hasher.hexdigest()
    return digest, deps.blobs.put(data, digest), files.sniff_content_type(data)


def start_bucket_source(
    settings: Settings, client: Redis, deps: IngestDeps, stop_event: asyncio.Event
) -> asyncio.Task[None]:
    """Run the bucket listing loop as a task that hands each new object version to `ingest_object`."""
    source = BucketSource.from_settings(settings, client)

    async def on_object(name: str, data: bytes, source_url: str) -> None:
        await ingest_object(name, data, source_url, deps)

    return asyncio.create_task(
        run_bucket_source(source, on_object, stop_event, settings.rescan_interval_s), name="ingest-bucket"
    )

"""Are the stored documents' original files still there and still theirs? (`minutes check`)

A document's id is the sha256 of its bytes, so its blob is sound when it can be read and hashes to the id.
Each blob checked is read once, in a thread, and hashed; what is wrong is written to `documents.blob_fault`
("missing", "corrupt: …"), which the read API and the web page follow (`blob_available`): a blob lost or
damaged on disk is no longer offered for download, and one restored is offered again at the next check.
The stored flag is the only thing changed: a blob is never rewritten or deleted here.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.store.models import documents
from shared.blobs import BlobNotFound, BlobRefRejected, BlobStore, sha256_hex

MISSING = "missing"


@dataclass
class BlobCheck:
    """What one verification found: how many blobs were read, and the faulty ones (document id -> reason)."""

    checked: int = 0
    of: int = 0
    faults: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    restored: int = 0


def fault_of(blobs: BlobStore, document_id: str, ref: str) -> str | None:
    """Why this document's blob is not sound, or None when it reads and hashes to the id (blocking)."""
    try:
        data = blobs.get(ref)
    except BlobNotFound:
        return MISSING
    except BlobRefRejected as exc:
        return f"reference refused: {exc}"
    digest = sha256_hex(data)
    return None if digest == document_id else f"corrupt: its sha256 is {digest}"


async def verify_blobs(engine: AsyncEngine, blobs: BlobStore, *, sample: int = 0, seed: int | None = None) -> BlobCheck:
    """Read and hash every stored document's blob (or `sample` of them, chosen at random) and record what is
    wrong in `documents.blob_fault`; a fault no longer found is cleared. Errors of the store itself (S3
    unreachable) propagate: they say nothing about the blobs."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(documents.c.document_id, documents.c.blob_ref, documents.c.blob_fault,
                          documents.c.original_name)
                .where(documents.c.blob_ref.is_not(None))
                .order_by(documents.c.document_id)
            )
        ).all()
    result = BlobCheck(of=len(rows))
    if 0 < sample < len(rows):
        rows = random.Random(seed).sample(rows, sample)
    changes: dict[str, str | None] = {}
    for row in rows:
        fault = await asyncio.to_thread(fault_of, blobs, row.document_id, row.blob_ref)
        result.checked += 1
        if fault is not None:
            result.faults[row.document_id] = fault
            result.names[row.document_id] = row.original_name
        elif row.blob_fault is not None:
            result.restored += 1
        if fault != row.blob_fault:
            changes[row.document_id] = fault
    if changes:
        async with engine.begin() as conn:
            await conn.execute(
                sa.update(documents).where(documents.c.document_id == sa.bindparam("doc")).values(
                    blob_fault=sa.bindparam("fault")
                ),
                [{"doc": doc, "fault": fault} for doc, fault in changes.items()],
            )
    return result

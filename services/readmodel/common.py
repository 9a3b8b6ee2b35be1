"""What the reads share: the target they run on, the newest-first date key, provenance, keyset helpers.

Pagination is keyset (cursor) pagination over a *total* order of immutable keys, so a page never loses or
repeats a row of the previous pages, even while new decisions are stored between the requests. The cursor
is opaque (`cursor.py`): the last row's keys, a fingerprint of the filter and a checksum; a changed or
truncated cursor, or one from another query, raises `CursorError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, func
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.readmodel import cursor as cursor_codec
from services.readmodel.filter import ReadFilter
from services.readmodel.results import MAX_LIMIT
from services.store.models import agenda_items, documents, meetings
from shared.contracts.meeting import Votes

# Every read takes an engine (it connects for the one statement) or a connection the caller holds.
Target = AsyncEngine | AsyncConnection

# Dates sort newest first with undated meetings last: NULL becomes the earliest possible date, so the sort
# key is never NULL and the keyset comparison stays a plain comparison on both databases.
NO_DATE = dt.date(1, 1, 1)
date_key = func.coalesce(meetings.c.meeting_date, sa.literal(NO_DATE, sa.Date))
# Rows fetched per round trip by the streaming iterators (server-side cursors).
STREAM_PAGE = 500


@asynccontextmanager
async def connected(target: Target) -> AsyncIterator[AsyncConnection]:
    """A connection for a read that spans several statements: the caller's own, or one taken from the engine
    for the block. An export passes its one connection through here, so it never holds one connection while
    waiting for a second (the deadlock of issue 22 under concurrent exports)."""
    if isinstance(target, AsyncConnection):
        yield target
        return
    async with target.connect() as conn:
        yield conn


def dialect(target: Target) -> str:
    """The database's dialect name (`sqlite`, `postgresql`)."""
    return target.dialect.name


async def rows(target: Target, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
    """Every row of `stmt`."""
    if isinstance(target, AsyncEngine):
        async with target.connect() as conn:
            return list((await conn.execute(stmt, params or {})).all())
    return list((await target.execute(stmt, params or {})).all())


async def count(target: Target, stmt: Select[Any]) -> int:
    """How many rows `stmt` returns (without its ORDER BY)."""
    found = await rows(target, sa.select(func.count()).select_from(stmt.order_by(None).subquery()))
    return int(found[0][0])


def clamp(limit: int) -> int:
    """A page size within 1..MAX_LIMIT."""
    return max(1, min(int(limit), MAX_LIMIT))


def after(keys: Sequence[tuple[ColumnElement[Any], bool]], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `keys` ((expression, descending) pairs)."""
    clauses = []
    for i, (expr, desc) in enumerate(keys):
        same = [k == v for (k, _), v in zip(keys[:i], values[:i], strict=True)]
        beyond = expr < values[i] if desc else expr > values[i]
        clauses.append(sa.and_(*same, beyond))
    return sa.or_(*clauses)


def fingerprint(kind: str, flt: ReadFilter) -> str:
    """The fingerprint a cursor of list `kind` under `flt` carries."""
    return cursor_codec.fingerprint(kind, flt.fingerprint_fields())


# Where a document came from, as `provenance()` reads it (a meeting's row selects these too).
DOCUMENT_COLUMNS = (
    documents.c.original_name,
    documents.c.blob_ref,
    documents.c.content_type,
    documents.c.size,
    documents.c.received_at,
    documents.c.stored_at.label("doc_stored_at"),
    documents.c.parsed_at,
    documents.c.source_url,
    documents.c.blob_fault,
)
PROVENANCE_COLUMNS = (
    *DOCUMENT_COLUMNS,
    agenda_items.c.page,
    meetings.c.kind,
    meetings.c.superseded_by,
)


def provenance(row: Any, *, page: bool = True) -> dict[str, Any]:
    """The `Provenance` fields of a row that selected PROVENANCE_COLUMNS (and the document id)."""
    return {
        "document_id": row.document_id,
        "original_name": row.original_name,
        "blob_ref": row.blob_ref,
        # Known and not found missing or corrupt by the last `minutes check` (blob_integrity.py).
        "blob_available": row.blob_ref is not None and row.blob_fault is None,
        "content_type": row.content_type,
        "size": row.size,
        "received_at": row.received_at,
        "stored_at": row.doc_stored_at,
        "page": row.page if page else None,
        "kind": row.kind,
        "current": row.superseded_by is None,
        "superseded_by": row.superseded_by,
        "source_url": row.source_url,
    }


def votes_of(stored: dict[str, Any] | None) -> Votes | None:
    """The `votes` JSON column as the contract's `Votes` (rows stored before `reserved` existed read as empty)."""
    return Votes.model_validate(stored) if stored else None

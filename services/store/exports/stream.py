"""The export pipeline: the read model's iterators -> rows -> a writer -> bytes chunks (see the package docstring)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.readmodel.common import connected
from services.readmodel.decisions import iter_decisions
from services.readmodel.filter import ReadFilter
from services.readmodel.items import iter_items
from services.readmodel.results import ItemWithMeeting
from services.store.exports.columns import DECISION_COLUMNS, ITEM_COLUMNS, Column, decision_row, item_row
from services.store.exports.formats import Counts, Format, Rows
from services.store.exports.oparl import MeetingExtras, write_oparl
from services.store.exports.writers import write_csv, write_jsonl, write_parquet
from services.store.models import meetings

T = TypeVar("T")


def columns_of(rows: Rows) -> tuple[Column, ...]:
    """The columns of a flat export of `rows`."""
    return DECISION_COLUMNS if rows is Rows.decisions else ITEM_COLUMNS


async def stream_export(
    target: AsyncEngine | AsyncConnection,
    fmt: Format,
    flt: ReadFilter,
    *,
    rows: Rows = Rows.decisions,
    public_api_url: str,
    counts: Counts | None = None,
    raw: bool = False,
    excel: bool = False,
) -> AsyncGenerator[bytes, None]:
    """Every row matching `flt` in format `fmt`, as bytes chunks (see the module docstring).

    `counts`, if given, is kept up to date as rows are read (for a summary after the export). `raw`: CSV text
    cells as stored, formulas and all (by default those a spreadsheet would run start with `'`). `excel`: CSV
    for a Danish spreadsheet (a BOM, `;`; see `write_csv`).
    """
    tally = counts if counts is not None else Counts()
    # One connection for the whole export: the cursor's rows and, for OParl, the per-meeting reads between
    # them. Never one held while waiting for a second from the same pool: with two per export, N concurrent
    # exports each holding one could wait for each other until the pool's timeout (issue 22).
    async with connected(target) as conn:
        if fmt is Format.oparl:
            async with _closing(_oparl(conn, flt, tally, public_api_url)) as doc:
                async for chunk in doc:
                    yield chunk
            return
        writers: dict[Format, Callable[[Sequence[Column], AsyncIterator[dict[str, Any]]], AsyncIterator[bytes]]] = {
            Format.jsonl: write_jsonl,
            Format.csv: partial(write_csv, raw=raw, excel=excel),
            Format.parquet: write_parquet,
        }
        writer = writers[fmt]
        source = _flat(conn, flt, rows, tally, public_api_url)
        async with _closing(source) as found, _closing(writer(columns_of(rows), found)) as out:
            async for chunk in out:
                yield chunk


async def _oparl(
    conn: AsyncConnection, flt: ReadFilter, tally: Counts, public_api_url: str
) -> AsyncIterator[bytes]:
    async def meeting(document_id: str) -> MeetingExtras | None:
        tally.meetings += 1
        return await meeting_extras(conn, document_id)

    async def counted(source: AsyncIterator[ItemWithMeeting]) -> AsyncIterator[ItemWithMeeting]:
        async for row in source:
            tally.rows += 1
            yield row

    async with (
        _closing(iter_items(conn, flt)) as items,
        _closing(counted(items)) as seen,
        _closing(write_oparl(seen, meeting, public_api_url)) as doc,
    ):
        async for chunk in doc:
            yield chunk


async def _flat(
    conn: AsyncConnection, flt: ReadFilter, rows: Rows, tally: Counts, public_api_url: str
) -> AsyncIterator[dict[str, Any]]:
    if rows is Rows.decisions:
        async with _closing(iter_decisions(conn, flt)) as hits:
            async for hit in hits:
                tally.rows += 1
                yield decision_row(hit, public_api_url)
    else:
        async with _closing(iter_items(conn, flt)) as found:
            async for row in found:
                tally.rows += 1
                yield item_row(row, public_api_url)


async def meeting_extras(conn: AsyncConnection, document_id: str) -> MeetingExtras | None:
    """A meeting's start time, place and participants: the header fields `iter_items` rows do not carry.

    One indexed single-row read per meeting; `meetings.get_meeting` would also read every item and version.
    """
    stmt = sa.select(meetings.c.start_time, meetings.c.location, meetings.c.participants).where(
        meetings.c.document_id == document_id
    )
    row = (await conn.execute(stmt)).first()
    if row is None:
        return None
    return MeetingExtras(row.start_time, row.location, tuple(row.participants or ()))


@asynccontextmanager
async def _closing(source: AsyncIterator[T]) -> AsyncIterator[AsyncIterator[T]]:
    """`source`, closed when the block ends: a consumer that stops early (a client that disconnects
    mid-export) frees the database cursor now, not when the garbage collector finds the generator."""
    try:
        yield source
    finally:
        close = getattr(source, "aclose", None)
        if close is not None:
            await close()

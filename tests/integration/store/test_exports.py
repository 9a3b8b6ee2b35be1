"""Exports against real SQLite and PostgreSQL stores filled from the seeds and the real corpus.

Counts are checked against SQL written here (not the reader's) and against the gold files; the formats
against each other (Parquet and CSV read back to the jsonl rows) and OParl against the vendored schema.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from services.readmodel.filter import ReadFilter
from services.store.exports import Counts, Format, Rows, stream_export
from services.store.exports.columns import DECISION_COLUMNS, ITEM_COLUMNS, Column, Kind
from services.store.exports.oparl import OParlUrls, organization_object
from shared.contracts.meeting import Outcome
from tests.integration.store import oparl_schema
from tests.integration.store.export_helpers import Filled, fill, gold

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

API = "https://minutes.example.org/"
CURRENT = "m.complete = :yes AND m.superseded_by IS NULL"

# Counted here, independently of the reader: what a current, complete meeting holds.
DECISIONS_SQL = f"SELECT count(*) FROM decisions d JOIN meetings m ON m.document_id = d.document_id WHERE {CURRENT}"
ITEMS_SQL = f"SELECT count(*) FROM agenda_items a JOIN meetings m ON m.document_id = a.document_id WHERE {CURRENT}"
MEETINGS_SQL = f"SELECT count(*) FROM meetings m WHERE {CURRENT}"


@pytest.fixture
async def filled(engine: AsyncEngine, tmp_path: Path) -> Filled:
    return await fill(engine)


async def sql_count(engine: AsyncEngine, sql: str, **params: Any) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(sql), {"yes": True, **params})).scalar_one())


async def export(engine: AsyncEngine, fmt: Format, flt: ReadFilter | None = None, rows: Rows = Rows.decisions,
                 counts: Counts | None = None) -> bytes:
    chunks = stream_export(engine, fmt, flt or ReadFilter(), rows=rows, public_api_url=API, counts=counts)
    return b"".join([chunk async for chunk in chunks])


def jsonl_rows(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode().splitlines()]


def _gold_decided(doc: dict[str, Any]) -> int:
    return sum(1 for item in doc["items"] if item["outcome"] != ["none"])


async def test_row_counts_of_every_format_equal_the_stored_counts(engine: AsyncEngine, filled: Filled) -> None:
    decisions, items = await sql_count(engine, DECISIONS_SQL), await sql_count(engine, ITEMS_SQL)
    # The same numbers a person counts in the gold files: the store holds what the documents say.
    assert decisions == sum(_gold_decided(d) for d in gold())
    assert items == sum(len(d["items"]) for d in gold())
    for rows, expected in ((Rows.decisions, decisions), (Rows.items, items)):
        counts = Counts()
        assert len(jsonl_rows(await export(engine, Format.jsonl, rows=rows, counts=counts))) == expected
        assert counts.rows == expected
        parsed = list(csv.DictReader(io.StringIO((await export(engine, Format.csv, rows=rows)).decode())))
        assert len(parsed) == expected
        assert pq.read_table(io.BytesIO(await export(engine, Format.parquet, rows=rows))).num_rows == expected
    doc = json.loads(await export(engine, Format.oparl))
    assert len(doc["data"]) == await sql_count(engine, MEETINGS_SQL) == len(filled.documents)
    assert sum(len(m["agendaItem"]) for m in doc["data"]) == items
    assert sum("resolutionText" in i for m in doc["data"] for i in m["agendaItem"]) == decisions


async def test_filters_apply_to_the_export(engine: AsyncEngine, filled: Filled) -> None:
    greve = [d for d in gold() if d["file"].startswith("greve-")]
    rows = jsonl_rows(await export(engine, Format.jsonl, ReadFilter(municipality="greve")))
    assert len(rows) == sum(_gold_decided(d) for d in greve) > 0
    assert {r["municipality"] for r in rows} == {"Greve"}

    approved = jsonl_rows(await export(engine, Format.jsonl, ReadFilter(outcome=Outcome.APPROVED)))
    assert len(approved) == await sql_count(engine, DECISIONS_SQL + " AND d.outcome = 'approved'") > 0

    since, until = dt.date(2022, 1, 1), dt.date(2024, 12, 31)
    ranged = jsonl_rows(await export(engine, Format.jsonl, ReadFilter(date_from=since, date_to=until), Rows.items))
    assert len(ranged) == sum(len(d["items"]) for d in gold() if "2022-01-01" <= d["meeting_date"] <= "2024-12-31")
    assert all(since.isoformat() <= r["meeting_date"] <= until.isoformat() for r in ranged)

    absent: collections.Counter[str] = collections.Counter(
        name for d in gold() for item in d["items"] for name in item["absent"]
    )
    member, times = absent.most_common(1)[0]
    missing = jsonl_rows(await export(engine, Format.jsonl, ReadFilter(absent=member.upper()), Rows.items))
    assert len(missing) == times
    assert all(member in r["absent"] for r in missing)

    files_of: dict[str, set[str]] = collections.defaultdict(set)
    for d in gold():
        for item in d["items"]:
            if item["case_number"]:
                files_of[item["case_number"]].add(d["file"])
    case = sorted(c for c, files in files_of.items() if len(files) > 1)[0]
    treated = json.loads(await export(engine, Format.oparl, ReadFilter(case_number=case)))
    assert len(treated["data"]) == len(files_of[case])  # one case across meetings
    assert {i["minutes:caseNumber"] for m in treated["data"] for i in m["agendaItem"]} == {case}


def _same(column: Column, jsonl: Any, other: Any) -> bool:
    """Is a value read back from Parquet (`other`) the jsonl value, by the column's type?"""
    if jsonl is None or other is None:
        return jsonl is None and other is None
    if column.kind is Kind.DATE:
        return bool(other.isoformat() == jsonl)
    if column.kind is Kind.DATETIME:
        return bool(other == dt.datetime.fromisoformat(jsonl))
    if column.kind is Kind.JSON:
        return bool(json.loads(other) == jsonl)
    return bool(other == jsonl)


@pytest.mark.parametrize("rows", list(Rows))
async def test_parquet_reads_back_with_the_rows_of_jsonl(engine: AsyncEngine, filled: Filled, rows: Rows) -> None:
    columns = DECISION_COLUMNS if rows is Rows.decisions else ITEM_COLUMNS
    expected = jsonl_rows(await export(engine, Format.jsonl, rows=rows))
    table = pq.read_table(io.BytesIO(await export(engine, Format.parquet, rows=rows)))
    assert table.column_names == [c.name for c in columns]
    types = {f.name: f.type for f in table.schema}
    assert types["meeting_date"] == pa.date32()
    assert types["source_received_at"] == pa.timestamp("us", tz="UTC")
    assert types["absent"] == pa.list_(pa.string())
    assert types["source_current"] == pa.bool_()
    assert types["municipality_code"] == pa.int64()
    got = table.to_pylist()
    assert len(got) == len(expected)
    for want, have in zip(expected, got, strict=True):
        bad = [c.name for c in columns if not _same(c, want[c.name], have[c.name])]
        assert not bad, (bad, want["item_id"])


def _csv_same(column: Column, jsonl: Any, cell: str) -> bool:
    """Is a CSV cell the jsonl value, by the README's rules (lists joined with '; ', JSON as text, '' = null)?"""
    if jsonl is None:
        return cell == ""
    if column.kind is Kind.LIST:
        return cell.split("; ") == jsonl if jsonl else cell == ""
    if column.kind is Kind.JSON:
        return bool(json.loads(cell) == jsonl)
    if column.kind is Kind.BOOL:
        return cell == ("true" if jsonl else "false")
    if column.kind is Kind.INT:
        return bool(int(cell) == jsonl)
    return bool(cell == jsonl)


@pytest.mark.parametrize("rows", list(Rows))
async def test_csv_round_trips_through_dictreader(engine: AsyncEngine, filled: Filled, rows: Rows) -> None:
    columns = DECISION_COLUMNS if rows is Rows.decisions else ITEM_COLUMNS
    expected = jsonl_rows(await export(engine, Format.jsonl, rows=rows))
    data = await export(engine, Format.csv, rows=rows)
    assert not data.startswith(b"\xef\xbb\xbf")  # UTF-8 without BOM
    assert data.split(b"\r\n", 1)[0].decode() == ",".join(c.name for c in columns)
    parsed = list(csv.DictReader(io.StringIO(data.decode(), newline="")))
    # The corpus' decisions span lines and quote: RFC 4180 quoting is exercised, not assumed.
    text_column = "decision_text"
    assert any("\n" in (r[text_column] or "") for r in expected)
    for want, have in zip(expected, parsed, strict=True):
        assert list(have) == [c.name for c in columns]
        bad = [c.name for c in columns if not _csv_same(c, want[c.name], have[c.name])]
        assert not bad, (bad, want["item_id"])


async def test_oparl_export_validates_against_the_oparl_1_1_schema(engine: AsyncEngine, filled: Filled) -> None:
    doc = json.loads(await export(engine, Format.oparl))
    assert set(doc) == {"data", "pagination", "links"}
    assert doc["pagination"]["totalElements"] == len(doc["data"])
    for meeting in doc["data"]:
        assert oparl_schema.errors("Meeting", meeting) == [], meeting["id"]
        assert meeting["type"] == "https://schema.oparl.org/1.1/Meeting"
        assert all(i["type"] == "https://schema.oparl.org/1.1/AgendaItem" for i in meeting["agendaItem"])
    # Ids are unique URLs under the configured base.
    ids = [m["id"] for m in doc["data"]] + [i["id"] for m in doc["data"] for i in m["agendaItem"]]
    assert len(ids) == len(set(ids)) and all(i.startswith(API + "oparl/v1/") for i in ids)
    # The committees the meetings name validate as Organization objects with exactly those ids.
    urls = OParlUrls(API)
    orgs = {
        m["organization"][0]: organization_object(
            urls, m.get("minutes:municipality"), m.get("minutes:region"), m["minutes:committee"]
        )
        for m in doc["data"]
    }
    for url, org in orgs.items():
        assert org["id"] == url
        assert oparl_schema.errors("Organization", org) == []
    # The validator is not vacuous: a 1.0 type, or a property OParl does not know, is refused.
    first = doc["data"][0]
    assert oparl_schema.errors("Meeting", {**first, "type": "https://schema.oparl.org/1.0/Meeting"})
    assert oparl_schema.errors("Meeting", {**first, "decisions": []})
    assert oparl_schema.errors("AgendaItem", {**first["agendaItem"][0], "public": "yes"})


async def test_oparl_meetings_say_what_the_gold_files_say(engine: AsyncEngine, filled: Filled) -> None:
    doc = json.loads(await export(engine, Format.oparl))
    by_file = {
        (m.get("resultsProtocol") or m.get("invitation"))["fileName"]: m for m in doc["data"]
    }
    assert set(by_file) == set(filled.documents)
    for want in gold():
        meeting = by_file[want["file"]]
        source = meeting.get("resultsProtocol") or meeting["invitation"]
        # The source file is downloadable from the read API, under its id.
        assert source["downloadUrl"] == f"{API}api/v1/documents/{filled.documents[want['file']]}/file"
        assert meeting["minutes:meetingDate"] == want["meeting_date"]
        if want["start_time"]:
            assert meeting["start"][11:16] == want["start_time"]
        items = meeting["agendaItem"]
        assert [int(i["number"]) for i in items] == [g["number"] for g in want["items"]]
        for item, g in zip(items, want["items"], strict=True):
            assert item["public"] is (not g["is_closed"])
            if g["outcome"] == ["none"]:
                assert "result" not in item and "resolutionText" not in item
            else:
                assert item["result"] in g["outcome"]
                if g["decision_contains"]:
                    assert g["decision_contains"].lower() in " ".join(item["resolutionText"].split()).lower()
            assert item.get("minutes:absent", []) == g["absent"]

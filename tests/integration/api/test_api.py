"""The read API over HTTP (uvicorn, real SQLite and PostgreSQL) on the seeds and the real corpus: filters,
keyset pages while decisions arrive, caps, errors without traces, health and readiness, downloads."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pyarrow.parquet as pq
import pytest

from services.store.db import create_engine
from services.store.repository import store_events
from shared.contracts.events import utcnow
from shared.contracts.meeting import AgendaItem
from shared.redis_server import free_port
from tests.integration.api.conftest import MAX_PAGE, Served, api_settings
from tests.integration.api.server import running_api
from tests.integration.store.corpus_store import RECEIVED_AT, StoredDoc, fill
from tests.unit.store.factories import header, meeting

pytestmark = pytest.mark.integration


def get(served: Served, path: str, **params: Any) -> httpx.Response:
    return httpx.get(served.base.rstrip("/") + path, params=params, timeout=30)


def walk(served: Served, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a list endpoint, following `next` links."""
    rows: list[dict[str, Any]] = []
    response = get(served, path, **params)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= body["limit"]
        rows += body["items"]
        if body["next"] is None:
            assert body["next_cursor"] is None
            return rows
        response = httpx.get(served.base.rstrip("/") + body["next"], timeout=30)


def decided(served: Served, pred: Any = lambda _d, _it: True) -> set[tuple[str, int]]:
    """(document_id, item number) of every decided corpus item the predicate selects, from the parses."""
    return {
        (d.received.document_id, it.number)
        for d in served.docs
        for it in d.meeting.items
        if it.decision is not None and pred(d, it)
    }


def keys(rows: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(r["document_id"], r["item_number"]) for r in rows]


def _no_trace(response: httpx.Response) -> None:
    assert "Traceback" not in response.text and 'File "' not in response.text
    assert len(response.text) < 400, response.text


def test_filters_select_exactly_the_matching_decisions(served: Served) -> None:
    def in_range(d: StoredDoc, _it: AgendaItem) -> bool:
        day = d.meeting.meeting_date
        return day is not None and dt.date(2022, 1, 1) <= day <= dt.date(2023, 12, 31)

    cases: list[tuple[dict[str, str], Any]] = [
        ({}, lambda _d, _it: True),
        ({"municipality": "aarhus"}, lambda d, _it: d.meeting.municipality == "Aarhus"),
        ({"committee": "udvalg"}, lambda d, _it: "udvalg" in (d.meeting.committee or "").lower()),
        ({"date_from": "2022-01-01", "date_to": "2023-12-31"}, in_range),
        ({"outcome": "noted"}, lambda _d, it: it.decision.outcome == "noted"),
        (
            {"outcome": "approved", "municipality": "Greve"},
            lambda d, it: d.meeting.municipality == "Greve" and it.decision.outcome == "approved",
        ),
        ({"kle": "15"}, lambda _d, it: (it.case_number or "").startswith("15.")),
    ]
    some_case = next(it.case_number for d in served.docs for it in d.meeting.items if it.decision and it.case_number)
    cases.append(({"case_number": some_case}, lambda _d, it: it.case_number == some_case))
    for params, pred in cases:
        want = decided(served, pred)
        assert want, f"{params}: the corpus has no such decision, the case tests nothing"
        got = keys(walk(served, "/api/v1/decisions", limit=MAX_PAGE, **params))
        assert len(got) == len(set(got)), f"{params}: a row came twice"
        assert set(got) == want, params


def test_full_text_search_finds_inflections_and_marks_them(served: Served) -> None:
    body = get(served, "/api/v1/decisions", q="fleksjobbet").json()
    assert body["items"], "fleksjobbet should find the seeds' fleksjob items (Danish stem)"
    for hit in body["items"]:
        text = f"{hit['item_title']} {hit['decision_text']} {hit['snippet']}".lower()
        assert "fleksjob" in text
        assert "<mark>" in hit["snippet"]
        assert hit["rank"] is not None
    bad = get(served, "/api/v1/decisions", q="-fleksjob")
    assert bad.status_code == 400 and bad.json()["error"].startswith("q: ")


async def test_pages_lose_and_repeat_nothing_while_decisions_arrive(served: Served) -> None:
    want = decided(served)
    seen: list[tuple[str, int]] = []
    client = httpx.AsyncClient(base_url=served.base.rstrip("/"), timeout=30)
    response = await client.get("/api/v1/decisions", params={"limit": 4})
    engine = create_engine(served.settings.effective_database_url)
    added = 0
    try:
        while True:
            body = response.json()
            seen += keys(body["items"])
            if body["next"] is None:
                break
            # New meetings, one dated before and one after everything stored, between two page requests.
            for day in (dt.date(1990, 1, 1) + dt.timedelta(days=added), dt.date(2090, 1, 1) + dt.timedelta(days=added)):
                parsed, items = meeting(f"arriving-{added}-{day.year}", 2, hdr=header(day=day))
                async with engine.begin() as conn:
                    await store_events(conn, [parsed, *items], now=utcnow(), public_base_url="minutes://items/")
            added += 1
            response = await client.get(body["next"])
    finally:
        await engine.dispose()
        await client.aclose()
    assert added >= 3, "too few pages to test arrivals between them"
    assert len(seen) == len(set(seen)), "a decision came twice"
    assert want <= set(seen), "a stored decision was lost"


def test_page_size_is_capped_and_bad_limits_refused(served: Served) -> None:
    capped = get(served, "/api/v1/decisions", limit=10_000).json()
    assert capped["limit"] == MAX_PAGE and len(capped["items"]) == MAX_PAGE
    default = get(served, "/api/v1/decisions").json()
    assert default["limit"] == 5 and len(default["items"]) == 5
    for bad in ("0", "-1", "many"):
        response = get(served, "/api/v1/decisions", limit=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"].startswith("limit:"), response.text
        _no_trace(response)


def test_request_size_is_capped_and_writes_refused(served: Served) -> None:
    long = get(served, "/api/v1/decisions", q="x" * (served.settings.api_max_request_bytes + 10))
    assert long.status_code == 414 and long.json()["status"] == 414
    url = served.base + "api/v1/decisions"
    head = httpx.head(url)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-type"] == "application/json"
    assert httpx.post(url, content=b"{}").status_code == 405
    assert httpx.delete(url).status_code == 405
    big = httpx.request("GET", url, content=b"x" * (served.settings.api_max_request_bytes + 1))
    assert big.status_code == 413


def test_errors_are_one_json_line_without_a_trace(served: Served) -> None:
    first = get(served, "/api/v1/decisions", limit=3).json()
    cursor = first["next_cursor"]
    assert cursor
    for params, status, needle in (
        ({"cursor": "not-a-cursor"}, 400, "cursor:"),
        ({"cursor": cursor[:-4] + ("AAAA" if not cursor.endswith("AAAA") else "BBBB")}, 400, "cursor:"),
        ({"cursor": cursor, "municipality": "Aarhus"}, 400, "cursor:"),  # another query's cursor
        ({"date_from": "2023-02-30"}, 400, "date_from: '2023-02-30' is not a date"),
        ({"date_to": "yesterday"}, 400, "date_to:"),
        ({"outcome": "won"}, 400, "outcome:"),
        ({"kle": "1.2"}, 400, "kle:"),
    ):
        response = get(served, "/api/v1/decisions", **params)
        assert response.status_code == status, (params, response.text)
        assert response.headers["content-type"] == "application/json"
        assert needle in response.json()["error"], (params, response.text)
        _no_trace(response)
    for path, status in (
        ("/api/v1/meetings/" + "0" * 64, 404),
        ("/api/v1/meetings/not-a-digest", 400),
        ("/api/v1/documents/" + "0" * 64, 404),
        ("/api/v1/cases/no-such-case", 404),
        ("/api/v1/nothing-here", 404),
    ):
        response = get(served, path)
        assert response.status_code == status, (path, response.text)
        assert response.json()["error"]
        _no_trace(response)


def test_meetings_list_meeting_and_case(served: Served) -> None:
    meetings = walk(served, "/api/v1/meetings", limit=3)
    stored = {d.received.document_id for d in served.docs}
    assert {m["document_id"] for m in meetings} == stored
    dates = [m["meeting_date"] for m in meetings if m["meeting_date"]]
    assert dates == sorted(dates, reverse=True)

    doc = max(served.docs, key=lambda d: len(d.meeting.items))
    detail = get(served, f"/api/v1/meetings/{doc.received.document_id}").json()
    assert [(i["number"], i["title"]) for i in detail["items"]] == [(i.number, i.title) for i in doc.meeting.items]
    assert detail["document"]["original_name"] == doc.path.name

    # A case number treated at more than one meeting, if the corpus has one; else any case number.
    by_case: dict[str, list[tuple[Any, str]]] = {}
    for d in served.docs:
        for it in d.meeting.items:
            if it.case_number:
                by_case.setdefault(it.case_number, []).append((d.meeting.meeting_date, d.received.document_id))
    case_number, treated = max(by_case.items(), key=lambda kv: len(kv[1]))
    case = get(served, "/api/v1/cases/" + case_number).json()
    assert case["case_number"] == case_number
    got = [(r["meeting_date"], r["item"]["document_id"]) for r in case["items"]]
    assert sorted(d for d, _ in got) == [d for d, _ in got], "oldest meeting first"
    assert {doc_id for _, doc_id in got} == {doc_id for _, doc_id in treated}


def test_document_provenance_and_download_of_the_original_bytes(served: Served) -> None:
    for index, doc in enumerate(served.docs):
        info = get(served, f"/api/v1/documents/{doc.received.document_id}").json()
        assert info["original_name"] == doc.path.name
        assert info["size"] == doc.path.stat().st_size
        assert dt.datetime.fromisoformat(info["received_at"]) == doc.received.received_at
        assert info["download_url"] == f"/api/v1/documents/{doc.received.document_id}/file"
        if index % 3:  # every third file is enough to download; the PDFs are the big ones
            continue
        response = get(served, info["download_url"])
        assert response.status_code == 200
        assert response.content == doc.path.read_bytes()
        msg = Message()
        msg["Content-Disposition"] = response.headers["content-disposition"]
        assert msg.get_content_disposition() == "attachment"
        star = response.headers["content-disposition"].split("filename*=UTF-8''", 1)[1]
        assert unquote(star) == doc.path.name
    assert min(d.received.received_at for d in served.docs) == RECEIVED_AT


async def test_download_keeps_a_danish_name_and_says_when_the_blob_is_gone(served: Served, tmp_path: Path) -> None:
    source = served.docs[0]
    data = source.path.read_bytes() + b"\n"  # other bytes: another document
    renamed = tmp_path / "Økonomiudvalget – referat 5. maj.txt"
    renamed.write_bytes(data)
    ref = served.blobs.put(data)
    received = source.received.model_copy(
        update={
            "document_id": hashlib.sha256(data).hexdigest(),
            "original_name": renamed.name,
            "blob_ref": ref,
            "size": len(data),
        }
    )
    meeting_ = source.meeting.model_copy(
        update={"header": source.meeting.header.model_copy(update={"meeting_date": dt.date(2001, 2, 3)})}
    )
    engine = create_engine(served.settings.effective_database_url)
    try:
        await fill(engine, (StoredDoc(renamed, received, meeting_),))
    finally:
        await engine.dispose()
    response = get(served, f"/api/v1/documents/{received.document_id}/file")
    assert response.status_code == 200 and response.content == data
    header_value = response.headers["content-disposition"]
    assert header_value.isascii()
    assert unquote(header_value.split("filename*=UTF-8''", 1)[1]) == renamed.name
    assert 'filename="Okonomiudvalget _ referat 5. maj.txt"' in header_value

    served.blobs.path_for(received.document_id).unlink()
    gone = get(served, f"/api/v1/documents/{received.document_id}/file")
    assert gone.status_code == 404 and "missing from the blob store" in gone.json()["error"]


def test_health_and_readiness(served: Served) -> None:
    assert get(served, "/healthz").json() == {"status": "ok", "detail": "alive"}
    ready = get(served, "/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    docs = get(served, "/docs")
    assert docs.status_code == 200 and 'id="swagger-ui"' in docs.text
    spec = get(served, "/openapi.json").json()
    assert {
        "/api/v1/decisions",
        "/api/v1/meetings/{document_id}",
        "/api/v1/documents/{document_id}/file",
        "/readyz",
    } <= set(spec["paths"])


def test_not_ready_while_the_database_is_unreachable_or_unmigrated(tmp_path: Path) -> None:
    unreachable = api_settings(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none", tmp_path / "a")
    with running_api(unreachable) as base:
        assert httpx.get(base + "healthz").status_code == 200  # alive all the same
        response = httpx.get(base + "readyz", timeout=30)
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "detail": "database unreachable"}
        listing = httpx.get(base + "api/v1/decisions", timeout=30)
        assert listing.status_code == 503 and "database is unavailable" in listing.json()["error"]
        _no_trace(listing)
    empty = tmp_path / "empty.db"
    with running_api(api_settings(f"sqlite+aiosqlite:///{empty}", tmp_path / "b")) as base:
        response = httpx.get(base + "readyz", timeout=30)
        assert response.status_code == 503
        assert "minutes migrate" in response.json()["detail"]


def test_exports_stream_every_row_in_each_format(served: Served) -> None:
    want = decided(served)
    aarhus = decided(served, lambda d, _it: d.meeting.municipality == "Aarhus")
    items = sum(len(d.meeting.items) for d in served.docs)
    lines = get(served, "/api/v1/exports/jsonl")
    assert lines.status_code == 200 and lines.headers["content-type"] == "application/x-ndjson"
    assert 'filename="minutes-decisions.jsonl"' in lines.headers["content-disposition"]
    parsed = [json.loads(line) for line in lines.text.splitlines()]
    assert len(parsed) == len(want) > MAX_PAGE  # no page cap on exports
    only = get(served, "/api/v1/exports/csv", municipality="Aarhus")
    assert len(list(csv.DictReader(io.StringIO(only.text)))) == len(aarhus)
    # ?excel=1: the same rows with a UTF-8 BOM and `;` (Danish Excel opens that by double-click).
    excel = get(served, "/api/v1/exports/csv", municipality="Aarhus", excel="1")
    assert excel.status_code == 200 and excel.content.startswith(b"\xef\xbb\xbfevent_id;")
    semicolon = csv.DictReader(io.StringIO(excel.content.decode("utf-8-sig"), newline=""), delimiter=";")
    assert list(semicolon) == list(csv.DictReader(io.StringIO(only.content.decode("utf-8"), newline="")))
    not_csv = get(served, "/api/v1/exports/jsonl", excel="true")
    assert not_csv.status_code == 400 and not_csv.json()["error"] == "excel: for csv, not jsonl"
    table = pq.read_table(io.BytesIO(get(served, "/api/v1/exports/parquet", rows="items").content))
    assert table.num_rows == items
    oparl = get(served, "/api/v1/exports/oparl")
    assert oparl.status_code == 200 and json.loads(oparl.text)
    bad = get(served, "/api/v1/exports/jsonl", q="-fleksjob")
    assert bad.status_code == 400 and bad.json()["error"].startswith("q: ")
    unknown = get(served, "/api/v1/exports/xlsx")
    assert unknown.status_code == 400 and "fmt" in unknown.json()["error"]


def test_web_pages_render_on_this_database(served: Served) -> None:
    page = get(served, "/", q="fleksjobbet")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<mark>" in page.text and 'lang="da"' in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]
    doc = max(served.docs, key=lambda d: len(d.meeting.items))
    meeting_page = get(served, f"/meetings/{doc.received.document_id}", lang="en")
    assert meeting_page.status_code == 200 and 'lang="en"' in meeting_page.text
    assert meeting_page.text.count('<li id="item-') == len(doc.meeting.items)
    case_number = next(it.case_number for it in doc.meeting.items if it.case_number)
    assert get(served, "/cases/" + case_number).status_code == 200
    bad = get(served, "/", date_from="2023-02-30")
    assert bad.status_code == 400 and "date_from: &#39;2023-02-30&#39; is not a date" in bad.text
    assert 'id="q"' in bad.text  # the form stays, to correct the field
    missing = get(served, "/meetings/" + "0" * 64)
    assert missing.status_code == 404 and "Traceback" not in missing.text


def test_blob_references_stay_inside(served: Served) -> None:
    doc = served.docs[0]
    doc_id = doc.received.document_id
    case_number = next(it.case_number for d in served.docs for it in d.meeting.items if it.case_number)
    for path in ("/api/v1/decisions", f"/api/v1/meetings/{doc_id}", f"/api/v1/documents/{doc_id}",
                 f"/api/v1/cases/{case_number}"):
        response = get(served, path)
        assert response.status_code == 200, path
        assert "blob_ref" not in response.text and str(served.blobs.root) not in response.text, path
    hit = get(served, "/api/v1/decisions").json()["items"][0]
    assert hit["provenance"]["blob_available"] is True  # the rest of the provenance is there


def test_the_api_docs_load_only_this_servers_files_with_their_recorded_hashes(served: Served) -> None:
    """/docs renders offline: every file it names is on this server, served with the hash VERSIONS.md records
    (and the integrity the page asks the browser to check), and its policy allows no other host."""
    import base64
    import re

    from services.api.web import STATIC

    docs = get(served, "/docs")
    assert docs.status_code == 200
    csp = docs.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "http" not in csp
    tags = re.findall(r"<(?:script|link)\b[^>]*>", docs.text)
    assert len(tags) == 3  # the stylesheet, the bundle and the starter
    versions = (STATIC / "VERSIONS.md").read_text(encoding="utf-8")
    recorded = 0
    for tag in tags:
        ref = re.search(r'(?:src|href)="([^"]+)"', tag)
        asked = re.search(r'integrity="(sha384-[^"]+)"', tag)
        assert ref and asked, tag
        assert ref.group(1).startswith("/static/")
        body = get(served, ref.group(1))
        assert body.status_code == 200
        assert "sha384-" + base64.b64encode(hashlib.sha384(body.content).digest()).decode() == asked.group(1)
        name = ref.group(1).removeprefix("/static/")
        if name.startswith("swagger-ui") and name != "swagger-ui-init.js":  # vendored: as recorded
            row = next(line for line in versions.splitlines() if line.startswith(f"| `{name}` |"))
            assert hashlib.sha256(body.content).hexdigest() in row and asked.group(1) in row
            recorded += 1
    assert recorded == 2
    spec = re.search(r'data-openapi="([^"]+)"', docs.text)
    assert spec and get(served, spec.group(1)).json()["info"]["title"] == "minutes read API"

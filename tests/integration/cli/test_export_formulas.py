"""`minutes export -f csv` as a real process (issue 22): formula cells start with `'`; `--raw` as stored."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from services.store.db import create_engine, migrate
from tests.integration.cli.helpers import run_cli
from tests.integration.store.corpus_store import StoredDoc, corpus, fill

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

SLOW = 240
FORMULA = '=HYPERLINK("http://example.invalid/","Klik")'


async def _fill(data: Path) -> None:
    url = f"sqlite+aiosqlite:///{data / 'minutes.db'}"
    await migrate(url)
    source = next(d for d in corpus() if d.meeting.decisions)
    items = tuple(
        item.model_copy(update={"decision": item.decision.model_copy(update={"text": FORMULA})})
        if item.decision is not None else item
        for item in source.meeting.items
    )
    engine = create_engine(url)
    try:
        meeting = source.meeting.model_copy(update={"items": items})
        await fill(engine, (StoredDoc(source.path, source.received, meeting),))
    finally:
        await engine.dispose()


def test_csv_export_neutralises_formulas_unless_raw(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    asyncio.run(_fill(data))
    texts: dict[bool, set[str]] = {}
    for raw in (False, True):
        args = ["export", "-f", "csv", "--data", str(data), *(["--raw"] if raw else [])]
        done = run_cli(args, tmp_path, timeout=SLOW)
        assert done.returncode == 0, done.stderr
        texts[raw] = {r["decision_text"] for r in csv.DictReader(io.StringIO(done.stdout, newline=""))}
    assert texts == {False: {"'" + FORMULA}, True: {FORMULA}}

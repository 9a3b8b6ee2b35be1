"""The small bad inputs of issue 22 on real processes (`minutes up`'s stack, SQLite): a FirstAgenda export with
values of the wrong type and one with a field of 50,000 nested `<div>` are dead-lettered at the first delivery
with a reason (never retried, never stored as a meeting); a file dropped under a Latin-1 name is stored under
its letters and downloads from the read API under that name (RFC 6266 / 8187)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from shared.contracts.events import DeadLettered
from tests.conftest import SEEDS
from tests.e2e.harness import make_stack, read_dead_letters, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

LATIN1_NAME = b"Referat_Byr\xe5d_\xe6\xf8_2024.txt"
READABLE_NAME = "Referat_Byråd_æø_2024.txt"


def _firstagenda(committee: Any, html: str) -> bytes:
    item = {"Punktnummer": "1", "Navn": "Godkendelse af dagsorden", "Felter": [{"Navn": "Beslutning", "Html": html}]}
    doc = {"Udvalg": committee, "Moede": {"Dato": "2024-03-01T16:00:00+01:00", "Sted": "Rådhuset"},
           "Dagsordenpunkter": [item]}
    return json.dumps(doc, ensure_ascii=False).encode()


WRONG_TYPES = _firstagenda("Økonomiudvalget", "<p>Godkendt.</p>")
DEEP = _firstagenda({"Navn": "Økonomiudvalget"}, "<div>" * 50_000 + "Godkendt." + "</div>" * 50_000)


def _drop(inbox: Path, name: bytes, data: bytes) -> str:
    """Write elsewhere, then move into the inbox under the name's bytes; the document id is the sha256."""
    staging = os.fsencode(inbox.parent / "staging")
    os.makedirs(staging, exist_ok=True)
    with open(staging + b"/" + name, "wb") as handle:
        handle.write(data)
    os.rename(staging + b"/" + name, os.fsencode(inbox) + b"/" + name)
    return hashlib.sha256(data).hexdigest()


def _meetings(db: Path, document_id: str) -> int:
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        try:
            row = conn.execute("SELECT count(*) FROM meetings WHERE document_id = ?", (document_id,)).fetchone()
        except sqlite3.OperationalError:  # not migrated yet
            return 0
        return int(row[0])


def test_bad_native_input_is_refused_once_and_a_latin1_name_survives_download(tmp_path: Path) -> None:
    db = tmp_path / "minutes.db"
    stack = make_stack(tmp_path, f"sqlite+aiosqlite:///{db}", api=True)
    url = stack.start()
    try:
        base = stack.wait_api(120)
        assert base, "the API did not start"
        base = base.rstrip("/") + "/"
        wait_for(stack.ingest_ready.is_set, 60, "ingest watching")
        inbox = stack.settings.inbox
        wrong_id = _drop(inbox, b"forkert-type.json", WRONG_TYPES)
        deep_id = _drop(inbox, b"dyb.json", DEEP)
        seed = sorted(SEEDS.glob("*.txt"))[0].read_bytes()
        named_id = _drop(inbox, LATIN1_NAME, seed)

        def refused() -> dict[str, DeadLettered]:
            return {d.document_id: d for d in read_dead_letters(url) if d.document_id in (wrong_id, deep_id)}

        wait_for(lambda: len(refused()) == 2, 120, "both bad exports dead-lettered")
        letters = refused()
        for letter in letters.values():
            assert letter.service == "parser"
            assert letter.attempts == 1 and letter.retryable is False  # bad input: never retried
        assert letters[wrong_id].error.startswith(
            "FirstAgenda JSON with values of the wrong type: Udvalg is a text ('Økonomiudvalget'), expected an object"
        ), letters[wrong_id].error
        assert letters[deep_id].error == (
            "the field 'Beslutning' nests its elements more than 512 levels deep: not a meeting document"
        )

        # The Latin-1 name: stored under its letters, downloaded under them.
        wait_for(lambda: _meetings(db, named_id) == 1, 120, "the Latin-1 named file stored")
        info = httpx.get(base + f"api/v1/documents/{named_id}", timeout=30).json()
        assert info["original_name"] == READABLE_NAME
        download = httpx.get(base + info["download_url"].lstrip("/"), timeout=30)
        assert download.status_code == 200 and download.content == seed
        header = download.headers["content-disposition"]
        assert header.isascii()
        assert unquote(header.split("filename*=UTF-8''", 1)[1], errors="strict") == READABLE_NAME
        msg = Message()
        msg["Content-Disposition"] = header
        assert msg.get_param("filename", header="content-disposition") == "Referat_Byrad_aeo_2024.txt"

        # Nothing of the refused exports was stored, and their refusals were never re-delivered meanwhile.
        assert _meetings(db, wrong_id) == 0 and _meetings(db, deep_id) == 0
        assert sorted(d.document_id for d in read_dead_letters(url) if d.document_id in (wrong_id, deep_id)) == sorted(
            [wrong_id, deep_id]
        )
    finally:
        stack.stop()

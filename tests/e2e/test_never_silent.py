"""Never silent, on real processes: a layout no rule knows is dead-lettered with its reason and nothing is stored
or announced for it; a parse that carries a warning shows it through the read API and on the meeting's page."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from shared.contracts.events import DeadLettered, DecisionMade
from tests.e2e.harness import make_stack, read_dead_letters, read_events, wait_for
from tests.integration.cli.helpers import run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

# Minutes of a layout no profile knows: a full meeting header, then only prose — no numbered item at all.
PROSE = """Referat

Udvalget for Natur og Fritid
Mødedato: 12. marts 2024
Mødetidspunkt: 16:00
Mødested: Mødelokale 2, Rådhuset

Deltagere: Anne Jensen, Bo Hansen, Carl Nielsen

Mødet blev indledt med en længere drøftelse af kommunens arbejde med stier og naturområder.
Udvalget var enigt om, at arbejdet skal fortsætte, og at forvaltningen vender tilbage efter sommerferien.
Der var derudover en kort orientering om status på de igangværende projekter i området.
""".encode()

# Minutes whose items carry a case presentation and a recommendation but no decision: stored, with a warning.
UNDECIDED = """Referat

Udvalget for Natur og Fritid
Mødedato: 14. marts 2024
Mødetidspunkt: 16:00
Mødested: Mødelokale 2, Rådhuset

Punkt 1: Orientering om stier i naturområderne
Sagsnummer: 24/1234

Sagsfremstilling
Forvaltningen orienterer om arbejdet med stier i kommunens naturområder og om de næste skridt.

Indstilling
Forvaltningen indstiller, at orienteringen tages til efterretning.

Punkt 2: Status på idrætsfaciliteter
Sagsnummer: 24/1235

Sagsfremstilling
Der gives en status på renoveringen af kommunens idrætshaller og de planlagte arbejder i år.

Indstilling
Forvaltningen indstiller, at status tages til efterretning.
""".encode()


def _drop(inbox: Path, name: str, data: bytes) -> str:
    """Write elsewhere, then move into the inbox (as a user would); the document id is the bytes' sha256."""
    staging = inbox.parent / "staging"
    staging.mkdir(exist_ok=True)
    (staging / name).write_bytes(data)
    (staging / name).rename(inbox / name)
    return hashlib.sha256(data).hexdigest()


def _rows(db: Path, table: str, document_id: str) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table} WHERE document_id = ?", (document_id,)).fetchone()[0])


def test_an_unknown_layout_is_dead_lettered_and_a_warning_reaches_the_api(tmp_path: Path) -> None:
    db = tmp_path / "minutes.db"
    stack = make_stack(tmp_path, f"sqlite+aiosqlite:///{db}", api=True)
    url = stack.start()
    try:
        base = stack.wait_api(120)
        assert base, "the API did not start"
        base = base.rstrip("/") + "/"
        wait_for(stack.ingest_ready.is_set, 60, "ingest watching")
        inbox = stack.settings.inbox
        prose_id = _drop(inbox, "natur-og-fritid-referat.txt", PROSE)
        undecided_id = _drop(inbox, "natur-og-fritid-uden-beslutninger.txt", UNDECIDED)

        # (a) The refusal is the event to await: once it is dead-lettered, nothing else happens to the document.
        def refused() -> list[DeadLettered]:
            return [d for d in read_dead_letters(url) if d.document_id == prose_id]

        wait_for(lambda: bool(refused()), 90, "the unknown layout dead-lettered")
        [letter] = refused()
        assert letter.service == "parser" and letter.original_name == "natur-og-fritid-referat.txt"
        assert letter.error.startswith("layout not recognised: minutes with a header ("), letter.error
        assert "but no agenda item found" in letter.error
        assert letter.retryable is False  # bad input: retrying the same bytes cannot succeed
        assert _rows(db, "meetings", prose_id) == 0 and _rows(db, "agenda_items", prose_id) == 0
        assert httpx.get(base + f"api/v1/meetings/{prose_id}", timeout=10).status_code == 404
        assert not [e for e in read_events(url) if isinstance(e, DecisionMade) and e.document_id == prose_id]

        # `minutes dlq list` shows the reason; `dlq retry --all` leaves bad input where it is.
        listed = run_cli(["dlq", "list", "--json"], tmp_path, MINUTES_REDIS_URL=url)
        entries = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
        assert [e["error"] for e in entries if e["document_id"] == prose_id] == [letter.error]
        table = run_cli(["dlq", "list"], tmp_path, MINUTES_REDIS_URL=url, COLUMNS="400")
        assert "layout not recognised: minutes with a header" in table.stdout
        retried = run_cli(["dlq", "retry", "--all"], tmp_path, MINUTES_REDIS_URL=url)
        assert "re-queued 0" in retried.stderr and "bad input" in retried.stderr, retried.stderr
        assert [d.error for d in refused()] == [letter.error]
        # The web page lists the refusal with its file and reason (no meeting page exists for it).
        listing = httpx.get(base + "rejected", timeout=10).text
        assert "Afviste dokumenter" in listing and "natur-og-fritid-referat.txt" in listing
        assert "layout not recognised: minutes with a header" in listing

        # (b) The minutes without any decision are stored whole, with the parser's warning beside them.
        def meeting() -> dict[str, object] | None:
            answer = httpx.get(base + f"api/v1/meetings/{undecided_id}", timeout=10)
            body: dict[str, object] | None = answer.json() if answer.status_code == 200 else None
            return body if body and body.get("complete") else None

        wait_for(lambda: meeting() is not None, 90, "the undecided minutes stored")
        stored = meeting()
        assert stored is not None
        assert stored["warnings"] == ["minutes without any decision"]
        assert [item["number"] for item in cast(list[dict[str, Any]], stored["items"])] == [1, 2]
        page = httpx.get(base + f"meetings/{undecided_id}", timeout=10).text
        assert "Forbehold ved indlæsningen" in page and "minutes without any decision" in page
        english = httpx.get(base + f"meetings/{undecided_id}", params={"lang": "en"}, timeout=10).text
        assert "Parser warnings" in english
    finally:
        codes = stack.stop()
    assert all(code == 0 for code in codes.values()), (codes, stack.log_lines[-40:])  # type: ignore[attr-defined]

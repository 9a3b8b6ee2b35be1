"""Following a portal on real processes (`minutes up`): the stand-in portal serves the real Greve responses;
ingest polls it, the parser and the store do the rest, and the public stream says what a subscriber hears."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.parser.core import parse_document
from shared.contracts.events import DeadLettered, DecisionMade, DecisionRevised
from tests.e2e.harness import make_stack, read_dead_letters, read_events, wait_for
from tests.integration.cli.helpers import run_cli
from tests.integration.sources.portal import (
    BILAG_PATH,
    Meeting,
    as_agenda,
    changed,
    greve_meetings,
    serve,
    with_decision,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]


def _decided(meeting: Meeting) -> int:
    """Items of a meeting that record a decision, as the parser reads it (the store announces each)."""
    return sum(1 for item in parse_document(meeting.body).items if item.decision is not None)


def _items(meeting: Meeting) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(meeting.body)["Dagsordenpunkter"]
    return items


def _doc(meeting: Meeting) -> str:
    return hashlib.sha256(meeting.body).hexdigest()


def _query(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return list(conn.execute(sql, args).fetchall())


def _complete(db: Path, document_ids: list[str]) -> bool:
    marks = ",".join("?" * len(document_ids))
    rows = _query(db, f"SELECT count(*) FROM meetings WHERE complete AND document_id IN ({marks})", *document_ids)
    return rows[0][0] == len(document_ids)


def _cli(tmp: Path, db: Path, data: Path, *args: str) -> Any:
    done = run_cli([*args, "--data", str(data)], tmp, timeout=240, MINUTES_DATABASE_URL=f"sqlite+aiosqlite:///{db}",
                   MINUTES_ALLOW_PRIVATE_URLS="true", MINUTES_SOURCES_MIN_INTERVAL_S="0")
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _made(url: str, document_id: str) -> list[DecisionMade]:
    return [e for e in read_events(url) if isinstance(e, DecisionMade) and e.document_id == document_id]


def test_follow_a_portal(tmp_path: Path) -> None:
    meetings = sorted(greve_meetings(), key=lambda m: m.entry["Dato"])
    held_new, held_minutes = meetings.pop(), meetings.pop()  # listed later: a new meeting; minutes after an agenda
    revised = meetings[5]
    db = tmp_path / "minutes.db"
    stack = make_stack(tmp_path, f"sqlite+aiosqlite:///{db}", api=True, MINUTES_ALLOW_PRIVATE_URLS="true",
                       MINUTES_SOURCES_MIN_INTERVAL_S="0", MINUTES_SOURCES_POLL_S="900")
    data = stack.settings.data_dir
    with serve(meetings) as portal:
        url = stack.start()
        try:
            wait_for(stack.ingest_ready.is_set, 60, "ingest watching")
            _cli(tmp_path, db, data, "sources", "add", "firstagenda", portal.url, "--name", "greve",
                 "--municipality", "Greve")
            # (1) Ingest's own loop polls a new source at once: every listed meeting stored, every decision announced.
            ids = [_doc(m) for m in meetings]
            wait_for(lambda: _complete(db, ids), 240, "the 38 listed meetings stored")
            expected = sum(_decided(m) for m in meetings)
            wait_for(lambda: len(read_events(url)) >= expected, 60, "their decisions announced")
            events = read_events(url)
            assert len(events) == expected and all(isinstance(e, DecisionMade) for e in events)
            assert len({e.event_id for e in events}) == expected
            assert sorted(portal.meeting_requests()) == sorted(m.id for m in meetings)
            listed = json.loads(_cli(tmp_path, db, data, "sources", "list", "--json").stdout)
            assert (listed["name"], listed["meetings_seen"], listed["error"]) == ("greve", 38, None)
            # Provenance: every decision links back to its meeting on the portal, live and stored alike.
            page_of = {_doc(m): f"{portal.url}/api/agenda/dagsorden/{m.id}" for m in meetings}
            assert all(e.source_url == page_of[e.document_id] for e in events)
            stored = [json.loads(line) for line in _cli(
                tmp_path, db, data, "decisions", "--municipality", "Greve", "--json"
            ).stdout.splitlines()]
            assert len(stored) == expected
            assert all(row["source_url"] == page_of[row["document_id"]] for row in stored)
            exported = [json.loads(line) for line in _cli(
                tmp_path, db, data, "export", "--format", "jsonl", "--municipality", "Greve"
            ).stdout.splitlines()]
            assert len(exported) == expected
            assert all(row["portal_url"] == page_of[row["document_id"]] for row in exported)
            api = stack.wait_api(120)
            assert api, "the API did not start"
            one = httpx.get(api.rstrip("/") + f"/api/v1/meetings/{ids[0]}", timeout=30).json()
            assert one["document"]["source_url"] == page_of[ids[0]], one["document"]
            page = httpx.get(api.rstrip("/") + f"/meetings/{ids[0]}", timeout=30).text
            assert f'href="{page_of[ids[0]]}"' in page
            # Attachments keep their links: every `Bilag` of a meeting (ids read from the portal's answer) links
            # to the portal's /Vis/Pdf/bilag/{id} in the API, none was downloaded, and the link answers.
            with_bilag = next(m for m in meetings if any(i.get("Bilag") for i in _items(m)))
            bilag_urls = sorted(
                f"{portal.url}{BILAG_PATH}{b['Id']}" for i in _items(with_bilag) for b in i.get("Bilag") or []
            )
            detail = httpx.get(api.rstrip("/") + f"/api/v1/meetings/{_doc(with_bilag)}", timeout=30).json()
            assert sorted(a["url"] for item in detail["items"] for a in item["attachment_refs"]) == bilag_urls
            assert not [path for path in portal.requests if path.startswith(BILAG_PATH)]
            answer = httpx.get(bilag_urls[0], timeout=30)
            assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"

            # (2) A new meeting in the list: the next poll fetches it and nothing else.
            portal.add(held_new)
            before = len(portal.requests)
            _cli(tmp_path, db, data, "sources", "poll", "greve")
            assert portal.meeting_requests()[-1] == held_new.id and len(portal.requests) == before + 2
            wait_for(lambda: len(_made(url, _doc(held_new))) == _decided(held_new), 60, "the new meeting's decisions")

            # (3) An agenda first (its own id, not held yet), then its minutes under another id: two versions of
            # one meeting; the agenda announces nothing, the minutes their decisions.
            agenda = as_agenda(held_minutes, "0a0a0a0a-1111-2222-3333-444444444444")
            assert parse_document(agenda.body).kind == "agenda"
            portal.add(agenda)
            _cli(tmp_path, db, data, "sources", "poll", "greve")
            wait_for(lambda: _complete(db, [_doc(agenda)]), 60, "the agenda stored")
            assert _query(db, "SELECT count(*) FROM outbox WHERE payload LIKE ?", f'%{_doc(agenda)}%') == [(0,)]
            portal.add(held_minutes)
            _cli(tmp_path, db, data, "sources", "poll", "greve")
            wait_for(lambda: len(_made(url, _doc(held_minutes))) == _decided(held_minutes), 60, "minutes' decisions")
            [(agenda_key, superseded)] = _query(
                db, "SELECT meeting_key, superseded_by FROM meetings WHERE document_id = ?", _doc(agenda)
            )
            [(minutes_key,)] = _query(db, "SELECT meeting_key FROM meetings WHERE document_id = ?", _doc(held_minutes))
            assert agenda_key == minutes_key and superseded == _doc(held_minutes)
            assert not _made(url, _doc(agenda))

            # (4) A re-released meeting with one decision changed: exactly one DecisionRevised, nothing else.
            index, text = next(
                (n, item.decision.text) for n, item in enumerate(parse_document(revised.body).items)
                if item.decision is not None and len(item.decision.text.split()) >= 3
            )
            word = text.split()[1]
            rereleased = with_decision(revised, index, word, word + " ikke", "2026-01-05T09:00:00+01:00")
            count = len(read_events(url))
            portal.add(rereleased)
            _cli(tmp_path, db, data, "sources", "poll", "greve")
            wait_for(lambda: len(read_events(url)) > count, 60, "the revision announced")
            wait_for(lambda: _complete(db, [_doc(rereleased)]), 60, "the re-release stored")
            new = read_events(url)[count:]
            assert [type(e) for e in new] == [DecisionRevised], new
            assert new[0].document_id == _doc(rereleased) and new[0].previous_document_id == _doc(revised)

            # (5) A meeting in the portal's shape that the parser refuses is dead-lettered like a bad file,
            # and the source itself is not in error (the portal answered what it had).
            shell = changed(revised, new_id="0b0b0b0b-1111-2222-3333-444444444444")
            empty = Meeting(shell.id, shell.committee, shell.entry,
                            json.dumps({**json.loads(shell.body), "Dagsordenpunkter": []}).encode())
            portal.add(empty)
            _cli(tmp_path, db, data, "sources", "poll", "greve")

            def refused() -> list[DeadLettered]:
                return [d for d in read_dead_letters(url) if d.document_id == _doc(empty)]

            wait_for(lambda: bool(refused()), 60, "the refused meeting dead-lettered")
            assert refused()[0].service == "parser" and "no agenda item" in refused()[0].error
            listed = json.loads(_cli(tmp_path, db, data, "sources", "list", "--json").stdout)
            assert listed["error"] is None and listed["meetings_seen"] == 42
        finally:
            stack.stop()


def test_kill_9_in_the_middle_of_a_backfill_stores_and_announces_each_meeting_once(tmp_path: Path) -> None:
    meetings = greve_meetings()
    db = tmp_path / "minutes.db"
    stack = make_stack(tmp_path, f"sqlite+aiosqlite:///{db}", MINUTES_ALLOW_PRIVATE_URLS="true",
                       MINUTES_SOURCES_MIN_INTERVAL_S="0.3", MINUTES_SOURCES_POLL_S="900")
    with serve(meetings) as portal:
        url = stack.start()
        try:
            wait_for(stack.ingest_ready.is_set, 60, "ingest watching")
            _cli(tmp_path, db, stack.settings.data_dir, "sources", "add", "firstagenda", portal.url, "--name", "greve")

            def seen() -> int:
                return int(_query(db, "SELECT count(*) FROM source_meetings")[0][0])

            wait_for(lambda: seen() >= 10, 120, "ten meetings fetched")
            first_pid = stack.pid("ingest")
            stack.kill("ingest")  # SIGKILL: no clean-up, the lease stays behind
            wait_for(lambda: stack.pid("ingest") not in (None, first_pid), 60, "ingest restarted")
            ids = [_doc(m) for m in meetings]
            wait_for(lambda: _complete(db, ids), 240, "all 40 meetings stored")
            expected = sum(_decided(m) for m in meetings)
            wait_for(lambda: len(read_events(url)) >= expected, 60, "every decision announced")
            events = read_events(url)
            assert len(events) == expected == len({e.event_id for e in events})
            assert _query(db, "SELECT count(*) FROM documents") == [(40,)]
            assert seen() == 40
            # Fetched once each; the one in flight when ingest was killed may have been fetched twice.
            counts = [portal.fetched(m.id) for m in meetings]
            assert all(c >= 1 for c in counts) and sum(counts) <= 41, counts
        finally:
            stack.stop()

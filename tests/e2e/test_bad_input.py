"""Bad input dropped together with the seeds: the seeds are fully processed, every bad file is accounted for."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from shared.contracts.events import DecisionMade, DecisionRevised
from tests.e2e.bad_inputs import PNG, make_corpus, write_corpus
from tests.e2e.harness import drop_seeds, expected_decisions, make_stack, read_dead_letters, read_events, wait_for

pytestmark = pytest.mark.e2e


def _decided_per_seed() -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, _number in expected_decisions():
        counts[name] = counts.get(name, 0) + 1
    return counts


SEEDS_DECIDED = _decided_per_seed()


def _complete_meetings(db: Path) -> int:
    if not db.exists():
        return 0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM meetings WHERE complete").fetchone()[0])
        except sqlite3.OperationalError:  # not migrated yet
            return 0


def _outbox_rows(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


def _outbox_unsent(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])


def test_bad_files_are_rejected_with_reasons_and_good_ones_processed(tmp_path: Path) -> None:
    corpus = make_corpus(max_file_mb=1)
    stack = make_stack(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}",
        parsers=2,
        MINUTES_MAX_FILE_MB="1",
        MINUTES_MOVE_REJECTED="true",
    )
    url = stack.start()
    inbox = stack.settings.inbox
    try:
        link = write_corpus(corpus, inbox)
        drop_seeds(inbox)
        # Every good file is a version of a seed's meeting (other bytes, the same meeting): each is stored
        # whole, and each seed item is announced once as DecisionMade, whichever version came first;
        # versions repeating a decision announce nothing (spacing aside), others a DecisionRevised.
        db = tmp_path / "minutes.db"
        meetings = len(SEEDS_DECIDED) + len(corpus.good_seed_of)
        try:
            wait_for(lambda: _complete_meetings(db) == meetings, 180, f"{meetings} complete meetings")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {_complete_meetings(db)} complete") from None
        wait_for(lambda: len(read_events(url)) == _outbox_rows(db), 60, "the outbox relayed")
        want = sum(SEEDS_DECIDED.values())

        def moved() -> set[str]:
            # With MOVE_REJECTED every rejection, the parser's as well as ingest's, ends in rejected/.
            return {p.name for p in (inbox / "rejected").glob("*") if not p.name.endswith(".reason.txt")}

        wait_for(lambda: moved() >= corpus.rejected | {link.name}, 60, "every bad file moved to rejected/")
        assert {p.name for p in inbox.iterdir() if p.is_file() or p.is_symlink()} & corpus.rejected == set()
        # Every row marked sent: the relay has nothing left that it could publish (again) later.
        wait_for(lambda: _outbox_unsent(db) == 0, 60, "every outbox row marked sent")
        events = read_events(url)
        assert len({e.event_id for e in events}) == len(events)
        made = Counter((e.municipality, e.item_number) for e in events if isinstance(e, DecisionMade))
        assert sum(made.values()) == want and set(made.values()) == {1}, made
        # A revision revises an item announced before, of the same meeting.
        announced = {e.event_id: e for e in events}
        for e in events:
            if isinstance(e, DecisionRevised):
                assert (announced[e.revises_event_id].municipality, announced[e.revises_event_id].item_number) == (
                    e.municipality, e.item_number)
        dead = read_dead_letters(url)
        # Nothing good was dead-lettered, and every rejection says why.
        assert not {d.original_name for d in dead} & set(corpus.good_seed_of)
        assert all(d.error.strip() for d in dead)
        reasons = {d.original_name: d.error.casefold() for d in dead}
        assert "text layer" in reasons.get("scan-without-text.pdf", "text layer")
        for name in moved():
            assert (inbox / "rejected" / f"{name}.reason.txt").read_text(encoding="utf-8").strip()
        # The file outside the inbox was never read: its bytes are not a document.
        assert not any(json.loads(d.payload).get("path", "").endswith("outside-secret.txt") for d in dead
                       if d.payload.startswith("{"))
    finally:
        stack.stop()


def test_a_png_the_parser_rejects_ends_in_rejected_with_its_reason(tmp_path: Path) -> None:
    stack = make_stack(
        tmp_path,
        f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}",
        MINUTES_MOVE_REJECTED="true",
        MINUTES_MOVE_PROCESSED="true",
    )
    url = stack.start()
    inbox = stack.settings.inbox
    try:
        wait_for(stack.ingest_ready.is_set, 60, "ingest watching")
        (tmp_path / "photo.png").write_bytes(PNG)
        (tmp_path / "photo.png").rename(inbox / "photo.png")
        seed = drop_seeds(inbox)[0]
        rejected = inbox / "rejected"
        wait_for(lambda: (rejected / "photo.png.reason.txt").exists(), 60, "photo.png in rejected/")
        assert (rejected / "photo.png").read_bytes() == PNG
        reason = (rejected / "photo.png.reason.txt").read_text(encoding="utf-8")
        [letter] = [d for d in read_dead_letters(url) if d.original_name == "photo.png"]
        assert letter.service == "parser" and letter.error in reason
        assert not (inbox / "photo.png").exists()
        assert not (inbox / "processed" / "photo.png").exists()
        wait_for(lambda: (inbox / "processed" / seed.name).exists(), 60, "the good seed in processed/")
    finally:
        stack.stop()

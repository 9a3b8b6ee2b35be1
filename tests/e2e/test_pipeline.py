"""End-to-end: the real pipeline as processes (own redis-server, SQLite or PostgreSQL), seeds in, decisions out."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from pathlib import Path

import pytest
import redis

from minutes_cli.decisions_cmd import stored_decisions
from services.readmodel.filter import ReadFilter
from services.store.db import create_engine
from shared import streams
from shared.contracts.events import DecisionRevised
from shared.contracts.meeting import Outcome
from shared.settings import Settings
from tests.conftest import SEEDS
from tests.e2e.harness import (
    drop_seeds,
    expected_decisions,
    gold_item_count,
    make_stack,
    read_decisions,
    read_events,
    wait_for,
)
from tests.unit.store.dump import totals

pytestmark = pytest.mark.e2e


async def _counts(database_url: str) -> tuple[int, int]:
    engine = create_engine(database_url)
    try:
        stored = await totals(engine)
        return stored.meetings, stored.items
    finally:
        await engine.dispose()


async def _unsent(database_url: str) -> int:
    """Events the store committed but its outbox relay has not published yet."""
    from sqlalchemy import text

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL"))).scalar_one())
    finally:
        await engine.dispose()


def _stored(database_url: str, flt: ReadFilter) -> int:
    settings = Settings(database_url=database_url)
    return len(asyncio.run(stored_decisions(settings, flt, limit=1000)))


def _documents_published(url: str) -> int:
    """How many DocumentReceived ingest has put on the documents stream (never trimmed)."""
    client = redis.Redis.from_url(url)
    try:
        return int(client.xlen(streams.DOCUMENTS))
    finally:
        client.close()


CORRECTION = "Anbefales med præcisering af økonomien."


def _replace_with_correction(inbox: Path) -> int:
    """Overwrite the Lemvig seed in the inbox with a corrected version; returns its item count."""
    seed = next(p for p in SEEDS.glob("*.txt") if b"Lemvig" in p.read_bytes())
    text = seed.read_text(encoding="utf-8")
    assert text.count("\nAnbefales.\n") >= 1
    staging = inbox.parent / "staging" / seed.name
    staging.write_text(text.replace("\nAnbefales.\n", f"\n{CORRECTION}\n", 1), encoding="utf-8")
    staging.replace(inbox / seed.name)
    return gold_item_count(seed.name)


def _check_run(tmp_path: Path, database_url: str, parsers: int, stores: int) -> None:
    expected = expected_decisions()
    assert len(expected) == 28  # the gold itself: 28 decided items in 5 documents
    stack = make_stack(tmp_path, database_url, parsers=parsers, stores=stores)
    url = stack.start()
    try:
        drop_seeds(stack.settings.inbox)
        wait_for(lambda: len(read_decisions(url)) >= len(expected), 90, "28 decision events")
        # Exactly 28 here; that nothing extra came later is checked after the sentinel below.
        events = read_decisions(url)
        assert len(events) == len(expected)
        assert len({e.event_id for e in events}) == len(events)
        by_doc = Counter(e.document_id for e in events)
        assert len(by_doc) == 5
        assert asyncio.run(_counts(database_url)) == (5, gold_item_count())
        # Each event is one the gold implies: the right (document, item) with an outcome the gold allows.
        names = {hashlib.sha256(p.read_bytes()).hexdigest(): p.name for p in SEEDS.glob("*.txt")}
        got = {(names[e.document_id], e.item_number): e.outcome.value for e in events}
        assert set(got) == set(expected)
        wrong = {key: (value, expected[key]) for key, value in got.items() if value not in expected[key]}
        assert not wrong

        # `minutes decisions` filters, checked against the gold: Lemvig's 10 decisions, 2 "discussed" in all.
        assert _stored(database_url, ReadFilter(municipality="lemvig")) == 10
        assert _stored(database_url, ReadFilter(outcome=Outcome.DISCUSSED)) == sum(
            1 for outcomes in expected.values() if outcomes == {"discussed"}
        )
        assert _stored(database_url, ReadFilter(match="BESLUTNINGSPROTOKOL")) == 1

        # Dropping the same bytes again, under the same and under new names, adds and emits nothing. No sleep
        # stands for "nothing more came": the corrected Lemvig file below, dropped after the copies, is the
        # sentinel. Ingest takes files in the order they complete, so a copy it wrongly published would be on
        # the documents stream before the correction; once the correction is stored, that stream holds exactly
        # one more document and the public stream exactly one more event (the revision), whatever the load.
        published = _documents_published(url)
        assert published == 5
        drop_seeds(stack.settings.inbox, suffix="")
        drop_seeds(stack.settings.inbox, suffix=" copy")

        # A corrected version of Lemvig's minutes replaces the file: a new document, and the one decision it
        # changed is announced as a revision of the first — nothing for the nine it repeats — while stored
        # queries show one version of the meeting (the corrected one).
        before = {e.item_id: e for e in read_decisions(url)}
        lemvig = _replace_with_correction(stack.settings.inbox)
        wait_for(lambda: len(read_events(url)) > len(expected), 60, "the corrected version's revision")
        wait_for(lambda: asyncio.run(_counts(database_url))[0] == 6, 30, "the corrected version stored")
        assert _documents_published(url) == published + 1  # the correction; none of the ten copies
        # Every event the correction's transaction wrote (the revision, and any it should not have) is out.
        wait_for(lambda: asyncio.run(_unsent(database_url)) == 0, 30, "the outbox relayed")
        all_events = read_events(url)
        assert len({e.event_id for e in all_events}) == len(all_events)
        assert [e.document_id for e in all_events[: len(expected)]] == [e.document_id for e in events]
        (revision,) = all_events[len(expected):]
        assert isinstance(revision, DecisionRevised)
        assert (revision.previous_text, revision.decision_text) == ("Anbefales.", CORRECTION)
        replaced = before[revision.previous_item_id]
        assert (revision.revises_event_id, replaced.municipality, replaced.item_number) == (
            replaced.event_id, "Lemvig", revision.item_number,
        )
        assert [(c.op, c.old, c.new) for c in revision.diff] == [("replace", "Anbefales.", CORRECTION)]
        wait_for(lambda: _stored(database_url, ReadFilter(match=CORRECTION)) == 1, 30, "the correction stored")
        assert _stored(database_url, ReadFilter(municipality="lemvig")) == 10
        assert _stored(database_url, ReadFilter(municipality="lemvig", all_versions=True)) == 20
        assert _stored(database_url, ReadFilter()) == len(expected)
        assert asyncio.run(_counts(database_url)) == (6, gold_item_count() + lemvig)
    finally:
        codes = stack.stop()
    assert all(code == 0 for code in codes.values()), (codes, stack.log_lines[-40:])  # type: ignore[attr-defined]


def test_seeds_give_the_gold_decisions_once(tmp_path: Path, database_url: str) -> None:
    """5 seed documents -> 28 DecisionMade events, 5 meetings, 33 items; a re-drop changes nothing."""
    _check_run(tmp_path, database_url, parsers=1, stores=1)


def test_two_parsers_and_two_stores(tmp_path: Path, database_url: str) -> None:
    """The same with 2 parser workers and 2 store workers consuming at once."""
    _check_run(tmp_path, database_url, parsers=2, stores=2)

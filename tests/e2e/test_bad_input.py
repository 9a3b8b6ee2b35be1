"""Bad input dropped together with the seeds: the seeds are fully processed, every bad file is accounted for."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import redis

from shared import streams
from shared.contracts.events import DeadLettered
from tests.e2e.bad_inputs import make_corpus, write_corpus
from tests.e2e.harness import drop_seeds, expected_decisions, make_stack, read_decisions, wait_for

pytestmark = pytest.mark.e2e


def _dead_letters(url: str) -> list[DeadLettered]:
    client = redis.Redis.from_url(url)
    try:
        rows = client.xrange(streams.DEAD_LETTER)
    finally:
        client.close()
    return [DeadLettered.model_validate_json(fields[b"json"]) for _id, fields in rows]


def _decided_per_seed() -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, _number in expected_decisions():
        counts[name] = counts.get(name, 0) + 1
    return counts


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
        per_seed = _decided_per_seed()
        want = sum(per_seed.values()) + sum(per_seed.get(seed, 0) for seed in corpus.good_seed_of.values())
        wait_for(lambda: len(read_decisions(url)) >= want, 120, f"{want} decisions")

        def accounted() -> set[str]:
            dead = {d.original_name for d in _dead_letters(url)}
            moved = {p.name for p in (inbox / "rejected").glob("*") if not p.name.endswith(".reason.txt")}
            return {n for n in corpus.rejected | {link.name} if n in dead or n in moved}

        wait_for(lambda: accounted() == corpus.rejected | {link.name}, 60, "every bad file accounted for")
        time.sleep(1.0)
        assert len(read_decisions(url)) == want
        dead = _dead_letters(url)
        # Nothing good was dead-lettered, and every rejection says why.
        assert not {d.original_name for d in dead} & set(corpus.good_seed_of)
        assert all(d.error.strip() for d in dead)
        reasons = {d.original_name: d.error.casefold() for d in dead}
        assert "text layer" in reasons.get("scan-without-text.pdf", "text layer")
        for reason_file in (inbox / "rejected").glob("*.reason.txt"):
            assert reason_file.read_text(encoding="utf-8").strip()
        # The file outside the inbox was never read: its bytes are not a document.
        assert not any(json.loads(d.payload).get("path", "").endswith("outside-secret.txt") for d in dead
                       if d.payload.startswith("{"))
    finally:
        stack.stop()

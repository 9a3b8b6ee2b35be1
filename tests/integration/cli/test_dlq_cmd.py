"""`minutes dlq` as a real process: every entry listed, unknown ids refused, bad input not re-queued blindly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from shared import streams
from shared.contracts.events import DeadLettered
from tests.integration.cli.helpers import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _letter(n: int, *, retryable: bool, stream: str = streams.DOCUMENTS) -> DeadLettered:
    return DeadLettered(
        service="parser",
        stream=stream,
        original_name=f"file-{n}.pdf",
        error="boom" if retryable else "no text layer — OCR not supported",
        error_type="ParseFailed" if retryable else "DocumentError",
        retryable=retryable,
        attempts=3,
        payload=json.dumps({"n": n}),
    )


def _add(url: str, letters: list[DeadLettered]) -> list[str]:
    client = redis.Redis.from_url(url)
    try:
        with client.pipeline(transaction=False) as pipe:
            for letter in letters:
                pipe.xadd(streams.DEAD_LETTER, {streams.PUBLIC_FIELD: letter.model_dump_json()})
            return [entry_id.decode() for entry_id in pipe.execute()]
    finally:
        client.close()


def test_list_shows_every_entry_beyond_a_thousand(tmp_path: Path, redis_url: str) -> None:
    ids = _add(redis_url, [_letter(n, retryable=True) for n in range(1500)])
    done = run_cli(["dlq", "list", "--json"], tmp_path, MINUTES_REDIS_URL=redis_url)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ids


def test_retry_of_an_unknown_id_fails(tmp_path: Path, redis_url: str) -> None:
    _add(redis_url, [_letter(1, retryable=True)])
    done = run_cli(["dlq", "retry", "1-1"], tmp_path, MINUTES_REDIS_URL=redis_url)
    assert done.returncode != 0
    assert "no dead-letter entry 1-1" in done.stderr


def test_retry_all_requeues_what_can_succeed_and_says_why_it_left_the_rest(tmp_path: Path, redis_url: str) -> None:
    good, bad = _add(redis_url, [_letter(1, retryable=True), _letter(2, retryable=False)])
    done = run_cli(["dlq", "retry", "--all"], tmp_path, MINUTES_REDIS_URL=redis_url)
    assert done.returncode == 0, done.stderr
    assert "re-queued 1, skipped 1" in done.stderr
    assert "bad input" in done.stderr and "minutes dlq retry ID" in done.stderr
    client = redis.Redis.from_url(redis_url)
    try:
        left = [entry_id.decode() for entry_id, _ in client.xrange(streams.DEAD_LETTER)]
        assert left == [bad]
        assert client.xlen(streams.DOCUMENTS) == 1
    finally:
        client.close()
    again = run_cli(["dlq", "retry", bad], tmp_path, MINUTES_REDIS_URL=redis_url)
    assert again.returncode == 0 and "re-queued 1" in again.stderr
    assert good != bad


def test_retry_all_with_nothing_it_may_requeue_succeeds_and_a_named_one_that_cannot_fails(
    tmp_path: Path, redis_url: str
) -> None:
    """Skipping by policy is no failure: `--all` exits 0 saying what it left and why; naming an entry that can
    only be retried by dropping its file again fails (exit 1), and says how."""
    bad, refused = _add(
        redis_url, [_letter(1, retryable=False), _letter(2, retryable=True, stream=f"{streams.PREFIX}:inbox")]
    )
    done = run_cli(["dlq", "retry", "--all"], tmp_path, MINUTES_REDIS_URL=redis_url)
    assert done.returncode == 0, done.stderr
    assert "re-queued 0, skipped 2" in done.stderr and "re-drop the file" in done.stderr
    named = run_cli(["dlq", "retry", refused], tmp_path, MINUTES_REDIS_URL=redis_url)
    assert named.returncode == 1 and "re-queued 0, skipped 1" in named.stderr
    client = redis.Redis.from_url(redis_url)
    try:
        assert [entry_id.decode() for entry_id, _ in client.xrange(streams.DEAD_LETTER)] == [bad, refused]
    finally:
        client.close()

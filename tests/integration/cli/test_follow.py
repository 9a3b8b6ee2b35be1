"""`minutes decisions --follow` as a real process against a real redis-server: idle, resume, restarts."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from minutes_cli.decisions_cmd import line
from minutes_cli.follow import SOCKET_TIMEOUT_S
from shared.contracts.events import DecisionRevised
from shared.contracts.meeting import Outcome
from shared.redis_server import RedisServer
from tests.integration.cli.helpers import Cli, blocked_clients, decision, publish

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# redis-py 8's default socket timeout (5 s) and the follower's own: an idle follower must outlive both.
IDLE_S = max(5.0, SOCKET_TIMEOUT_S) + 2


def _ids(cli: Cli) -> list[str]:
    return [json.loads(line)["event_id"] for line in cli.out]


def _follow(tmp_path: Path, url: str, *extra: str) -> Cli:
    cli = Cli(["decisions", "--follow", "--json", "--group", "g1", *extra], tmp_path, MINUTES_REDIS_URL=url)
    cli.wait_for(lambda: any("following minutes:decisions" in line for line in cli.err), 30, "the start line")
    return cli


def test_idle_follow_outlives_client_timeouts_and_prints_the_next_decision(tmp_path: Path, redis_url: str) -> None:
    cli = _follow(tmp_path, redis_url)
    try:
        time.sleep(IDLE_S)  # the test is the idling itself: no event can stand in for "time passed"
        assert cli.proc.poll() is None, cli.err
        event = decision(1)
        publish(redis_url, [event])
        cli.wait_for(lambda: len(cli.out) >= 1, 10, "the decision published after the idle time")
        assert _ids(cli) == [event.event_id]
        assert cli.stop(signal.SIGINT) == 0
    finally:
        cli.close()


def test_killed_and_restarted_mid_backfill_prints_every_decision_once(tmp_path: Path, redis_url: str) -> None:
    events = [decision(n) for n in range(3000)]
    cli = _follow(tmp_path, redis_url)

    def backfill() -> None:  # like the relay during a backfill: batches of decisions, a few ms apart
        for start in range(0, len(events), 50):
            publish(redis_url, events[start : start + 50])
            time.sleep(0.005)

    feeder = threading.Thread(target=backfill)
    feeder.start()
    second: Cli | None = None
    try:
        cli.wait_for(lambda: len(cli.out) >= 300, 30, "the first decisions")
        assert cli.stop(signal.SIGTERM) == 0
        first = _ids(cli)
        assert len(first) < len(events), "the follower was stopped too late to test a resume"
        second = _follow(tmp_path, redis_url)
        feeder.join(60)
        second.wait_for(lambda: len(first) + len(second.out) >= len(events), 60, "every decision")
        assert second.stop(signal.SIGINT) == 0
        seen = Counter(first + _ids(second))
        assert seen == Counter(event.event_id for event in events)
    finally:
        feeder.join(60)
        cli.close()
        if second is not None:
            second.close()


def test_from_start_replays_and_filters_like_the_stored_query(tmp_path: Path, redis_url: str) -> None:
    vejle, aarhus = decision(1, municipality="Vejle"), decision(2, municipality="Aarhus")
    publish(redis_url, [vejle, aarhus])
    cli = _follow(tmp_path, redis_url, "--from-start", "--municipality", "aarhus")
    try:
        later = decision(3, municipality="AARHUS")
        publish(redis_url, [decision(4, municipality="Vejle"), later])
        cli.wait_for(lambda: len(cli.out) >= 2, 15, "the two Aarhus decisions")
        assert cli.stop(signal.SIGINT) == 0
        assert _ids(cli) == [aarhus.event_id, later.event_id]
    finally:
        cli.close()


def test_revisions_are_printed_marked_and_filtered_like_decisions(tmp_path: Path, redis_url: str) -> None:
    made = decision(1, municipality="Aarhus")
    fields = made.model_dump(exclude={"event", "schema_version", "event_id"})
    fields.update(decision_text="Godkendt med en rettelse", outcome=Outcome.REJECTED)
    revised = DecisionRevised(
        **fields, event_id="rev-1", revises_event_id=made.event_id, previous_document_id=made.document_id,
        previous_item_id=made.item_id, previous_outcome=made.outcome, previous_text=made.decision_text,
    )
    elsewhere = DecisionRevised(**{**revised.model_dump(exclude={"event", "schema_version"}),
                                   "event_id": "rev-2", "municipality": "Vejle"})
    publish(redis_url, [made, revised, elsewhere])
    cli = Cli(["decisions", "--follow", "--group", "g-rev", "--from-start", "--municipality", "aarhus"], tmp_path,
              MINUTES_REDIS_URL=redis_url)
    try:
        cli.wait_for(lambda: len(cli.out) >= 2, 30, "the decision and its revision")
        assert cli.stop(signal.SIGINT) == 0
        first, second = (json.loads(line) for line in cli.out)  # JSON lines: stdout is not a terminal
        assert (first["event"], first["event_id"]) == ("DecisionMade", made.event_id)
        assert (second["event"], second["event_id"]) == ("DecisionRevised", "rev-1")
        assert second["previous_outcome"] == "approved"
        assert not any("skipped entry" in text for text in cli.err), cli.err
        # On a terminal a revision is one line, marked.
        assert line(revised).startswith("REVISED (approved → rejected) 2025-03-03 Aarhus")
        assert "REVISED" not in line(made)
    finally:
        cli.close()


def test_follow_survives_a_redis_restart_and_says_so_once(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    url = server.start()
    cli = _follow(tmp_path, url)
    try:
        before = decision(1)
        publish(url, [before])
        cli.wait_for(lambda: len(cli.out) == 1, 10, "the first decision")
        server.stop()
        cli.wait_for(lambda: any("lost Redis" in line for line in cli.err), 20, "the lost-connection notice")
        time.sleep(3)  # several reconnect attempts fail meanwhile; each must not print again
        server.start()
        cli.wait_for(lambda: any("reconnected" in line for line in cli.err), 30, "the reconnect")
        after = decision(2)
        publish(url, [after])
        cli.wait_for(lambda: len(cli.out) == 2, 10, "the decision after the restart")
        assert _ids(cli) == [before.event_id, after.event_id]
        assert sum("lost Redis" in line for line in cli.err) == 1
        assert cli.proc.poll() is None
    finally:
        cli.close()
        server.stop()


def test_follow_blocks_in_xreadgroup(tmp_path: Path, redis_url: str) -> None:
    # Not an XREAD from "$": a consumer group, visible to Redis as a blocked XREADGROUP of group g1.
    cli = _follow(tmp_path, redis_url)
    try:
        deadline = time.monotonic() + 10
        while blocked_clients(redis_url, "xreadgroup") == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert blocked_clients(redis_url, "xreadgroup") == 1
    finally:
        cli.close()

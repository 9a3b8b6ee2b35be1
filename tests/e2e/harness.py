"""Helpers for end-to-end tests: run the real `minutes up` topology and watch its public stream."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import redis
from pydantic import TypeAdapter

from minutes_cli.supervisor import Stack
from shared import streams
from shared.contracts.events import DeadLettered, DecisionMade, DecisionRevised, PublicEvent
from shared.settings import Settings
from tests.conftest import GOLD, SEEDS

if TYPE_CHECKING:  # annotations only: the corpus generator is not imported by every end-to-end test
    from bench.corpus import GeneratedDoc


def _gold() -> list[dict[str, Any]]:
    """The gold files, in name order."""
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(GOLD.glob("*.json"))]


def expected_decisions() -> dict[tuple[str, int], set[str]]:
    """(document file, item number) -> allowed outcomes, for every gold item that records a decision."""
    out = {}
    for gold in _gold():
        for item in gold["items"]:
            if item["outcome"] != ["none"] and "none" not in item["outcome"]:
                out[(gold["file"], item["number"])] = set(item["outcome"])
    return out


def gold_item_count(file: str | None = None) -> int:
    """Agenda items in the gold files, or in the gold of one seed file."""
    return sum(len(gold["items"]) for gold in _gold() if file is None or gold["file"] == file)


def drop_seeds(inbox: Path, suffix: str = "") -> list[Path]:
    """Copy the seed documents into the inbox the way a user would (write elsewhere, then move in)."""
    staging = inbox.parent / "staging"
    staging.mkdir(exist_ok=True)
    out = []
    for seed in sorted(SEEDS.glob("*.txt")):
        name = seed.stem + suffix + seed.suffix
        tmp = staging / name
        shutil.copyfile(seed, tmp)
        out.append(Path(shutil.move(str(tmp), inbox / name)))
    return out


def drop_documents(inbox: Path, docs: Iterable[GeneratedDoc]) -> None:
    """Put generated documents into the inbox the way a user would (write elsewhere, then move in)."""
    staging = inbox.parent / "staging"
    staging.mkdir(exist_ok=True)
    for doc in docs:
        (staging / doc.name).write_bytes(doc.data)
        shutil.move(str(staging / doc.name), inbox / doc.name)


_PUBLIC: TypeAdapter[DecisionMade | DecisionRevised] = TypeAdapter(PublicEvent)


def read_events(url: str) -> list[DecisionMade | DecisionRevised]:
    """Every event on the public decisions stream, read with a bare client as any subscriber would."""
    client = redis.Redis.from_url(url)
    try:
        entries = client.xrange(streams.DECISIONS)
    finally:
        client.close()
    return [_PUBLIC.validate_json(fields[streams.PUBLIC_FIELD.encode()]) for _id, fields in entries]


def read_dead_letters(url: str) -> list[DeadLettered]:
    """Every dead letter on the pipeline's dead-letter stream, read with a bare client."""
    client = redis.Redis.from_url(url)
    try:
        rows: Any = client.xrange(streams.DEAD_LETTER)
    finally:
        client.close()
    return [DeadLettered.model_validate_json(fields[b"json"]) for _id, fields in rows]


def read_decisions(url: str) -> list[DecisionMade]:
    """The DecisionMade events of the public stream; fails on a DecisionRevised (tests of one version each)."""
    events = read_events(url)
    revised = [e for e in events if isinstance(e, DecisionRevised)]
    assert not revised, f"unexpected revisions: {[(e.municipality, e.item_number) for e in revised]}"
    return [e for e in events if isinstance(e, DecisionMade)]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll until `predicate()` holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def make_stack(
    tmp: Path, database_url: str, *, parsers: int = 1, stores: int = 1, api: bool = False, **env: str
) -> Stack:
    """A Stack on a private data dir and inbox, with short reclaim times so faults heal quickly in tests.

    `api`: also the web page and read API, on a free port (`stack.wait_api` gives its URL).
    """
    settings = Settings(
        data_dir=tmp / "data",
        inbox=tmp / "inbox",
        database_url=database_url,
        parsers=parsers,
        stores=stores,
        redis_url=None,
        api_port=0,
    )
    lines: list[str] = []
    base_env = {
        "MINUTES_CLAIM_IDLE_MS": "2000",
        "MINUTES_SETTLE_S": "0.2",
        "MINUTES_RESCAN_INTERVAL_S": "2",
        "MINUTES_LOG_FORMAT": "json",
        "MINUTES_LOG_LEVEL": "INFO",
    }
    stack = Stack(settings, api=api, env={**base_env, **env}, sink=lines.append)
    stack.log_lines = lines  # type: ignore[attr-defined]
    return stack

"""`minutes up` end to end over HTTP: a file dropped into the inbox reaches an open SSE stream of the API,
every decision of it once, and the time from the drop to the first event is printed (the measurement)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import SEEDS
from tests.e2e.harness import expected_decisions
from tests.integration.cli.helpers import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def test_a_dropped_file_reaches_an_open_sse_stream(tmp_path: Path) -> None:
    seed = sorted(SEEDS.glob("*.txt"))[0]
    want = sum(1 for file, _ in expected_decisions() if file == seed.name)
    assert want > 0
    document_id = hashlib.sha256(seed.read_bytes()).hexdigest()
    cli = Cli(
        [
            "up",
            "--data",
            str(tmp_path / "data"),
            "--inbox",
            str(tmp_path / "inbox"),
            "--parsers",
            "1",
            "--api-port",
            "0",
        ],
        tmp_path,
        MINUTES_LOG_FORMAT="json",
    )
    received: list[tuple[float, str, dict[str, object]]] = []
    listening = threading.Event()
    done = threading.Event()

    def read(base: str) -> None:
        # The stream in a thread of its own, as a subscriber process would hold it.
        with httpx.stream("GET", base + "api/v1/decisions/stream", timeout=httpx.Timeout(10, read=60)) as resp:
            entry_id, event = None, None
            for line in resp.iter_lines():
                if line.startswith("id: "):
                    entry_id = line[4:]
                elif line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "listening":
                    listening.set()
                elif line.startswith("data: ") and entry_id:
                    received.append((time.monotonic(), entry_id, json.loads(line[6:])))
                    if len(received) >= want:
                        done.set()
                        return
                elif line == "":
                    entry_id, event = None, None

    try:
        cli.wait_for(lambda: any("minutes is up" in ln for ln in cli.err) or cli.proc.poll() is not None, 150, "up")
        line = next(ln for ln in cli.err if "minutes is up" in ln)
        found = re.search(r"open (http://127\.0\.0\.1:\d+/) in a browser", line)
        assert found, line
        reader = threading.Thread(target=read, args=(found.group(1),), daemon=True)
        reader.start()
        assert listening.wait(30), "the SSE stream did not start"
        staging = tmp_path / "staging"
        staging.mkdir()
        shutil.copyfile(seed, staging / seed.name)
        dropped = time.monotonic()
        shutil.move(str(staging / seed.name), tmp_path / "inbox" / seed.name)  # complete when it appears
        assert done.wait(90), f"{len(received)} of {want} decisions arrived over SSE"
    finally:
        cli.close()
    first = received[0][0] - dropped
    last = received[-1][0] - dropped
    print(f"\nSSE after a file drop (minutes up, 1 parser): first decision {first:.2f}s, all {want} in {last:.2f}s")
    assert {str(e["document_id"]) for _, _, e in received} == {document_id}
    ids = [rid for _, rid, _ in received]
    assert len(set(ids)) == len(ids) == want  # each decision once
    assert len({str(e["event_id"]) for _, _, e in received}) == want

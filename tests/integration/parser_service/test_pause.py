"""A paused parser is not a timeout: SIGSTOP of a worker (alone, or with its parse process) for longer than
the parse limit, mid-parse, then SIGCONT: the document is parsed and no delivery is counted."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from shared import streams
from shared.blobs import LocalBlobStore, sha256_hex
from shared.broker import ensure_groups
from shared.contracts.events import DocumentReceived
from tests.conftest import SEEDS

pytestmark = pytest.mark.integration

TIMEOUT_S = 3.0  # CPU time in the parse process (and time it is blocked without computing)
PAUSE_S = 8.0  # far longer


async def _until(predicate: object, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("whole_group", [False, True], ids=["worker", "worker-and-parse-process"])
async def test_a_parser_paused_longer_than_the_parse_limit_counts_no_delivery(
    redis_url: str, redis_client: aioredis.Redis, tmp_path: Path, whole_group: bool
) -> None:
    await ensure_groups(redis_client)
    data = sorted(SEEDS.glob("*.txt"))[0].read_bytes()
    blobs = LocalBlobStore(tmp_path / "data" / "blobs")
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(  # noqa: ASYNC220 - started once, returns at once
        [sys.executable, "-m", "tests.integration.parser_service.slow_worker", redis_url, str(tmp_path / "data"),
         str(TIMEOUT_S)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        ready = tmp_path / "worker.log"
        await _until(lambda: _says(ready, "FastStream app started"), 30, "the worker to start")
        event = DocumentReceived(document_id=sha256_hex(data), original_name="seed.txt", size=len(data),
                                 content_type="text/plain", blob_ref=blobs.put(data))
        await redis_client.xadd(streams.DOCUMENTS, {"json": event.model_dump_json()})
        # Delivered (pending) means the parse has started; its ~1 s of CPU is under way.
        await _until(lambda: _pending(redis_client, 1), 10, "the document to be delivered")
        await asyncio.sleep(0.3)
        if whole_group:
            os.killpg(worker.pid, signal.SIGSTOP)
        else:
            os.kill(worker.pid, signal.SIGSTOP)
        await asyncio.sleep(PAUSE_S)
        if whole_group:
            os.killpg(worker.pid, signal.SIGCONT)
        else:
            os.kill(worker.pid, signal.SIGCONT)
        await _until(lambda: _items(redis_client), 20, "the document's events")
        await _until(lambda: _pending(redis_client, 0), 10, "the ack")
        # With MINUTES_MAX_DELIVERIES=1 a counted failure would have dead-lettered the document.
        assert await redis_client.xlen(streams.DEAD_LETTER) == 0
    finally:
        worker.terminate()
        worker.wait(15)
        log.close()
    text = (tmp_path / "worker.log").read_text(errors="replace")
    assert "longer than" not in text and "will retry" not in text and "replaced" not in text, text[-2000:]


async def _says(path: Path, text: str) -> bool:
    return text in path.read_text(errors="replace")  # noqa: ASYNC240 - a small log file


async def _pending(client: aioredis.Redis, count: int) -> bool:
    return int((await client.xpending(streams.DOCUMENTS, streams.PARSER_GROUP))["pending"]) == count


async def _items(client: aioredis.Redis) -> bool:
    return int(await client.xlen(streams.ITEMS)) > 0

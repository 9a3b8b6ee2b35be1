"""The shared consume rule on a real Redis with the real parse process: arbitrary core errors are retried
and dead-lettered at the 3rd delivery; forged references are dead-lettered at once and never parsed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from services.parser.bootstrap import bootstrap, close, start
from services.parser.pool import ParsePool, ParseTarget
from shared import streams
from shared.blobs import LocalBlobStore, sha256_hex
from shared.broker import make_broker
from shared.contracts.events import DocumentReceived
from shared.dead_letter import DeadLetterEntry, list_dead_letters
from shared.settings import Settings
from tests.conftest import SEEDS
from tests.integration.parser_service import faults

pytestmark = pytest.mark.integration

SEED = sorted(SEEDS.glob("*.txt"))[0].read_bytes()


class Running:
    """A parser worker (broker + real parse process) on the test Redis."""

    def __init__(self, settings: Settings, blobs: LocalBlobStore, pool: ParsePool, broker: object) -> None:
        self.settings, self.blobs, self.pool, self.broker = settings, blobs, pool, broker


@pytest.fixture
async def worker(
    request: pytest.FixtureRequest, redis_url: str, redis_client: aioredis.Redis, tmp_path: Path
) -> AsyncIterator[Running]:
    target: ParseTarget = getattr(request, "param", faults.crash_on_marker)
    settings = Settings(redis_url=redis_url, data_dir=tmp_path / "data", claim_idle_ms=60_000, max_deliveries=3)
    blobs = LocalBlobStore(settings.blobs_dir)
    broker = make_broker(redis_url, "parser")
    pool = ParsePool(timeout_s=20, memory_mb=1024, target=target)
    deps = bootstrap(settings, broker=broker, parser=pool, blobs=blobs)
    await broker.start()
    await start(deps)  # the groups at id 0, the parse process, the reader
    try:
        yield Running(settings, blobs, pool, broker)
    finally:
        await close(deps)  # the reader, then the parse process
        await broker.stop()


async def _dead_letters(client: aioredis.Redis, count: int, seconds: float) -> list[DeadLetterEntry]:
    async with asyncio.timeout(seconds):
        while len(letters := await list_dead_letters(client)) < count:  # noqa: ASYNC110 - polling Redis
            await asyncio.sleep(0.1)
    return letters


@pytest.mark.parametrize("worker", [faults.raise_arbitrary], indirect=True)
async def test_an_arbitrary_core_exception_is_dead_lettered_at_the_third_delivery(
    worker: Running, redis_client: aioredis.Redis
) -> None:
    received = DocumentReceived(
        document_id=sha256_hex(SEED), original_name="seed.txt", size=len(SEED), content_type="text/plain",
        blob_ref=worker.blobs.put(SEED),
    )
    started = time.monotonic()
    await redis_client.xadd(streams.DOCUMENTS, {"json": received.model_dump_json()})
    [letter] = await _dead_letters(redis_client, 1, 30)
    # Retried in place with a short backoff: seconds, not three reclaim intervals (3 x 60 s).
    assert time.monotonic() - started < 15
    assert letter.event.attempts == 3
    assert letter.event.error_type == "KeyError"
    assert letter.event.retryable is True
    assert letter.event.document_id == received.document_id
    assert await redis_client.xlen(streams.ITEMS) == 0
    # Acked when dead-lettered: nothing pending holds back the documents stream's retention trim.
    assert (await redis_client.xpending(streams.DOCUMENTS, streams.PARSER_GROUP))["pending"] == 0


async def test_forged_references_are_dead_lettered_at_once_and_nothing_is_parsed(
    worker: Running, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    # A readable file outside the blob root, with its true sha256 as the id: only the location is wrong.
    outside = tmp_path / "secret.txt"
    outside.write_bytes(SEED)
    forged_path = DocumentReceived(
        document_id=sha256_hex(SEED), original_name="a.txt", size=len(SEED), content_type="text/plain",
        blob_ref=outside.as_uri(),
    )
    # The same trick through `..` from inside the root.
    dotdot = DocumentReceived(
        document_id=sha256_hex(SEED), original_name="b.txt", size=len(SEED), content_type="text/plain",
        blob_ref=(worker.settings.blobs_dir.resolve()).as_uri() + "/../../secret.txt",
    )
    # A real blob under the root, claimed to be other bytes.
    other = SEED + b"\nother\n"
    wrong_digest = DocumentReceived(
        document_id=sha256_hex(other), original_name="c.txt", size=len(SEED), content_type="text/plain",
        blob_ref=worker.blobs.put(SEED),
    )
    for event in (forged_path, dotdot, wrong_digest):
        await redis_client.xadd(streams.DOCUMENTS, {"json": event.model_dump_json()})
    letters = await _dead_letters(redis_client, 3, 30)
    by_name = {dl.event.original_name: dl.event for dl in letters}
    assert by_name["a.txt"].error_type == by_name["b.txt"].error_type == "BlobRefRejected"
    assert by_name["c.txt"].error_type == "DigestMismatch"
    assert all(dl.event.attempts == 1 and not dl.event.retryable for dl in letters)
    assert await redis_client.xlen(streams.ITEMS) == 0

"""Poison documents on a real Redis: a parse that keeps killing its process is retried by delivery count,
then dead-lettered, while other documents keep flowing; `minutes dlq retry` re-queues it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from minutes_cli.dlq_cmd import retry_entries
from services.parser.bootstrap import bootstrap, close, start
from services.parser.pool import ParsePool
from shared import streams
from shared.blobs import LocalBlobStore, sha256_hex
from shared.broker import make_broker
from shared.contracts.events import DocumentReceived
from shared.dead_letter import list_dead_letters
from shared.settings import Settings
from tests.conftest import SEEDS
from tests.integration.parser_service import faults

pytestmark = pytest.mark.integration


def _received(blobs: LocalBlobStore, data: bytes, name: str) -> DocumentReceived:
    return DocumentReceived(
        document_id=sha256_hex(data), original_name=name, size=len(data), content_type="text/plain",
        blob_ref=blobs.put(data),
    )


async def _wait(predicate: Callable[[], Awaitable[bool]], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not await predicate():  # noqa: ASYNC110 - polling Redis, nothing to wait on
            await asyncio.sleep(0.2)


async def test_poison_is_dead_lettered_after_max_deliveries_and_can_be_requeued(
    redis_url: str, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    settings = Settings(redis_url=redis_url, data_dir=tmp_path, claim_idle_ms=1000, max_deliveries=3)
    blobs = LocalBlobStore(tmp_path / "blobs")
    broker = make_broker(redis_url, "parser")
    pool = ParsePool(timeout_s=20, memory_mb=1024, target=faults.crash_on_marker)
    deps = bootstrap(settings, broker=broker, parser=pool, blobs=blobs)
    seed = sorted(SEEDS.glob("*.txt"))[0].read_bytes()
    poison = _received(blobs, seed + b"\nPOISON\n", "poison.txt")
    good = _received(blobs, seed, "good.txt")
    await broker.start()
    await start(deps)
    try:
        await broker.publish(poison, stream=streams.DOCUMENTS)
        await broker.publish(good, stream=streams.DOCUMENTS)

        async def dead_lettered() -> bool:
            return bool(await list_dead_letters(redis_client))

        await _wait(dead_lettered, 60)
    finally:
        await close(deps)
        await broker.stop()

    [entry] = await list_dead_letters(redis_client)
    assert entry.event.document_id == poison.document_id
    assert entry.event.attempts == 3
    assert entry.event.retryable is True
    assert "died" in entry.event.error
    # The good document went through while the poison one was being retried.
    assert await redis_client.xlen(streams.ITEMS) == 1 + 4
    # Nothing is left pending: the poison message was acked when dead-lettered.
    assert (await redis_client.xpending(streams.DOCUMENTS, streams.PARSER_GROUP))["pending"] == 0

    before = await redis_client.xlen(streams.DOCUMENTS)
    assert await retry_entries(settings, entry.entry_id) == 0
    assert await redis_client.xlen(streams.DOCUMENTS) == before + 1
    assert await list_dead_letters(redis_client) == []

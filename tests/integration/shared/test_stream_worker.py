"""The stream worker against a real redis-server: groups, batches and acks, the retry and dead-letter rule,
outages not counted, reclaiming a dead consumer's entries, the pager, the plain reader."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from faststream.redis.parser import BinaryMessageFormatV1

from shared import streams
from shared.consume import ConsumeStep, OutageGate
from shared.contracts.events import DeadLettered
from shared.dead_letter import InvalidMessage
from shared.redis_server import RedisServer
from shared.stream_worker import Entry, GroupWorker, StreamReader, each, ensure_group, page

pytestmark = pytest.mark.integration

STREAM = "t:work"
GROUP = "g"


async def _fill(client: aioredis.Redis, n: int, stream: str = STREAM) -> list[str]:
    pipe = client.pipeline(transaction=False)
    for i in range(n):
        pipe.xadd(stream, {streams.PUBLIC_FIELD: json.dumps({"n": i})})
    return [i.decode() for i in await pipe.execute()]


async def _until(check: Callable[[], Any], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _worker(client: aioredis.Redis, handle: Any, **kw: Any) -> GroupWorker:
    kw.setdefault("gate", OutageGate("test", initial_s=0.05, cap_s=0.2))
    return GroupWorker(client, STREAM, GROUP, kw.pop("consumer", "c1"), handle, block_ms=100, **kw)


async def test_group_creation_is_idempotent_and_makes_the_stream(redis_client: aioredis.Redis) -> None:
    assert await ensure_group(redis_client, STREAM, GROUP) is True
    assert await ensure_group(redis_client, STREAM, GROUP) is False
    groups = await redis_client.xinfo_groups(STREAM)
    assert [g["name"] for g in groups] == [GROUP.encode()]
    assert await redis_client.xlen(STREAM) == 0


async def test_batches_are_read_whole_and_acked_once_handled(redis_client: aioredis.Redis) -> None:
    ids = await _fill(redis_client, 250)
    # Both encodings the pipeline writes: FastStream's envelope and the plain-JSON field.
    envelope = await BinaryMessageFormatV1.encode(message=b'{"n": 250}', reply_to=None, headers={}, correlation_id="x")
    ids.append((await redis_client.xadd(STREAM, {"__data__": envelope})).decode())
    batches: list[list[Entry]] = []

    async def handle(entries: list[Entry]) -> None:
        batches.append(entries)

    worker = _worker(redis_client, handle, batch=100)
    task = asyncio.create_task(worker.run())
    await _until(lambda: sum(map(len, batches)) == 251)
    worker.stop.set()
    await task
    assert [len(b) for b in batches] == [100, 100, 51]
    assert [e.id for b in batches for e in b] == ids
    assert [json.loads(e.payload)["n"] for b in batches for e in b] == list(range(251))
    assert (await redis_client.xpending(STREAM, GROUP))["pending"] == 0


def _step(letters: list[DeadLettered], **kw: Any) -> ConsumeStep:
    async def to_letter(event: DeadLettered) -> None:
        letters.append(event)

    return ConsumeStep(service="t", stream=STREAM, max_deliveries=3, dead_letter=to_letter,
                       retry_initial_s=0.01, retry_cap_s=0.02, gate=OutageGate("t", initial_s=0.05, cap_s=0.1), **kw)


async def test_a_transient_error_is_retried_then_dead_lettered_at_the_last_delivery(
    redis_client: aioredis.Redis,
) -> None:
    await _fill(redis_client, 2)
    letters: list[DeadLettered] = []
    tries: dict[int, int] = {}

    async def handle(value: dict[str, int]) -> None:
        tries[value["n"]] = tries.get(value["n"], 0) + 1
        if value["n"] == 0:
            raise RuntimeError("always fails")

    worker = _worker(redis_client, each(_step(letters), lambda e: json.loads(e.payload), handle))
    task = asyncio.create_task(worker.run())
    await _until(lambda: tries.get(1) == 1)
    worker.stop.set()
    await task
    assert tries == {0: 3, 1: 1}
    assert [(d.attempts, d.error_type, d.retryable) for d in letters] == [(3, "RuntimeError", True)]
    assert (await redis_client.xpending(STREAM, GROUP))["pending"] == 0


async def test_a_permanent_error_is_dead_lettered_at_once(redis_client: aioredis.Redis) -> None:
    await _fill(redis_client, 1)
    await redis_client.xadd(STREAM, {"other": "x"})  # not an entry of ours: invalid
    letters: list[DeadLettered] = []
    calls: list[int] = []

    def decode(entry: Entry) -> dict[str, int]:
        if not entry.known:
            raise InvalidMessage("no body field")
        return dict(json.loads(entry.payload))

    async def handle(value: dict[str, int]) -> None:
        calls.append(value["n"])
        raise ValueError("can never succeed")

    step = _step(letters, permanent=(ValueError,))
    worker = _worker(redis_client, each(step, decode, handle))
    task = asyncio.create_task(worker.run())
    await _until(lambda: len(letters) == 2)
    worker.stop.set()
    await task
    assert calls == [0]
    assert [(d.attempts, d.retryable) for d in letters] == [(1, False), (1, False)]
    assert json.loads(letters[1].payload) == {"other": "x"}
    assert (await redis_client.xpending(STREAM, GROUP))["pending"] == 0


async def test_a_redis_outage_is_waited_out_and_never_counted(
    redis_server: RedisServer, redis_url: str
) -> None:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=1)
    await _fill(client, 1)
    letters: list[DeadLettered] = []
    seen: list[tuple[int, int]] = []
    changes: list[bool] = []
    restarted = asyncio.Event()
    stopped: list[bool] = []

    async def handle(value: dict[str, int]) -> None:
        seen.append((value["n"], len(seen)))
        if not stopped:
            stopped.append(True)
            # Redis goes away while the entry is in hand: the handler's own write fails like an outage.
            await asyncio.to_thread(redis_server.stop)
            asyncio.get_running_loop().call_later(1.5, lambda: asyncio.ensure_future(_restart()))
        await client.incr("t:side-effect")

    async def _restart() -> None:
        await asyncio.to_thread(redis_server.start)
        restarted.set()

    step = _step(letters)
    assert step.gate is not None
    step.gate.on_change = lambda down, _reason: changes.append(down)
    worker = _worker(client, each(step, lambda e: json.loads(e.payload), handle), gate=step.gate)
    task = asyncio.create_task(worker.run())
    try:
        await _until(lambda: restarted.is_set() and len(seen) >= 2, within=30)
        await _until(lambda: not step.gate.is_down, within=30)  # type: ignore[union-attr]
        await _until(lambda: len(seen) >= 2)
        await asyncio.sleep(0.2)  # the ack after the handler's success
        pending = await client.xpending(STREAM, GROUP)
    finally:
        worker.stop.set()
        await task
    assert letters == []  # many failed attempts during the outage, none counted toward max_deliveries=3
    assert changes == [True, False]  # one line when it went, one when it came back
    assert pending["pending"] == 0
    assert await client.get("t:side-effect") == b"1"  # the write succeeded once, after the restart
    await client.aclose()


async def test_entries_of_a_dead_consumer_are_reclaimed_with_their_count(redis_client: aioredis.Redis) -> None:
    ids = await _fill(redis_client, 3)
    await ensure_group(redis_client, STREAM, GROUP)
    # A consumer took two entries and died without acking them.
    await redis_client.xreadgroup(GROUP, "dead", {STREAM: ">"}, count=2)
    got: list[Entry] = []

    async def handle(entries: list[Entry]) -> None:
        got.extend(entries)

    worker = _worker(redis_client, handle, claim_idle_ms=200, reclaim_every_s=0.1)
    task = asyncio.create_task(worker.run())
    await _until(lambda: len(got) == 3)
    worker.stop.set()
    await task
    by_id = {e.id: e.deliveries for e in got}
    assert by_id == {ids[0]: 2, ids[1]: 2, ids[2]: 1}
    assert (await redis_client.xpending(STREAM, GROUP))["pending"] == 0


async def test_a_failing_batch_stays_pending_and_is_not_acked(redis_client: aioredis.Redis) -> None:
    await _fill(redis_client, 5)

    async def handle(entries: list[Entry]) -> None:
        raise RuntimeError("down for good")

    worker = _worker(redis_client, handle, claim_idle_ms=None)
    await worker.ensure_group()
    assert await worker.step() == 5
    assert (await redis_client.xpending(STREAM, GROUP))["pending"] == 5


async def test_the_pager_walks_many_pages_both_ways(redis_client: aioredis.Redis) -> None:
    ids = await _fill(redis_client, 1234)
    forward = [e.id async for e in page(redis_client, STREAM, count=100)]
    assert forward == ids
    backward = [e.id async for e in page(redis_client, STREAM, count=100, reverse=True)]
    assert backward == ids[::-1]
    after = [e.id async for e in page(redis_client, STREAM, start="(" + ids[1000], count=50, limit=120)]
    assert after == ids[1001:1121]
    newest = [e.id async for e in page(redis_client, STREAM, end=ids[10], reverse=True, count=3)]
    assert newest == ids[10::-1]


async def test_the_plain_reader_starts_after_the_newest_and_follows(redis_client: aioredis.Redis) -> None:
    await _fill(redis_client, 3)
    reader = StreamReader(redis_client, STREAM, block_ms=100, batch=2)
    start = await reader.position()
    later = await _fill(redis_client, 3)
    got: list[str] = []
    async for entries in reader.follow():
        got.extend(e.id for e in entries)
        if len(got) == 3:
            reader.stop.set()
    assert start < later[0]
    assert got == later

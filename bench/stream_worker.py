"""FastStream's subscribers against the thin loop of shared/stream_worker.py, on the same entries.

`python -m bench.stream_worker [--entries 20000] [--batch 100] [--repeat 3]`: a private redis-server (the
launcher of `minutes up`, on a free port, never 6379), N plain-JSON entries, one consumer with a no-op
handler; prints messages/s and CPU ms per 1,000 messages (this process, plus Redis's own from INFO cpu).
The figures and the decision taken from them are in docs/stream-worker.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from faststream.redis import RedisBroker, StreamSub

from shared.redis_server import RedisServer
from shared.stream_worker import Entry, GroupWorker, ensure_group

STREAM = "bench:worker"


async def _fill(client: aioredis.Redis, n: int) -> None:
    await client.delete(STREAM)
    for start in range(0, n, 1000):
        pipe = client.pipeline(transaction=False)
        for i in range(start, min(n, start + 1000)):
            pipe.xadd(STREAM, {"json": json.dumps({"event": "DecisionMade", "n": i})})
        await pipe.execute()


async def _redis_cpu(client: aioredis.Redis) -> float:
    info = await client.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def _measure(url: str, n: int, run: Callable[[str, int, asyncio.Event], Awaitable[None]]) -> dict[str, float]:
    client = aioredis.Redis.from_url(url)
    await _fill(client, n)
    group = f"g{time.monotonic_ns()}"
    await ensure_group(client, STREAM, group)
    done = asyncio.Event()
    redis0, cpu0, t0 = await _redis_cpu(client), time.process_time(), time.perf_counter()
    await run(group, n, done)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    redis_cpu = await _redis_cpu(client) - redis0
    pending = (await client.xpending(STREAM, group))["pending"]
    await client.aclose()
    assert pending == 0, f"{pending} entries left unacked"
    return {"msg_s": n / wall, "cpu_ms_per_1000": cpu * 1000 / n * 1000,
            "redis_cpu_ms_per_1000": redis_cpu * 1000 / n * 1000}


def thin_loop(url: str, batch: int) -> Callable[[str, int, asyncio.Event], Awaitable[None]]:
    async def run(group: str, n: int, done: asyncio.Event) -> None:
        client = aioredis.Redis.from_url(url)
        seen = 0

        async def handle(entries: list[Entry]) -> None:
            nonlocal seen
            # Decode each body as FastStream's batch parser does, so both hand the handler the same.
            seen += len([json.loads(e.payload) for e in entries])
            if seen >= n:
                worker.stop.set()

        worker = GroupWorker(client, STREAM, group, "c1", handle, batch=batch, claim_idle_ms=None)
        await worker.run()
        await client.aclose()

    return run


def faststream(url: str, batch: int, batched: bool) -> Callable[[str, int, asyncio.Event], Awaitable[None]]:
    async def run(group: str, n: int, done: asyncio.Event) -> None:
        broker = RedisBroker(url, logger=logging.getLogger("bench.faststream"), log_level=logging.DEBUG)
        seen = 0

        sub = StreamSub(STREAM, group=group, consumer="c1", batch=batched, max_records=batch)

        @broker.subscriber(stream=sub)  # type: ignore[untyped-decorator]
        async def handle(body: Any) -> None:
            nonlocal seen
            seen += len(body) if batched else 1
            if seen >= n:
                done.set()

        async with broker:
            await broker.start()
            await done.wait()
            await asyncio.sleep(0.05)  # the last ack

    return run


async def main(entries: int, batch: int, repeat: int) -> dict[str, list[dict[str, float]]]:
    """Each variant `repeat` times, interleaved; returns the figures per variant."""
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(Path(tmp))
        url = server.start()
        try:
            variants = {
                "thin loop (GroupWorker), batch": thin_loop(url, batch),
                "FastStream subscriber, batch=True": faststream(url, batch, True),
                "FastStream subscriber, one message per call": faststream(url, batch, False),
            }
            out: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
            for _ in range(repeat):
                for name, run in variants.items():
                    out[name].append(await _measure(url, entries, run))
        finally:
            server.stop()
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = asyncio.run(main(args.entries, args.batch, args.repeat))
    for name, runs in results.items():
        med = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
        print(f"{name:45s} {med['msg_s']:9.0f} msg/s  {med['cpu_ms_per_1000']:7.1f} CPU ms/1000 (client)  "
              f"{med['redis_cpu_ms_per_1000']:6.1f} (redis)   runs: "
              + ", ".join(f"{r['msg_s']:.0f}" for r in runs))

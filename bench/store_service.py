"""The store service's CPU per document, as a process: `python -m bench.store_service --docs 400 [--rate 60]
[--profile out.prof] [--postgres URL]`.

Starts a private Redis and a fresh database, runs `minutes service store` as its own process (optionally
under cProfile), feeds it the items-stream entries of generated text documents exactly as the parser
writes them (FastStream's envelope, one atomic XADD of a document's events), `--rate` documents a second
(0: all at once, a backfill of a queue), and waits until every entry is acknowledged, every outbox row
published and the search queue drained. Prints the store process's CPU milliseconds per document between
the first entry and the end (start-up left out, as `minutes bench` does), and the wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.cpu import tree_cpu_seconds


def _bodies(docs: int) -> list[list[bytes]]:
    from bench.store_cpu import _events

    per_doc: dict[str, list[bytes]] = {}
    for ev in _events(docs):
        per_doc.setdefault(ev.document_id, []).append(ev.model_dump_json().encode())
    return list(per_doc.values())


async def _count(url: str, sql: str) -> int:
    from sqlalchemy import text

    from services.store.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(text(sql))).scalar_one())
    finally:
        await engine.dispose()


async def _feed_and_wait(redis_url: str, db_url: str, docs: list[list[bytes]], rate: float, pid: int,
                         spy_to: str | None = None) -> dict[str, Any]:
    from redis.asyncio import Redis

    from shared import streams
    from shared.broker import ENVELOPE_FIELD, stream_envelope

    client = Redis.from_url(redis_url)
    # Ready: the store created its group (its `prepare` is done).
    while True:
        groups = await client.xinfo_groups(streams.ITEMS) if await client.exists(streams.ITEMS) else []
        if any(g["name"] in (streams.STORE_GROUP, streams.STORE_GROUP.encode()) for g in groups):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.0)  # the store's start-up pass settles
    cpu0, wall0 = tree_cpu_seconds(pid), time.perf_counter()
    spy = None
    if spy_to:  # a sampling profile of the feed only (py-spy on PATH: a developer's tool, not a dependency)
        spy = await asyncio.create_subprocess_exec(
            "py-spy", "record", "-p", str(pid), "-f", "raw", "-o", spy_to, "-r", "200", "--threads",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        await asyncio.sleep(1.0)
        cpu0, wall0 = tree_cpu_seconds(pid), time.perf_counter()
    for n, bodies in enumerate(docs):
        async with client.pipeline(transaction=True) as pipe:
            for body in bodies:
                pipe.xadd(streams.ITEMS, {ENVELOPE_FIELD: stream_envelope(body)})
            await pipe.execute()
        if rate > 0:
            delay = wall0 + (n + 1) / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
    entries = sum(len(b) for b in docs)
    while True:
        info = {g["name"]: g for g in await client.xinfo_groups(streams.ITEMS)}
        group = info.get(streams.STORE_GROUP) or info.get(streams.STORE_GROUP.encode())
        if group and group["pending"] == 0 and group["last-delivered-id"] == (await client.xinfo_stream(streams.ITEMS))[
            "last-generated-id"
        ]:
            unsent = await _count(db_url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
            queued = await _count(db_url, "SELECT count(*) FROM search_queue")
            if unsent == 0 and queued == 0:
                break
        await asyncio.sleep(0.05)
    wall, cpu = time.perf_counter() - wall0, tree_cpu_seconds(pid) - cpu0
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        await asyncio.wait_for(spy.wait(), 30)
    published = await client.xlen(streams.DECISIONS)
    await client.aclose()
    return {
        "documents": len(docs), "entries": entries, "published": published, "wall_s": round(wall, 2),
        "docs_per_s": round(len(docs) / wall, 1), "cpu_ms_per_doc": round(cpu * 1000 / len(docs), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--rate", type=float, default=60.0, help="documents per second fed (0: all at once)")
    ap.add_argument("--profile", metavar="PATH", help="run the store under cProfile, stats into PATH")
    ap.add_argument("--spy", metavar="PATH", help="sample the store with py-spy (collapsed stacks into PATH)")
    ap.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (a fresh database); else SQLite")
    args = ap.parse_args()
    from bench.ceilings import fresh_database
    from services.store.db import migrate
    from shared.redis_server import RedisServer

    docs = _bodies(args.docs)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "redis").mkdir()
        redis = RedisServer(work / "redis")
        redis_url = redis.start()
        kind = "postgres" if args.postgres else "sqlite"
        try:
            with fresh_database(kind, work, "store_service", args.postgres) as url:
                asyncio.run(migrate(url))
                env = dict(os.environ, MINUTES_DATA_DIR=str(work), MINUTES_DATABASE_URL=url,
                           MINUTES_REDIS_URL=redis_url, MINUTES_LOG_FORMAT="json")
                profile = ["-m", "cProfile", "-o", args.profile] if args.profile else []
                with (work / "store.log").open("wb") as log:
                    proc = subprocess.Popen([sys.executable, *profile, "-m", "minutes_cli.main", "service", "store"],
                                            env=env, stdout=log, stderr=subprocess.STDOUT)
                try:
                    result = asyncio.run(_feed_and_wait(redis_url, url, docs, args.rate, proc.pid, args.spy))
                finally:
                    proc.send_signal(signal.SIGTERM)
                    proc.wait(60)
                print(result)
        finally:
            redis.stop()


if __name__ == "__main__":
    main()

"""API list throughput: requests/s for pages of `/api/v1/decisions`, served by `minutes service api`
(uvicorn, one process) on a store of N items, from clients on the same machine.

    python -m bench.api_throughput [--docs 300] [--items 30000] [--requests 600] [--concurrency 4] [--json]

The store is filled as the search benchmark fills it (`bench/search.py`: the benchmark corpus, parsed, stored
through the store's repository, copied until there are N items). The API runs as its own process, as
`minutes up` runs it; the clients (httpx, keep-alive) run here, so both share the machine's cores. Each
kind of request is measured separately: a page of 25 newest-first, the same walked by cursor (deep pages),
a full-text query, and filters. Only loopback is ever contacted, and every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench import ceilings, corpus
from bench.observe import percentiles

PAGE = 25
KINDS: dict[str, dict[str, str]] = {
    "newest first": {},
    "full-text q=godkendt": {"q": "godkendt"},
    "filter outcome=approved": {"outcome": "approved"},
    "filter committee=udvalg + dates": {"committee": "udvalg", "date_from": "2015-01-01"},
}


def say(msg: str) -> None:
    print(f"[api-bench] {msg}", file=sys.stderr, flush=True)


def fill(docs: int, items: int, workdir: Path) -> str:
    """A SQLite store in `workdir` with about `items` items; returns its URL."""
    from bench.search import _copies
    from services.store.db import create_engine, migrate
    from services.store.indexer import SearchIndexer
    from services.store.repository import store_events
    from shared.contracts.events import utcnow

    generated = corpus.generate_corpus(docs, 0, 0.0)
    _, parsed = ceilings.parse_ceiling(generated)
    url = f"sqlite+aiosqlite:///{workdir / 'minutes.db'}"
    events = _copies(parsed, items)

    async def run() -> None:
        await migrate(url)
        engine = create_engine(url)
        try:
            for i in range(0, len(events), 100):
                async with engine.begin() as conn:
                    await store_events(conn, events[i : i + 100], now=utcnow(), public_base_url="minutes://items/")
            await SearchIndexer(engine).run_once()  # searchable, as the store service's indexer makes it
        finally:
            await engine.dispose()

    asyncio.run(run())
    return url


def start_api(url: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`minutes service api` on a free loopback port; returns the process and its base URL."""
    env = {**os.environ, "MINUTES_DATABASE_URL": url, "MINUTES_DATA_DIR": str(workdir), "MINUTES_API_PORT": "0",
           "MINUTES_API_HOST": "127.0.0.1", "MINUTES_LOG_FORMAT": "json", "MINUTES_API_MAX_PAGE_SIZE": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "minutes_cli.main", "service", "api", "--data", str(workdir)],
                            env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    for raw in iter(proc.stderr.readline, b""):
        line = raw.decode(errors="replace")
        found = re.search(r"https?://127\.0\.0\.1:\d+/", line) if "api listening" in line else None
        if found:
            return proc, found.group(0)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError("the API did not start")


async def measure(base: str, params: dict[str, str], requests: int, concurrency: int, walk: bool) -> dict[str, Any]:
    """`requests` GETs by `concurrency` clients; `walk`: each client follows `next` instead of page 1 again."""
    latencies: list[float] = []
    rows = 0
    left = requests

    async def client() -> None:
        nonlocal left, rows
        async with httpx.AsyncClient(base_url=base.rstrip("/"), timeout=30) as http:
            path: str = "/api/v1/decisions?" + str(httpx.QueryParams({**params, "limit": str(PAGE)}))
            first = path
            while left > 0:
                left -= 1
                t = time.perf_counter()
                response = await http.get(path)
                latencies.append((time.perf_counter() - t) * 1000)
                response.raise_for_status()
                body = response.json()
                rows += len(body["items"])
                path = body["next"] if walk and body["next"] else first

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return {"requests": len(latencies), "requests_per_s": round(len(latencies) / wall, 1),
            "rows_per_s": round(rows / wall, 1), "latency_ms": percentiles(latencies)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.api_throughput", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--docs", type=int, default=300, help="benchmark-corpus documents to parse")
    p.add_argument("--items", type=int, default=30_000, help="items in the store (the corpus copied up to it)")
    p.add_argument("--requests", type=int, default=600, help="requests per kind")
    p.add_argument("--concurrency", type=int, default=4, help="concurrent clients")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="minutes-api-bench-") as tmp:
        workdir = Path(tmp)
        t = time.perf_counter()
        url = fill(args.docs, args.items, workdir)
        say(f"store filled in {time.perf_counter() - t:.1f} s; starting the API")
        proc, base = start_api(url, workdir)
        try:
            results: dict[str, Any] = {}
            for label, params in KINDS.items():
                asyncio.run(measure(base, params, min(40, args.requests), args.concurrency, False))  # warm-up
                results[f"{label}, page 1"] = asyncio.run(
                    measure(base, params, args.requests, args.concurrency, False))
                results[f"{label}, walking pages"] = asyncio.run(
                    measure(base, params, args.requests, args.concurrency, True))
                say(f"{label}: {results[f'{label}, page 1']['requests_per_s']} req/s")
        finally:
            proc.terminate()
            proc.wait(15)
    out = {"schema": "minutes-api-bench/1", "items": args.items, "page_size": PAGE,
           "concurrency": args.concurrency, "cpus_usable": len(os.sched_getaffinity(0)), "results": results}
    print(f"API list throughput: {args.items} items, pages of {PAGE}, {args.concurrency} clients, "
          f"{len(os.sched_getaffinity(0))} CPUs shared by server and clients")
    print(f"{'request':<52} {'req/s':>8} {'rows/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for label, r in results.items():
        lat = r["latency_ms"]
        print(f"{label:<52} {r['requests_per_s']:>8} {r['rows_per_s']:>9} {lat['p50']:>8} {lat['p99']:>8}")
    if args.json:
        print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

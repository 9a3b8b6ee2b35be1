"""Alerts benchmark: `python -m bench.alerts [--subs N] [--send-events N] [--docs N] [--rate R] [--json]`.

1. Sending: N webhook subscriptions matching everything, a few events on the public stream, the worker's
   delivery loop (follower and dispatcher) against a loopback receiver (a thread of the benchmark's
   process): signed POSTs per second.
2. CPU: the real alerts worker (`minutes service alerts`, its own process) with N webhook subscriptions of
   mixed filters against a loopback receiver; documents' decisions appended to the public stream as the
   store's relay does; the worker's CPU (user+system, psutil) from the first entry to the last delivery
   recorded, per document and per delivery.
3. Following: the same worker with no subscription while documents' decisions arrive at `--rate` documents
   a second (14 decisions each): what the worker costs a pipeline just by following the stream.
4. Latency: the real `minutes up` topology (ingest, parser, store, alerts) with one webhook subscription;
   documents renamed into the inbox at a fixed rate; time from the rename (file complete) to the webhook
   received, per decision, p50/p99.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench.observe import percentiles
from shared.redis_server import free_port

COMMITTEES = ("Økonomiudvalget", "Teknik- og Miljøudvalget", "Børne- og Ungeudvalget", "Byrådet", "Kulturudvalget")
TITLES = (
    "Forslag til lokalplan for boliger",
    "Budgetopfølgning",
    "Ny skolestruktur",
    "Takster for affald",
    "Anlægsbevilling til cykelsti",
)


def say(msg: str) -> None:
    print(f"[bench alerts] {msg}", file=sys.stderr, flush=True)


class ReceiverThread:
    """A loopback HTTP receiver in its own thread, recording (arrival time, body) of every POST."""

    def __init__(self) -> None:
        self.port = free_port()
        self.got: list[tuple[float, bytes]] = []
        # (body, headers) of every request, for signature checks.
        self.headers: list[tuple[bytes, dict[str, str]]] = []
        self._lock = threading.Lock()

        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._lock:
                self.got.append((time.time(), body))
                self.headers.append((body, dict(request.headers)))
            return Response(status_code=204)

        app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def __enter__(self) -> ReceiverThread:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _event(n: int) -> Any:
    from shared.contracts.examples import decision_made

    doc = hashlib.sha256(f"bench-{n}".encode()).hexdigest()
    return decision_made(
        n,
        document_id=doc,
        committee=COMMITTEES[n % 5],
        meeting_date=dt.date(2025, 1, 1),
        item_number=n % 20 + 1,
        item_title=TITLES[n % 5] + f" ({n})",
        case_number=f"25/{n:05d}",
        decision_text="Indstillingen blev godkendt. Udvalget anbefaler lokalplanen over for Byrådet.",
        item_url=f"https://minutes.test/items/{doc}:{n}",
    )


async def _subscriptions(engine: Any, n: int, url: str, *, all_match: bool) -> None:
    from services.alerts.subscriptions import SubscriptionSpec, add_subscription

    kinds: list[dict[str, str]] = [
        {},
        {"committee": "udvalget"},
        {"phrase": "lokalplan"},
        {"municipality": "Odense Kommune"},
    ]
    for i in range(n):
        flt = {} if all_match else kinds[i % 4]
        await add_subscription(engine, SubscriptionSpec(channel="webhook", url=url, **flt), allow_private=True)


async def sending(workdir: Path, subs: int, events: int) -> dict[str, Any]:
    import redis.asyncio as aioredis

    from services.alerts.bootstrap import bootstrap
    from services.alerts.worker import delivery_loop
    from services.store.db import create_engine, migrate
    from shared import streams
    from shared.redis_server import RedisServer
    from shared.settings import Settings

    url = f"sqlite+aiosqlite:///{workdir / 'send.db'}"
    await migrate(url)
    engine = create_engine(url)
    redis = RedisServer(workdir / "redis", appendonly=False)
    redis.start()
    client = aioredis.Redis.from_url(redis.url)
    with ReceiverThread() as receiver:
        settings = Settings(
            database_url=url, redis_url=redis.url, allow_private_urls=True, alerts_concurrency=32, _env_file=None
        )
        deps = bootstrap(settings, engine=engine, redis=client)
        try:
            await _subscriptions(engine, subs, receiver.url, all_match=True)
            loop = asyncio.create_task(delivery_loop(deps))
            await asyncio.sleep(0.5)  # the follower at the stream's head
            start = time.perf_counter()
            for n in range(events):
                await client.xadd(streams.DECISIONS, {streams.PUBLIC_FIELD: _event(n).model_dump_json()})
            total = subs * events
            deadline = start + 600
            while len(receiver.got) < total:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"{len(receiver.got)} of {total} deliveries after 600 s")
                await asyncio.sleep(0.01)
            took = time.perf_counter() - start
            deps.stopping.set()
            deps.work.set()
            await loop
        finally:
            await deps.http.aclose()
            await client.aclose()
            await engine.dispose()
            redis.stop()
    return {"subscriptions": subs, "deliveries": total, "seconds": round(took, 2), "posts_per_s": round(total / took)}


@contextlib.contextmanager
def _alerts_worker(
    workdir: Path, redis_url: str, database_url: str, *, allow_private: bool = False
) -> Iterator[subprocess.Popen[bytes]]:
    """`minutes service alerts` as its own process (log in `workdir/alerts.log`), ready and one second past
    its first poll so a measurement starts idle; terminated on exit."""
    env = {
        **os.environ,
        "MINUTES_REDIS_URL": redis_url,
        "MINUTES_DATABASE_URL": database_url,
        "MINUTES_DATA_DIR": str(workdir / "alerts"),
        "MINUTES_LOG_FORMAT": "json",
    }
    if allow_private:  # the benchmark's receiver listens on loopback
        env["MINUTES_ALLOW_PRIVATE_URLS"] = "true"
    (workdir / "alerts").mkdir()
    with (workdir / "alerts.log").open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "minutes_cli.main", "service", "alerts"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 180
            while '"event": "ready"' not in (workdir / "alerts.log").read_text():
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError("the alerts worker did not get ready (see alerts.log)")
                time.sleep(0.1)
            time.sleep(1.0)  # its first poll passes done: the measurement starts idle
            yield proc
        finally:
            proc.terminate()
            proc.wait(30)


def cpu_per_document(workdir: Path, subs: int, docs: int, per_doc: int) -> dict[str, Any]:
    """The alerts worker's CPU per document: `docs` documents of `per_doc` decisions each, `subs` subscriptions
    (a quarter match everything, a quarter a committee, a quarter a phrase, a quarter nothing)."""

    import psutil
    import redis as sync_redis

    from bench.cpu import tree_cpu_seconds
    from services.alerts.subscriptions import list_subscriptions
    from services.store.db import create_engine, migrate
    from shared import streams
    from shared.redis_server import RedisServer

    url = f"sqlite+aiosqlite:///{workdir / 'cpu.db'}"
    asyncio.run(migrate(url))
    server = RedisServer(workdir / "redis", appendonly=False)
    server.start()
    client = sync_redis.Redis.from_url(server.url)
    events = [_event(n) for n in range(docs * per_doc)]
    matching = {
        0: len(events),  # everything
        1: sum("udvalget" in e.committee.casefold() for e in events),
        2: sum("lokalplan" in e.decision_text.casefold() for e in events),
        3: 0,  # another municipality
    }
    expected = sum(matching[i % 4] for i in range(subs))
    with ReceiverThread() as receiver:

        async def setup() -> None:
            engine = create_engine(url)
            try:
                await _subscriptions(engine, subs, receiver.url, all_match=False)
            finally:
                await engine.dispose()

        asyncio.run(setup())
        try:
            with _alerts_worker(workdir, server.url, url, allow_private=True) as proc:

                async def recorded() -> int:
                    engine = create_engine(url)
                    try:
                        return sum(s.delivered for s in await list_subscriptions(engine))
                    finally:
                        await engine.dispose()

                before = tree_cpu_seconds(proc.pid)
                start = time.perf_counter()
                for d in range(docs):  # one document's decisions at a time, as the relay publishes a meeting
                    pipe = client.pipeline(transaction=False)
                    for ev in events[d * per_doc : (d + 1) * per_doc]:
                        pipe.xadd(streams.DECISIONS, {streams.PUBLIC_FIELD: ev.model_dump_json()})
                    pipe.execute()
                deadline = time.time() + 600
                while len(receiver.got) < expected or asyncio.run(recorded()) < expected:
                    if time.time() > deadline:
                        raise RuntimeError(f"{len(receiver.got)} of {expected} deliveries after 600 s")
                    time.sleep(0.2)
                took = time.perf_counter() - start
                spent = tree_cpu_seconds(proc.pid) - before
                rss = psutil.Process(proc.pid).memory_info().rss
        finally:
            client.close()
            server.stop()
    return {
        "subscriptions": subs,
        "documents": docs,
        "decisions": len(events),
        "deliveries": expected,
        "received": len(receiver.got),
        "seconds": round(took, 2),
        "cpu_ms_per_document": round(spent * 1000 / docs, 2),
        "cpu_ms_per_delivery": round(spent * 1000 / max(expected, 1), 3),
        "rss_mb": round(rss / 2**20, 1),
    }


def following(workdir: Path, docs: int, rate: float, per_doc: int = 14) -> dict[str, Any]:
    """The worker's CPU per document with no subscription while the stream grows at `rate` documents/s."""
    import redis as sync_redis

    from bench.cpu import tree_cpu_seconds
    from services.store.db import migrate
    from shared import streams
    from shared.redis_server import RedisServer

    url = f"sqlite+aiosqlite:///{workdir / 'follow.db'}"
    asyncio.run(migrate(url))
    server = RedisServer(workdir / "redis", appendonly=False)
    server.start()
    client = sync_redis.Redis.from_url(server.url)
    try:
        with _alerts_worker(workdir, server.url, url) as proc:
            before = tree_cpu_seconds(proc.pid)
            start = time.perf_counter()
            n = 0
            for d in range(docs):
                pipe = client.pipeline(transaction=False)
                for _ in range(per_doc):
                    pipe.xadd(streams.DECISIONS, {streams.PUBLIC_FIELD: _event(n).model_dump_json()})
                    n += 1
                pipe.execute()
                time.sleep(max(0.0, start + (d + 1) / rate - time.perf_counter()))
            time.sleep(1.0)  # the last entries followed
            spent = tree_cpu_seconds(proc.pid) - before
    finally:
        client.close()
        server.stop()
    per_document = round(spent * 1000 / docs, 2)
    return {"documents": docs, "decisions": n, "rate_docs_per_s": rate, "cpu_ms_per_document": per_document}


def latency(workdir: Path, docs: int, rate: float) -> dict[str, Any]:
    from bench.corpus import generate_corpus
    from minutes_cli.supervisor import Stack
    from services.alerts.subscriptions import SubscriptionSpec, add_subscription
    from services.store.db import create_engine
    from shared.settings import Settings

    corpus = generate_corpus(docs, seed=7, pdf_share=0.0)
    inbox, staging, data = workdir / "inbox", workdir / "staging", workdir / "data"
    staging.mkdir(parents=True)
    for d in corpus:
        (staging / d.name).write_bytes(d.data)
    log = (workdir / "services.log").open("a", buffering=1)
    settings = Settings(
        data_dir=data, inbox=inbox, parsers=2, stores=1, redis_url=None, database_url=None, _env_file=None
    )

    def sink(line: str) -> None:
        log.write(line + "\n")

    stack = Stack(settings, env={"MINUTES_LOG_FORMAT": "json", "MINUTES_ALLOW_PRIVATE_URLS": "true"}, sink=sink)
    dropped: dict[str, float] = {}
    with ReceiverThread() as receiver:
        stack.start()
        try:
            if not stack.ingest_ready.wait(120):
                raise RuntimeError("ingest did not report watching the inbox")

            async def subscribe() -> None:
                engine = create_engine(settings.effective_database_url)
                try:
                    await add_subscription(
                        engine, SubscriptionSpec(channel="webhook", url=receiver.url), allow_private=True
                    )
                finally:
                    await engine.dispose()

            asyncio.run(subscribe())
            time.sleep(2)  # the alerts worker up and reading (it starts beside the others)
            expected = sum(d.expected_decisions for d in corpus)
            for d in corpus:
                os.rename(staging / d.name, inbox / d.name)
                dropped[hashlib.sha256(d.data).hexdigest()] = time.time()
                time.sleep(1 / rate)
            deadline = time.time() + 120
            while len(receiver.got) < expected and time.time() < deadline:
                time.sleep(0.1)
        finally:
            stack.stop()
            log.close()
    lat, stored, sent = [], [], []
    for at, body in receiver.got:
        event = json.loads(body)
        if event["document_id"] in dropped:
            recorded = dt.datetime.fromisoformat(event["occurred_at"]).timestamp()
            lat.append((at - dropped[event["document_id"]]) * 1000)
            stored.append((recorded - dropped[event["document_id"]]) * 1000)  # file complete → stored
            sent.append((at - recorded) * 1000)  # stored → webhook received (relay + alerts worker)

    def rounded(values: list[float]) -> dict[str, float]:
        return {k: round(v, 1) for k, v in percentiles(values).items()}

    return {
        "documents": docs,
        "rate_docs_per_s": rate,
        "decisions_expected": expected,
        "webhooks": len(lat),
        "latency_ms": rounded(lat),
        "file_to_stored_ms": rounded(stored),
        "stored_to_webhook_ms": rounded(sent),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        prog="python -m bench.alerts", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--subs", type=int, default=1000, help="subscriptions for sending")
    ap.add_argument("--send-events", type=int, default=3, help="events sent to every subscription")
    ap.add_argument("--docs", type=int, default=40, help="documents for the latency and CPU phases")
    ap.add_argument("--cpu-subs", type=int, default=20, help="subscriptions in the CPU phase")
    ap.add_argument("--per-doc", type=int, default=8, help="decisions per document in the CPU phase")
    ap.add_argument("--rate", type=float, default=2.0, help="documents per second in the latency phase")
    ap.add_argument("--phases", default="sending,cpu,following,latency", help="comma-separated phases to run")
    ap.add_argument("--json", action="store_true", help="one JSON object as the last line")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="minutes-bench-alerts-") as tmp:
        root = Path(tmp)
        phases = set(args.phases.split(","))
        result: dict[str, Any] = {}
        if "sending" in phases:
            say(f"sending: {args.subs} webhook subscriptions × {args.send_events} events to a loopback receiver")
            result["sending"] = asyncio.run(sending(root, args.subs, args.send_events))
            say(f"sending: {result['sending']}")
        if "cpu" in phases:
            say(f"cpu: {args.cpu_subs} subscriptions, {args.docs} documents × {args.per_doc} decisions")
            (root / "cpu").mkdir()
            result["cpu"] = cpu_per_document(root / "cpu", args.cpu_subs, args.docs, args.per_doc)
            say(f"cpu: {result['cpu']}")
        if "following" in phases:
            say(f"following: no subscription, {args.docs} documents at {args.rate}/s")
            (root / "following").mkdir()
            result["following"] = following(root / "following", args.docs, args.rate)
            say(f"following: {result['following']}")
        if "latency" in phases:
            say(f"latency: {args.docs} documents at {args.rate}/s through minutes up with the alerts worker")
            (root / "latency").mkdir()
            result["latency"] = latency(root / "latency", args.docs, args.rate)
            say(f"latency: {result['latency']}")
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

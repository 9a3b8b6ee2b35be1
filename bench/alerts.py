"""Alerts benchmark: `python -m bench.alerts [--subs N] [--events N] [--docs N] [--rate R] [--json]`.

1. Fan-out: N subscriptions (a quarter match everything, a quarter a committee, a quarter a search phrase,
   a quarter another municipality) against generated events: matching deliveries enqueued per second
   (the worker's `enqueue_batch` over batches of `--batch` events, as it reads the stream: filter evaluation
   with Danish stemming + the insert), on SQLite.
2. Sending: N webhook subscriptions matching everything, a few events, the delivery loop against a loopback
   receiver (a thread of the benchmark's process): signed POSTs per second.
3. Latency: the real `minutes up` topology (ingest, parser, store, alerts) with one webhook subscription;
   documents renamed into the inbox at a fixed rate; time from the rename (file complete) to the webhook
   received, per decision, p50/p99.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
import threading
import time
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
    from shared.contracts.events import DecisionMade
    from shared.contracts.meeting import Outcome

    doc = hashlib.sha256(f"bench-{n}".encode()).hexdigest()
    return DecisionMade(
        event_id=f"00000000-0000-0000-0000-{n:012d}",
        municipality="Vejle Kommune",
        committee=COMMITTEES[n % 5],
        meeting_date=dt.date(2025, 1, 1),
        item_number=n % 20 + 1,
        item_title=TITLES[n % 5] + f" ({n})",
        case_number=f"25/{n:05d}",
        outcome=Outcome.APPROVED,
        decision_text="Indstillingen blev godkendt. Udvalget anbefaler lokalplanen over for Byrådet.",
        document_id=doc,
        item_id=f"{doc}:{n}",
        item_url=f"https://minutes.test/items/{doc}:{n}",
        occurred_at=dt.datetime.now(dt.UTC),
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


async def fan_out(workdir: Path, subs: int, events: int, batch: int) -> dict[str, Any]:
    from services.alerts.fanout import Pending, SubscriptionCache, enqueue_batch
    from services.store.db import create_engine, migrate

    url = f"sqlite+aiosqlite:///{workdir / 'fanout.db'}"
    await migrate(url)
    engine = create_engine(url)
    try:
        await _subscriptions(engine, subs, "http://127.0.0.1:9/hook", all_match=False)
        # Entries published after the subscriptions were created (stream ids are milliseconds).
        first_ms = int(time.time() * 1000) + 1
        evs = [
            Pending(ev, ev.model_dump_json(), f"{first_ms + n}-0") for n, ev in enumerate(map(_event, range(events)))
        ]
        cache = SubscriptionCache()
        start = time.perf_counter()
        total = 0
        for at in range(0, len(evs), batch):
            total += await enqueue_batch(engine, cache, evs[at : at + batch])
        took = time.perf_counter() - start
    finally:
        await engine.dispose()
    return {
        "subscriptions": subs,
        "events": events,
        "deliveries": total,
        "seconds": round(took, 2),
        "deliveries_per_s": round(total / took),
        "events_per_s": round(events / took, 1),
    }


async def sending(workdir: Path, subs: int, events: int) -> dict[str, Any]:
    from services.alerts.bootstrap import bootstrap
    from services.alerts.worker import deliver_due, enqueue
    from services.store.db import create_engine, migrate
    from shared.redis_server import RedisServer
    from shared.settings import Settings

    url = f"sqlite+aiosqlite:///{workdir / 'send.db'}"
    await migrate(url)
    engine = create_engine(url)
    # The sender asks Redis for the alerts group's pending entries (its ordering watermark): none here.
    redis = RedisServer(workdir / "redis", appendonly=False)
    redis.start()
    with ReceiverThread() as receiver:
        settings = Settings(
            database_url=url, redis_url=redis.url, allow_private_urls=True, alerts_concurrency=32, _env_file=None
        )
        deps = bootstrap(settings, engine=engine)
        try:
            await _subscriptions(engine, subs, receiver.url, all_match=True)
            total = 0
            for n in range(events):
                ev = _event(n)
                total += await enqueue(engine, ev, ev.model_dump_json(), None)
            start = time.perf_counter()
            while len(receiver.got) < total:
                if not await deliver_due(deps):
                    await asyncio.sleep(0.01)
            took = time.perf_counter() - start
        finally:
            await deps.http.aclose()
            await deps.redis.aclose()
            await engine.dispose()
            redis.stop()
    return {"subscriptions": subs, "deliveries": total, "seconds": round(took, 2), "posts_per_s": round(total / took)}


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
    ap.add_argument("--subs", type=int, default=1000, help="subscriptions for fan-out and sending")
    ap.add_argument("--events", type=int, default=100, help="events for the fan-out")
    ap.add_argument("--batch", type=int, default=100, help="events per fan-out transaction (the worker's batch)")
    ap.add_argument("--send-events", type=int, default=3, help="events sent to every subscription")
    ap.add_argument("--docs", type=int, default=40, help="documents for the latency phase")
    ap.add_argument("--rate", type=float, default=2.0, help="documents per second in the latency phase")
    ap.add_argument("--phases", default="fan_out,sending,latency", help="comma-separated phases to run")
    ap.add_argument("--json", action="store_true", help="one JSON object as the last line")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="minutes-bench-alerts-") as tmp:
        root = Path(tmp)
        phases = set(args.phases.split(","))
        result: dict[str, Any] = {}
        if "fan_out" in phases:
            say(f"fan-out: {args.subs} subscriptions × {args.events} events")
            result["fan_out"] = asyncio.run(fan_out(root, args.subs, args.events, args.batch))
            say(f"fan-out: {result['fan_out']}")
        if "sending" in phases:
            say(f"sending: {args.subs} webhook subscriptions × {args.send_events} events to a loopback receiver")
            result["sending"] = asyncio.run(sending(root, args.subs, args.send_events))
            say(f"sending: {result['sending']}")
        if "latency" in phases:
            say(f"latency: {args.docs} documents at {args.rate}/s through minutes up with the alerts worker")
            (root / "latency").mkdir()
            result["latency"] = latency(root / "latency", args.docs, args.rate)
            say(f"latency: {result['latency']}")
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

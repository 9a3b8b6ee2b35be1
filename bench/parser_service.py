"""CPU per document of one parser service (worker + its parse process) against the parse alone.

    python -m bench.parser_service --docs 300 [--runs 3] [--profile DIR]

Each run starts its own Redis (`shared.redis_server`, never the machine's), stores the generated corpus
as blobs, starts `minutes service parser` as a process, warms it up with a few documents, then publishes
the measured documents as ingest does and waits until the parser group has read and acknowledged every
one. CPU is utime+stime from /proc of the service and all its descendants (the forkserver and the parse
child), read after the warm-up and after the batch, so start-up is not counted. The parse alone is
`parse_document` in this process over the same documents (CPU time, warm; the mean of a pass before and
one after the service run). The overhead is what the service spends beyond the parse, as a share of
the parse. On a loaded machine single runs scatter (the parse process's CPU differs from the in-process
parse by up to ±1 ms a document): quote medians of several runs.

`--profile DIR` runs the service under cProfile counting CPU time (not wall time), on only while the
measured batch runs (SIGUSR1 starts it, SIGUSR2 writes DIR/parser.prof); the CPU figures of such a run
include the profiler's cost and are not comparable. The parse process is not profiled: its work beyond
the parse is the reply's serialisation (see `services.parser.pool._parse`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis

from bench.corpus import GeneratedDoc, generate_corpus
from shared import streams
from shared.blobs import open_blob_store, sha256_hex
from shared.contracts.events import DocumentReceived
from shared.redis_server import RedisServer
from shared.settings import Settings

_TICK = os.sysconf("SC_CLK_TCK")
WARMUP = 8
# Runs the service with a CPU-time profiler that SIGUSR1 enables and SIGUSR2 stops and dumps.
_PROFILED = """
import cProfile, runpy, signal, sys, time
prof, out = cProfile.Profile(time.process_time), sys.argv.pop(1)
signal.signal(signal.SIGUSR1, lambda *_: prof.enable())
def _dump(*_):
    prof.disable()
    prof.dump_stats(out)
signal.signal(signal.SIGUSR2, _dump)
sys.argv[0] = "minutes"
runpy.run_module("minutes_cli.main", run_name="__main__")
"""


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, utime+stime in ticks) of a live process; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12])


def tree_cpu(root: int) -> dict[int, int]:
    """CPU ticks of `root` and every live descendant, by pid."""
    stats: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (found := _stat(int(name))) is not None:
            stats[int(name)] = found
    out, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        if pid in stats:
            out[pid] = stats[pid][1]
            frontier.extend(p for p, (ppid, _) in stats.items() if ppid == pid)
    return out


def parse_only_ms(docs: Sequence[GeneratedDoc]) -> float:
    """CPU ms per document of `parse_document` alone, warm, in this process."""
    from services.parser.core import parse_document

    for doc in docs[:3]:
        parse_document(doc.data, doc.name)
    started = time.process_time()
    for doc in docs:
        parse_document(doc.data, doc.name)
    return (time.process_time() - started) * 1000 / len(docs)


def _received(doc: GeneratedDoc, ref: str) -> DocumentReceived:
    return DocumentReceived(
        document_id=sha256_hex(doc.data), original_name=doc.name, size=len(doc.data),
        content_type="application/pdf" if doc.name.endswith(".pdf") else "text/plain", blob_ref=ref, source="bench",
    )


async def _publish(url: str, events: Sequence[DocumentReceived]) -> None:
    """Publish as ingest does: FastStream's envelope, pipelined."""
    from faststream.redis import RedisBroker

    broker = RedisBroker(url)
    await broker.connect()
    try:
        client = await broker.connect()
        for i in range(0, len(events), 200):
            async with client.pipeline(transaction=False) as pipe:
                for event in events[i : i + 200]:
                    await broker.publish(event, stream=streams.DOCUMENTS, pipeline=pipe)
                await pipe.execute()
    finally:
        await broker.stop()


def _wait_done(client: Any, total: int, timeout_s: float) -> None:
    """Until the parser group has read `total` entries and has none pending."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        groups = client.xinfo_groups(streams.DOCUMENTS)
        group = next((g for g in groups if g["name"] in (streams.PARSER_GROUP, streams.PARSER_GROUP.encode())), None)
        if group is not None and group["entries-read"] == total and group["pending"] == 0:
            return
        time.sleep(0.02)
    raise RuntimeError(f"the parser did not finish {total} documents in {timeout_s:g} s")


def _wait_reader(client: Any, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if any(c.get("cmd") == "xreadgroup" for c in client.client_list()):
            return
        time.sleep(0.05)
    raise RuntimeError("the parser service never started reading")


def run_service(docs: Sequence[GeneratedDoc], warmup: Sequence[GeneratedDoc], workdir: Path,
                profile: Path | None = None) -> dict[str, Any]:
    """One service run: CPU ms per document of the service's process tree, net of start-up and warm-up."""
    server = RedisServer(workdir / "redis", appendonly=False)
    url = server.start()
    settings = Settings(data_dir=workdir / "data", redis_url=url)
    blobs = open_blob_store(settings)
    events = [_received(d, blobs.put(d.data)) for d in [*warmup, *docs]]
    env = {**os.environ, "MINUTES_DATA_DIR": str(settings.data_dir), "MINUTES_REDIS_URL": url,
           "MINUTES_LOG_FORMAT": "json"}
    command = ["-c", _PROFILED, str(profile / "parser.prof")] if profile else ["-m", "minutes_cli.main"]
    log = (workdir / "parser.log").open("wb")
    proc = subprocess.Popen([sys.executable, *command, "service", "parser"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    client: Any = redis.Redis.from_url(url, decode_responses=True)
    try:
        _wait_reader(client)
        asyncio.run(_publish(url, events[: len(warmup)]))
        _wait_done(client, len(warmup), 120)
        if profile:
            proc.send_signal(signal.SIGUSR1)
        before = tree_cpu(proc.pid)
        started = time.perf_counter()
        asyncio.run(_publish(url, events[len(warmup) :]))
        _wait_done(client, len(events), 600)
        elapsed = time.perf_counter() - started
        after = tree_cpu(proc.pid)
        if profile:
            proc.send_signal(signal.SIGUSR2)
            time.sleep(1.0)
        dead = client.xlen(streams.DEAD_LETTER)
        emitted = client.xlen(streams.ITEMS)
    finally:
        client.close()
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        server.stop()
    ticks = sum(after[p] - before.get(p, 0) for p in after)
    worker = after.get(proc.pid, 0) - before.get(proc.pid, 0)
    return {
        "service_ms": ticks * 1000 / _TICK / len(docs),
        "worker_ms": worker * 1000 / _TICK / len(docs),
        "children_ms": (ticks - worker) * 1000 / _TICK / len(docs),
        "docs_per_s": len(docs) / elapsed,
        "replaced_processes": sorted(set(before) - set(after)),
        "dead_letters": dead,
        "items_stream_entries": emitted,
    }


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--docs", type=int, default=300)
    args.add_argument("--runs", type=int, default=3)
    args.add_argument("--seed", type=int, default=0)
    args.add_argument("--pdf-share", type=float, default=0.1)
    args.add_argument("--profile", type=Path, default=None, help="cProfile the service into this folder (1 run).")
    args.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
    opts = args.parse_args(argv)
    corpus = generate_corpus(WARMUP + opts.docs, opts.seed, opts.pdf_share)
    warmup, docs = corpus[:WARMUP], corpus[WARMUP:]
    runs = 1 if opts.profile else opts.runs
    parse, service = [], []
    for n in range(runs):
        before = parse_only_ms(docs)
        with tempfile.TemporaryDirectory(prefix="bench-parser-") as tmp:
            if opts.profile:
                opts.profile.mkdir(parents=True, exist_ok=True)
            service.append(run_service(docs, warmup, Path(tmp), opts.profile))
        # Before and after the service run: on a shared machine the parse's own speed drifts within minutes.
        parse.append((before + parse_only_ms(docs)) / 2)
        say(f"run {n + 1}: parse {parse[-1]:.2f} ms/doc, service {service[-1]['service_ms']:.2f} ms/doc "
            f"(worker {service[-1]['worker_ms']:.2f}, parse process {service[-1]['children_ms']:.2f})")
    parse_ms = statistics.median(parse)
    service_ms = statistics.median(r["service_ms"] for r in service)
    result = {
        "documents": opts.docs,
        "runs": runs,
        "parse_only_ms_per_doc": round(parse_ms, 2),
        "service_ms_per_doc": round(service_ms, 2),
        "worker_ms_per_doc": round(statistics.median(r["worker_ms"] for r in service), 2),
        "parse_process_ms_per_doc": round(statistics.median(r["children_ms"] for r in service), 2),
        "overhead_ms_per_doc": round(service_ms - parse_ms, 2),
        "overhead_ratio": round((service_ms - parse_ms) / parse_ms, 3),
        "service_docs_per_s": round(statistics.median(r["docs_per_s"] for r in service), 1),
        "events_per_doc": round(service[-1]["items_stream_entries"] / (len(corpus)), 2),
        "dead_letters": service[-1]["dead_letters"],
        "replaced_processes": service[-1]["replaced_processes"],
    }
    if opts.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

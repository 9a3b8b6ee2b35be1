"""`minutes bench` / `python -m bench`: corpus, ceilings, then the real pipeline under backfill and steady load."""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import platform
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench import ceilings, corpus, parse_speed, pipeline, report, search

# Warm-up documents come from far beyond any corpus index, so they never collide with measured ones.
WARMUP_START = 10_000_000


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="minutes bench", description=__doc__)
    p.add_argument("--docs", type=int, default=2000, help="documents in the corpus (backfill phase)")
    p.add_argument("--parsers", type=int, default=2, help="parser worker processes")
    p.add_argument("--stores", type=int, default=1, help="store worker processes")
    p.add_argument("--rate", type=float, default=20.0, help="documents per second in the steady phase")
    p.add_argument("--duration", type=float, default=60.0, help="seconds of steady load")
    p.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite", help="database of the store")
    p.add_argument("--database-url", default=None, help="PostgreSQL server for --store postgres "
                   "(default: MINUTES_DATABASE_URL); a scratch database is created and dropped per run")
    p.add_argument("--seed", type=int, default=0, help="corpus seed")
    p.add_argument("--pdf-share", type=float, default=0.1, help="share of PDF documents")
    p.add_argument("--stall", type=float, default=60.0, help="give up a phase after this long without progress")
    p.add_argument("--workdir", type=Path, default=None, help="keep data and service logs here (default: temp)")
    p.add_argument("--search-items", type=int, default=30_000,
                   help="items in the store for the search-latency measurement (0: skip it)")
    p.add_argument("--search-only", action="store_true",
                   help="only generate and parse the corpus and measure search latency (no pipeline phases)")
    p.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    return p


def say(msg: str) -> None:
    """Progress on stderr, so stdout stays one JSON line with --json."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Every measurement of one benchmark run, as one dict with stable keys."""
    steady_n = max(1, math.ceil(args.rate * args.duration))
    t = time.perf_counter()
    docs = corpus.generate_corpus(max(args.docs, steady_n), args.seed, args.pdf_share)
    warmup = corpus.generate_corpus(2 * args.parsers, args.seed, 0.5, start=WARMUP_START)
    gen_s = time.perf_counter() - t
    backfill_docs = docs[: args.docs]
    say(f"corpus: {len(docs)} documents in {gen_s:.1f} s; parse-only ceiling")

    parse, parsed = ceilings.parse_ceiling(backfill_docs)
    say(f"parse-only {parse['docs_per_s']} docs/s; broker-only ceiling")
    broker = ceilings.broker_ceiling(ceilings.pipeline_messages(parsed), workdir)
    say(f"broker-only {broker['messages_per_s']} msg/s; store-only ceiling")
    postgres_url = args.database_url or _settings_database_url()
    store = ceilings.store_ceiling(parsed, workdir, args.store, postgres_url)
    say(f"store-only {store['meetings_per_s']} meetings/s; search latency on {args.search_items} items")
    searched = _search(args, parsed, workdir, postgres_url)
    say("parse-only on the real corpus")
    real = parse_speed.real_corpus(3)
    say(f"real corpus parsed; pipeline backfill of {len(backfill_docs)} documents")

    parser_counts = {p.document_id: len(p.meeting.decisions) for p in parsed}
    # In the main thread, so a SIGTERM (turned into SystemExit) unwinds through the phase and stops its Stack.
    with ceilings.fresh_database(args.store, workdir, "backfill", postgres_url) as url:
        setup = pipeline.PhaseSetup(workdir, url, args.parsers, args.stores, warmup, args.stall, parser_counts)
        backfill = pipeline.run_backfill(setup, backfill_docs)
    say(f"backfill {backfill['docs_per_s']} docs/s; steady load {args.rate}/s for {args.duration:g} s")
    with ceilings.fresh_database(args.store, workdir, "steady", postgres_url) as url:
        setup = pipeline.PhaseSetup(workdir, url, args.parsers, args.stores, warmup, args.stall, parser_counts)
        steady = pipeline.run_steady(setup, docs[:steady_n], args.rate)
    result: dict[str, Any] = {
        "schema": "minutes-bench/1",
        "config": {"docs": args.docs, "parsers": args.parsers, "stores": args.stores, "rate": args.rate,
                   "duration_s": args.duration, "store": args.store, "seed": args.seed, "pdf_share": args.pdf_share},
        "machine": {"cpu_count": os.cpu_count(), "cpus_usable": len(os.sched_getaffinity(0)),
                    "python": platform.python_version(), "platform": platform.platform()},
        "corpus": {
            "documents": len(backfill_docs),
            "pdfs": sum(d.name.endswith(".pdf") for d in backfill_docs),
            "mb": round(sum(len(d.data) for d in backfill_docs) / 1e6, 2),
            "items": sum(d.expected_items for d in backfill_docs),
            "decisions": sum(d.expected_decisions for d in backfill_docs),
            "parser_mismatches": parse["mismatches"],
            "parser_mismatched_documents": parse["mismatched_documents"],
            "generate_s": round(gen_s, 2),
        },
        "ceilings": {"parse": parse, "broker": broker, "store": store},
        "search": searched,
        "real_corpus": real,
        "backfill": backfill,
        "steady": steady,
    }
    return report.derive(result)


def _search(args: argparse.Namespace, parsed: list[ceilings.Parsed], workdir: Path,
            postgres_url: str | None) -> dict[str, Any] | None:
    if args.search_items <= 0:
        return None
    result = search.search_latency(parsed, workdir, args.store, postgres_url, items=args.search_items)
    lat = result["latency_ms"]
    say(f"search on {result['items']} items: p50 {lat['p50']} ms, p99 {lat['p99']} ms")
    return result


def run_search_only(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """`--search-only`: the corpus, its parse, and the search latency; nothing else."""
    docs = corpus.generate_corpus(args.docs, args.seed, args.pdf_share)
    say(f"corpus: {len(docs)} documents; parsing")
    _, parsed = ceilings.parse_ceiling(docs)
    say(f"filling a {args.store} store with {args.search_items} items")
    return {"schema": "minutes-bench-search/1", "config": {"docs": args.docs, "store": args.store,
            "seed": args.seed, "search_items": args.search_items},
            "search": _search(args, parsed, workdir, args.database_url or _settings_database_url())}


def _settings_database_url() -> str | None:
    from shared.settings import Settings

    return Settings().database_url


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every document's decisions arrived in both phases."""
    args = _parser().parse_args(argv)
    if args.pdf_share > 0 and importlib.util.find_spec("fpdf") is None:
        # fpdf2 renders the corpus's PDFs; it comes with the dev environment, not the runtime one.
        sys.stderr.write("minutes bench: PDFs need fpdf2 — run `./dev bench`, or pass --pdf-share 0\n")
        return 2
    # A SIGTERM (test timeout, Ctrl-C of a wrapper) unwinds like Ctrl-C, so running Stacks are stopped.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from shared.logging import configure_logging

    # Our own process logs only problems; the services' logs go to files under the work dir.
    configure_logging("WARNING", "auto")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="minutes-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.search_only:
        only = run_search_only(args, workdir.resolve())
        if sys.stdout.isatty() or not args.json:
            report.render_search(only["search"])
        if args.json:
            print(report.to_json(only), flush=True)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
        return 0
    try:
        result = run(args, workdir.resolve())
    except pipeline.PipelineStalled as exc:
        print(f"[bench] {exc}; diagnostics: {exc.diagnostics}; work dir kept: {workdir}", file=sys.stderr)
        return 2
    if sys.stdout.isatty() or not args.json:
        report.render(result)
    if args.json:
        print(report.to_json(result), flush=True)
    if result["ok"] and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    elif not result["ok"]:
        print(f"[bench] incomplete run; data and service logs kept in {workdir}", file=sys.stderr)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory of `minutes export` against the number of rows: an export streams, so it stays flat.

    python -m bench.export_memory [--docs 200 2000] [--formats jsonl csv parquet oparl]

For each corpus size, generates the `minutes bench` corpus (text only), stores it through the store's code
path into a fresh SQLite data dir, then runs `minutes export --format F -o FILE` as a child process per
format and reads the child's peak RSS (`VmHWM` of its own address space, read as it exits: `ru_maxrss` of a
child would include the forked parent's pages). Prints one line per run and a JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpus import generate_corpus
from services.parser.core import parse_document
from services.parser.events import meeting_events
from services.store.db import create_engine, migrate
from services.store.repository import store_events
from shared.contracts.events import DocumentReceived, utcnow


async def fill(data_dir: Path, docs: int) -> tuple[int, int]:
    """Store `docs` generated documents; returns (items, decisions) stored."""
    url = f"sqlite+aiosqlite:///{data_dir / 'minutes.db'}"
    await migrate(url)
    engine = create_engine(url)
    items = decisions = 0
    try:
        batch: list[Any] = []
        for n, doc in enumerate(generate_corpus(docs, seed=7, pdf_share=0.0)):
            digest = hashlib.sha256(doc.data).hexdigest()
            received = DocumentReceived(
                document_id=digest, original_name=doc.name, size=len(doc.data), content_type="text/plain",
                blob_ref=f"file:///bench/{digest}", received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
            batch.extend(meeting_events(received, parse_document(doc.data, doc.name)))
            items, decisions = items + doc.expected_items, decisions + doc.expected_decisions
            if len(batch) >= 2000 or n == docs - 1:
                async with engine.begin() as conn:
                    await store_events(conn, batch, now=utcnow(), public_base_url="minutes://items/")
                batch = []
    finally:
        await engine.dispose()
    return items, decisions


# The CLI in a child that reports its own high-water mark (kB) on stderr as it exits.
_CHILD = (
    "import atexit, sys\n"
    "def _hwm():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            sys.stderr.write('VmHWM ' + line.split()[1] + '\\n')\n"
    "atexit.register(_hwm)\n"
    "from minutes_cli.main import main\n"
    "sys.argv[0] = 'minutes'\n"
    "main()\n"
)


def measure(data_dir: Path, fmt: str, rows: str, out: Path) -> dict[str, Any]:
    """Run one export as a child; its wall time, output size and peak RSS."""
    args = [sys.executable, "-c", _CHILD, "export", "--format", fmt, "--rows", rows,
            "-o", str(out), "--data", str(data_dir)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINUTES_")}
    start = time.monotonic()
    done = subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.monotonic() - start
    if done.returncode != 0:
        raise SystemExit(f"export failed ({done.returncode}): {done.stderr}")
    hwm = [int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("VmHWM ")]
    said = [line for line in done.stderr.splitlines() if not line.startswith("VmHWM ")]
    return {"format": fmt, "rows": rows, "seconds": round(wall, 2), "bytes": out.stat().st_size,
            "peak_rss_mb": round(hwm[-1] / 1024, 1), "said": " ".join(said)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--formats", nargs="+", default=["jsonl", "csv", "parquet", "oparl"])
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="minutes-export-bench-") as tmp:
        for docs in args.docs:
            data_dir = Path(tmp) / f"data-{docs}"
            data_dir.mkdir()
            items, decisions = asyncio.run(fill(data_dir, docs))
            for fmt in args.formats:
                for rows in (["decisions", "items"] if fmt != "oparl" else ["items"]):
                    got = measure(data_dir, fmt, rows, Path(tmp) / f"out-{docs}.{fmt}")
                    got.update(docs=docs, items=items, decisions=decisions)
                    results.append(got)
                    print(f"{docs:>6} docs {items:>7} items {fmt:>8} {rows:>9}: {got['seconds']:>6} s, "
                          f"{got['bytes'] / 1e6:>7.1f} MB, peak RSS {got['peak_rss_mb']} MB", flush=True)
    print(json.dumps({"export_memory": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

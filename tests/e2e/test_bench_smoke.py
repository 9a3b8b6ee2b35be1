"""Smoke run of `minutes bench` so it cannot rot: tiny corpus, short steady phase, JSON checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_bench_smoke(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench", "--docs", "30", "--duration", "3", "--rate", "5", "--stall", "30",
         "--search-items", "600", "--json", "--workdir", str(tmp_path)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        # SIGTERM first: the benchmark then stops the services it started instead of orphaning them.
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"benchmark smoke run timed out; stderr tail:\n{err[-4000:]}")
    assert proc.returncode == 0, err[-4000:]
    result = json.loads(out.strip().splitlines()[-1])

    for key in ("schema", "config", "machine", "corpus", "ceilings", "search", "real_corpus", "backfill", "steady",
                "peak_rss_mb", "ratios", "targets", "ok", "cpu_ms_per_doc"):
        assert key in result, key
    real = {row["file"]: row for row in result["real_corpus"]}
    # One row per real document as published (PDF, HTML, JSON, XML, DOCX), refusals included.
    assert set(real) == {p.name for p in (ROOT / "tests/fixtures/corpus/real/docs").iterdir()}
    assert real["aarhus-byraad-2025-08-27-referat.pdf"]["pages"] == 28
    assert real["aarhus-byraad-2025-08-27-referat.pdf"]["ms_per_page"] > 0
    assert set(result["ceilings"]) == {"parse", "broker", "store"}
    assert result["corpus"]["parser_mismatches"] == 0

    for phase in ("backfill", "steady"):
        figures = result[phase]
        assert figures["complete"], figures.get("diagnostics")
        assert figures["missing_count"] == 0
        assert figures["decisions_received"] == figures["decisions_expected"] > 0
    assert result["backfill"]["decisions_expected"] == result["corpus"]["decisions"]
    assert result["steady"]["documents"] == 15

    assert result["ceilings"]["parse"]["docs_per_s"] > 0
    assert result["ceilings"]["broker"]["messages_per_s"] > 0
    assert result["ceilings"]["store"]["meetings_per_s"] > 0
    assert result["backfill"]["docs_per_s"] > 0
    assert result["backfill"]["decisions_per_s"] > 0
    lat = result["steady"]["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert set(result["steady"]["stages_ms"]) == {"ingest", "parse", "store", "relay", "subscriber"}

    assert {"redis", "ingest", "parser-1", "parser-2", "store-1"} <= set(result["peak_rss_mb"])

    search = result["search"]
    assert search["items"] >= 600  # the 30 documents stored again as further meetings until there are enough
    assert 0 < search["latency_ms"]["p50"] <= search["latency_ms"]["p99"]
    assert search["first_page_hits"]["godkendt"] == search["page_size"]
    assert search["matching_decisions"]["godkendt"] > search["page_size"]
    assert all(p["rss_mb"] > 0 for p in result["peak_rss_mb"].values())
    assert result["ratios"]["backfill_vs_parse"] > 0

    # CPU per document, per service and summed, for each measured phase (start-up and warm-up left out).
    cpu = result["cpu_ms_per_doc"]
    assert set(cpu) == {"backfill", "steady"}
    assert cpu["backfill"]["documents"] == 30 and cpu["steady"]["documents"] == 15
    for phase, figures in cpu.items():
        parts = figures["services"]
        assert {"redis", "ingest", "parser-1", "parser-2", "store-1"} <= set(parts), phase
        assert all(ms >= 0 for ms in parts.values()), (phase, parts)
        assert figures["total"] > 0, phase
        assert figures["total"] == pytest.approx(sum(parts.values()), abs=0.011), (phase, figures)
    # 30 documents are enough work for every service on the documents' path to show CPU time (clock ticks
    # are 10 ms); alerts, with no subscription to match, spends ~0.3 ms a document: under one tick here.
    assert all(ms > 0 for name, ms in cpu["backfill"]["services"].items() if not name.startswith("alerts")), \
        cpu["backfill"]
    assert "backfill_cpu_ms_per_doc" in result["targets"]
    assert "cpu_ms_per_doc" not in result["backfill"]  # reported once, at the top level
    assert result["machine"]["cpu_count"] >= 1

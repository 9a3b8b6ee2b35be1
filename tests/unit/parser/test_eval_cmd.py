"""`minutes eval GOLD_DIR DOCS_DIR`, run as a user runs it: the real corpus, and a gold with a wrong value."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

REAL = Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "real"
MINUTES = [sys.executable, "-m", "minutes_cli.main"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*MINUTES, "eval", *args], capture_output=True, text=True, timeout=120, check=False)


def test_eval_scores_the_real_corpus_and_passes_its_bar() -> None:
    result = _run(str(REAL / "gold"), str(REAL / "docs"), "--min", "0.97")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("score ")
    golds = sorted((REAL / "gold").glob("*.json"))
    files = {json.loads(g.read_text(encoding="utf-8"))["file"] for g in golds}
    assert sum(1 for line in lines if line.split(": ")[0] in files) == len(golds)


def test_eval_shows_gold_beside_parsed_and_fails_below_the_bar(tmp_path: Path) -> None:
    gold_dir = tmp_path / "gold"
    gold_dir.mkdir()
    name = "syddjurs-plan-udvikling-kultur-2013-06-20-referat.json"
    gold = json.loads((REAL / "gold" / name).read_text(encoding="utf-8"))
    gold["items"][0]["title"] = ["En helt anden titel"]
    gold["start_time"] = "09:00"
    (gold_dir / name).write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    result = _run(str(gold_dir), str(REAL / "docs"), "--min", "1.0")
    assert result.returncode == 1
    assert "FAIL item 715 title" in result.stdout
    assert "gold:   [\"En helt anden titel\"]" in result.stdout
    assert "parsed: 'Kulturkommune 2017. Politiske fokusområder'" in result.stdout
    assert "gold:   '09:00'" in result.stdout and "parsed: '10:30'" in result.stdout
    assert "score 0.867 (13/15 checks)" in result.stdout

    as_json = _run(str(gold_dir), str(REAL / "docs"), "--json")
    report = json.loads(as_json.stdout)
    assert (report["passed"], report["checks"]) == (13, 15)
    failed = {f["check"]: (f["gold"], f["parsed"]) for f in report["documents"][0]["failed"]}
    assert failed["start_time"] == ("09:00", "10:30")


def test_eval_reports_a_refused_document_and_a_missing_gold_folder(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    gold_dir = tmp_path / "gold"
    docs.mkdir()
    gold_dir.mkdir()
    shutil.copy(REAL / "docs" / "elev-sogneraad-1942-forhandlingsprotokol-historisk.pdf", docs / "protocol.pdf")
    gold = json.loads((REAL / "gold" / "syddjurs-plan-udvikling-kultur-2013-06-20-referat.json").read_text("utf-8"))
    gold["file"] = "protocol.pdf"
    (gold_dir / "protocol.json").write_text(json.dumps(gold), encoding="utf-8")
    result = _run(str(gold_dir), str(docs))
    assert "rejected: no agenda items" in result.stdout
    assert "1 of 1 documents refused" in result.stdout
    assert "protocol.pdf: rejected: no agenda items and no meeting header" in result.stdout
    as_json = json.loads(_run(str(gold_dir), str(docs), "--json").stdout)
    assert as_json["refused"] == [{"file": "protocol.pdf", "reason": as_json["documents"][0]["error"]}]
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = _run(str(empty), str(docs))
    assert nothing.returncode == 2
    assert "no gold files" in nothing.stdout + nothing.stderr

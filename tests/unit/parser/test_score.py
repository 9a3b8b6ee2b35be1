"""The gold scorer over the seeds, run exactly as CI and the lead run it."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_seed_score_reaches_the_bar() -> None:
    cmd = f"{shlex.quote(sys.executable)} -m minutes_cli.parse_main {{file}} --json"
    result = subprocess.run(
        [sys.executable, "tests/fixtures/score_minutes.py", "--gold", "tests/fixtures/corpus/gold",
         "--docs", "tests/fixtures/corpus/seeds", "--cmd", cmd, "--min", "0.99"],
        cwd=ROOT, capture_output=True, text=True, timeout=240, check=False,
    )
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("score "), result.stdout + result.stderr
    score = float(last.split()[1])
    assert score >= 0.99, result.stdout
    assert result.returncode == 0

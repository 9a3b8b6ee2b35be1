"""`minutes ingest` as a real process beside a running pipeline: the parser's rejections count as rejected."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SEEDS
from tests.e2e.bad_inputs import PNG
from tests.e2e.harness import make_stack, wait_for
from tests.integration.cli.helpers import run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def test_ingest_counts_the_parsers_rejections_of_this_run(tmp_path: Path) -> None:
    stack = make_stack(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}")
    stack.start()
    try:
        wait_for(stack.ingest_ready.is_set, 60, "ingest watching")
        archive = tmp_path / "archive"
        archive.mkdir()
        seeds = sorted(SEEDS.glob("*.txt"))[:2]
        for seed in seeds:
            (archive / seed.name).write_bytes(seed.read_bytes())
        (archive / "photo.png").write_bytes(PNG)
        done = run_cli(
            ["ingest", str(archive), "--data", str(stack.settings.data_dir)], tmp_path, timeout=120, COLUMNS="250"
        )
        assert done.returncode == 1, done.stderr
        out = done.stderr
        assert "rejected by the parser" in out
        assert "photo.png" in out and "parser:" in out
        rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in out.splitlines()
                if line.count("│") >= 3}
        assert rows["new documents"] == str(len(seeds))
        assert rows["total"] == str(len(seeds) + 1)
        # One log line per file would drown the progress bar: per-file lines are DEBUG only.
        assert "document received" not in out
    finally:
        stack.stop()

"""`minutes search` as a real process on a SQLite store filled from the seeds and the real corpus."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli.helpers import run_cli
from tests.integration.store.export_helpers import filled_data_dir

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("search") / "data"
    filled_data_dir(path)
    return path


def test_json_hits_with_snippets_and_filters(data: Path, tmp_path: Path) -> None:
    done = run_cli(["search", "fleksjobbet", "--json", "--data", str(data)], tmp_path)
    assert done.returncode == 0, done.stderr
    hits = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(hits) >= 3
    assert all("<mark>fleksjob" in h["snippet"].lower() for h in hits)
    assert all(h["provenance"]["original_name"] and h["provenance"]["blob_ref"] for h in hits)
    lemvig = run_cli(["search", "fleksjobbet", "--municipality", "lemvig", "--data", str(data)], tmp_path)
    lemvig_hits = [json.loads(line) for line in lemvig.stdout.splitlines()]
    assert lemvig_hits and {h["municipality"] for h in lemvig_hits} == {"Lemvig"}
    assert len(lemvig_hits) < len(hits)
    limited = run_cli(["search", "godkendt", "--limit", "2", "--data", str(data)], tmp_path)
    assert len(limited.stdout.splitlines()) == 2


def test_bad_queries_and_options_are_short_errors(data: Path, tmp_path: Path) -> None:
    only_exclusion = run_cli(["search", "--data", str(data), "--", "-fleksjob"], tmp_path)
    assert only_exclusion.returncode == 2
    assert "exclusions only" in only_exclusion.stderr and "Traceback" not in only_exclusion.stderr
    bad_kle = run_cli(["search", "skole", "--kle", "1", "--data", str(data)], tmp_path)
    assert bad_kle.returncode == 2 and "NN.NN" in bad_kle.stderr
    missing = run_cli(["search", "skole", "--data", str(tmp_path / "nowhere")], tmp_path)
    assert missing.returncode == 2 and "no data dir" in missing.stderr

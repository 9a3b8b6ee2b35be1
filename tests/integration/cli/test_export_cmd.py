"""`minutes export` as a real process on a data dir filled from the corpus: every format, -o, filters, refusals."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.integration.cli.helpers import cli_env, run_cli
from tests.integration.store.export_helpers import filled_data_dir, gold

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

# A `minutes` process on a loaded 2-core machine can take a minute just to start: generous, never tight.
SLOW = 240


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "data"
    filled_data_dir(path)
    return path


DECIDED = sum(1 for d in gold() for item in d["items"] if item["outcome"] != ["none"])
ITEMS = sum(len(d["items"]) for d in gold())


def run_bytes(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "minutes_cli.main", *args], cwd=cwd, env=cli_env(**env), capture_output=True,
        timeout=SLOW,
    )


def test_jsonl_to_stdout_has_every_decision(data: Path, tmp_path: Path) -> None:
    done = run_cli(["export", "--format", "jsonl", "--data", str(data)], tmp_path, timeout=SLOW)
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(rows) == DECIDED
    assert len({r["event_id"] for r in rows}) == DECIDED


def test_csv_of_items_into_a_file(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "items.csv"
    args = ["export", "-f", "csv", "--rows", "items", "-o", str(out), "--data", str(data)]
    done = run_cli(args, tmp_path, timeout=SLOW)
    assert done.returncode == 0, done.stderr
    assert f"wrote {ITEMS} items to {out}" in done.stderr
    assert done.stdout == ""
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))) == ITEMS
    assert list(tmp_path.iterdir()) == [out]  # no .partial left behind


def test_csv_for_a_danish_spreadsheet_has_a_bom_and_semicolons(data: Path, tmp_path: Path) -> None:
    """--excel: the same rows, framed the way Danish Excel opens a CSV by double-click (UTF-8 BOM, `;`)."""
    plain, excel = tmp_path / "plain.csv", tmp_path / "excel.csv"
    for out, extra in ((plain, []), (excel, ["--excel"])):
        done = run_cli(["export", "-f", "csv", "--rows", "items", "-o", str(out), *extra, "--data", str(data)],
                       tmp_path, timeout=SLOW)  # fmt: skip
        assert done.returncode == 0, done.stderr
    raw = excel.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfitem_id;document_id;") and not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    semicolon = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    comma = list(csv.DictReader(io.StringIO(plain.read_text(encoding="utf-8"), newline="")))
    assert len(semicolon) == ITEMS and semicolon == comma
    assert any(";" in value for row in comma for value in row.values())  # a cell with `;` survives, quoted
    refused = run_cli(["export", "-f", "jsonl", "--excel", "--data", str(data)], tmp_path, timeout=SLOW)
    assert refused.returncode == 2 and "--excel is for CSV" in refused.stderr


def test_parquet_into_a_file_and_into_a_pipe(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "decisions.parquet"
    done = run_bytes(["export", "--format", "parquet", "-o", str(out), "--data", str(data)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert pq.read_table(out).num_rows == DECIDED
    piped = run_bytes(["export", "--format", "parquet", "--data", str(data)], tmp_path)
    assert piped.returncode == 0, piped.stderr
    assert pq.read_table(io.BytesIO(piped.stdout)).num_rows == DECIDED


def test_parquet_is_refused_on_a_terminal(data: Path, tmp_path: Path) -> None:
    leader, follower = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "minutes_cli.main", "export", "--format", "parquet", "--data", str(data)],
        cwd=tmp_path, env=cli_env(), stdin=follower, stdout=follower, stderr=subprocess.PIPE,
    )
    os.close(follower)
    _, err = proc.communicate(timeout=SLOW)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.returncode == 2
    assert b"not written to a terminal" in err and b"-o FILE" in err
    assert b"PAR1" not in b"".join(chunks)


def test_oparl_with_a_filter_and_the_configured_base_url(data: Path, tmp_path: Path) -> None:
    done = run_cli(
        ["export", "--format", "oparl", "--municipality", "Greve", "--data", str(data)], tmp_path, timeout=SLOW,
        MINUTES_PUBLIC_API_URL="https://data.example.dk/minutes/",
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    greve = [d for d in gold() if d["file"].startswith("greve-")]
    assert len(doc["data"]) == len(greve)
    assert all(m["id"].startswith("https://data.example.dk/minutes/oparl/v1/meeting/") for m in doc["data"])


def test_bad_filters_and_a_missing_data_dir_get_short_errors(data: Path, tmp_path: Path) -> None:
    bad = run_cli(["export", "--format", "jsonl", "--kle", "1234", "--data", str(data)], tmp_path, timeout=SLOW)
    assert bad.returncode == 2 and "--kle takes NN, NN.NN or NN.NN.NN" in bad.stderr and "Traceback" not in bad.stderr
    missing = run_cli(["export", "--format", "csv", "--data", str(tmp_path / "nope")], tmp_path, timeout=SLOW)
    assert missing.returncode == 2 and "no data dir" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "nope").exists()


def test_a_reader_that_goes_away_ends_the_export_quietly(data: Path, tmp_path: Path) -> None:
    # The items export is far larger than a pipe's buffer: `head` closes the pipe while it is written.
    done = subprocess.run(
        f"{sys.executable} -m minutes_cli.main export --format jsonl --rows items --data {data} | head -n 1",
        shell=True, cwd=tmp_path, env=cli_env(), capture_output=True, text=True, timeout=SLOW,
        executable="/bin/bash",
    )
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "Broken pipe" not in done.stderr, done.stderr

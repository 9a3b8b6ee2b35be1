"""`minutes check` reads and hashes the stored documents' original files: one corrupted and one deleted on
disk under a running `minutes up` are both reported (exit status 1), and the read API and the web page stop
offering them; a restored one is offered again at the next check; `minutes up` still starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shared.blobs import LocalBlobStore
from tests.e2e.harness import drop_seeds, expected_decisions, make_stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def _check(tmp: Path, database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MINUTES_DATA_DIR": str(tmp / "data"), "MINUTES_DATABASE_URL": database_url,
           "MINUTES_REDIS_URL": ""}
    return subprocess.run([sys.executable, "-m", "minutes_cli.main", "check", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def test_a_corrupt_and_a_missing_blob_are_reported_and_no_longer_offered(tmp_path: Path, database_url: str) -> None:
    stack = make_stack(tmp_path, database_url, api=True)
    try:
        stack.start()
        base = stack.wait_api(120)
        assert base
        api = httpx.Client(base_url=base, timeout=30)
        want = len(expected_decisions())
        drop_seeds(stack.settings.inbox)
        wait_for(lambda: len(api.get("/api/v1/decisions", params={"limit": 200}).json()["items"]) >= want, 120,
                 f"{want} decisions")
        hits = api.get("/api/v1/decisions", params={"limit": 200}).json()["items"]
        docs = sorted({hit["document_id"] for hit in hits})
        assert len(docs) >= 3
        corrupt, missing, sound = docs[:3]
        clean = _check(tmp_path, database_url)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert f"blobs verified (sha256): all {len(docs)}, 0 missing or corrupt" in clean.stdout, clean.stdout

        blobs = LocalBlobStore(stack.settings.blobs_dir)
        original = blobs.path_for(missing).read_bytes()
        with blobs.path_for(corrupt).open("r+b") as handle:  # one byte flipped, as a failing disk does
            first = handle.read(1)
            handle.seek(0)
            handle.write(bytes([first[0] ^ 0xFF]))
        blobs.path_for(missing).unlink()

        found = _check(tmp_path, database_url)
        assert found.returncode == 1, found.stdout + found.stderr
        problems = [ln for ln in found.stdout.splitlines() if ln.startswith("PROBLEM")]
        assert len(problems) == 2, found.stdout
        assert any(corrupt[:16] in ln and "corrupt: its sha256 is" in ln for ln in problems), problems
        assert any(missing[:16] in ln and ln.endswith("missing; no longer offered") for ln in problems), problems

        def offered(doc: str) -> bool:
            body = api.get(f"/api/v1/documents/{doc}").json()
            assert body["blob_available"] is (body["download_url"] is not None)
            return bool(body["blob_available"])

        assert (offered(corrupt), offered(missing), offered(sound)) == (False, False, True)
        for doc, available in ((corrupt, False), (missing, False), (sound, True)):
            page = api.get(f"/meetings/{doc}").text  # the meeting's page, with its provenance
            assert (f"/api/v1/documents/{doc}/file" in page) is available, doc
            assert ("ikke tilgængelig" in page) is not available, doc

        # A sample reads only that many blobs.
        sampled = _check(tmp_path, database_url, "--blob-sample", "1")
        assert f"blobs verified (sha256): 1 of {len(docs)}" in sampled.stdout, sampled.stdout

        blobs.path_for(missing).write_bytes(original)  # restored from a backup
        again = _check(tmp_path, database_url)
        assert again.returncode == 1 and "1 missing or corrupt, 1 restored and offered again" in again.stdout, (
            again.stdout
        )
        assert (offered(corrupt), offered(missing)) == (False, True)
    finally:
        stack.stop()
    # A faulty original does not stop the pipeline: `minutes up` checks its state without the blobs.
    again_up = make_stack(tmp_path, database_url)
    try:
        again_up.start()
        wait_for(lambda: all(again_up.pid(name) for name in again_up.children), 60, "every service running")
    finally:
        again_up.stop()

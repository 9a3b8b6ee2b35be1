"""`minutes up` starts the web page and read API beside the pipeline and prints its URL; a dropped file's
decisions are there as soon as the store has them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.harness import drop_seeds, expected_decisions
from tests.integration.cli.helpers import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def test_up_prints_the_page_url_and_the_page_shows_dropped_decisions(tmp_path: Path) -> None:
    cli = Cli(
        ["up", "--data", str(tmp_path / "data"), "--inbox", str(tmp_path / "inbox"), "--parsers", "1",
         "--api-port", "0"],
        tmp_path,
        MINUTES_LOG_FORMAT="json",
    )
    try:
        cli.wait_for(lambda: any("minutes is up" in ln for ln in cli.err) or cli.proc.poll() is not None, 150, "up")
        line = next(ln for ln in cli.err if "minutes is up" in ln)
        found = re.search(r"open (http://127\.0\.0\.1:\d+/) in a browser", line)
        assert found, line
        base = found.group(1)
        page = httpx.get(base, timeout=10)
        assert page.status_code == 200 and "<h1>Søg i afgørelser</h1>" in page.text
        assert httpx.get(base + "readyz", timeout=10).json()["status"] == "ready"

        want = expected_decisions()
        dropped = time.monotonic()
        drop_seeds(tmp_path / "inbox")
        deadline = dropped + 90
        while True:
            body = httpx.get(base + "api/v1/decisions", params={"limit": 200}, timeout=10).json()
            if len(body["items"]) >= len(want) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        seen = time.monotonic() - dropped
        assert len(body["items"]) == len(want), f"{len(body['items'])} of {len(want)} decisions after {seen:.1f}s"
        print(f"every seed decision readable over the API {seen:.2f}s after the drop")
        names = {hit["provenance"]["original_name"] for hit in body["items"]}
        assert names == {file for file, _ in want}
        # The page itself lists them (no cache between the store and a refresh).
        listing = httpx.get(base, timeout=10).text
        assert f"{len(want)} afgørelser" in listing
        hit = body["items"][0]
        original = httpx.get(base + f"api/v1/documents/{hit['document_id']}/file", timeout=10)
        assert original.content == (Path(__file__).parents[1] / "fixtures/corpus/seeds" /
                                    hit["provenance"]["original_name"]).read_bytes()
    finally:
        cli.close()

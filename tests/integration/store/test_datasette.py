"""The SQLite store opens in Datasette as it is, with deploy/datasette/metadata.yml: each canned query answers
what a person reading the corpus (the gold files) would count, through Datasette's HTTP JSON API.

Datasette runs as the README documents it (`datasette serve DATA/minutes.db -m deploy/datasette/metadata.yml`)
on a free loopback port, against a store filled from the seeds and the real corpus by the pipeline's code path.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from shared.redis_server import free_port
from tests.conftest import dev_tool
from tests.integration.store.export_helpers import Filled, filled_data_dir, gold
from tests.servers import server_process

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

METADATA = Path(__file__).resolve().parents[3] / "deploy" / "datasette" / "metadata.yml"


@pytest.fixture(scope="module")
def datasette(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Filled]]:
    """`datasette serve` on the filled store; yields its base URL and what was stored."""
    data = tmp_path_factory.mktemp("ds") / "data"
    filled = filled_data_dir(data)
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        try:
            return httpx.get(f"{base}/-/metadata.json", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    with server_process(
        [dev_tool("datasette", "datasette"), "serve", str(data / "minutes.db"), "-m", str(METADATA),
         "-h", "127.0.0.1", "-p", str(port)],
        log=data.parent / "datasette.log", ready=answers, timeout=60, poll=0.2,
    ):  # fmt: skip
        yield base, filled


def query(base: str, name: str, **params: str) -> list[dict[str, Any]]:
    """Rows of a canned query through Datasette's JSON API (every row: `_size=max`)."""
    resp = httpx.get(f"{base}/minutes/{name}.json", params={"_shape": "array", "_size": "max", **params}, timeout=30)
    assert resp.status_code == 200, resp.text
    rows = resp.json()
    assert isinstance(rows, list), rows
    return rows


def _gold_decided(doc: dict[str, Any]) -> int:
    return sum(1 for item in doc["items"] if item["outcome"] != ["none"])


def test_every_canned_query_of_the_metadata_runs(datasette: tuple[str, Filled]) -> None:
    base, _ = datasette
    queries = yaml.safe_load(METADATA.read_text())["databases"]["minutes"]["queries"]
    params = {"municipality": "", "case_number": "", "text": "x"}
    assert len(queries) >= 5
    for name, spec in queries.items():
        needed = {p: v for p, v in params.items() if f":{p}" in spec["sql"]}
        query(base, name, **needed)
    published = httpx.get(f"{base}/-/metadata.json", timeout=10).json()
    assert published["title"].startswith("minutes")
    tables = {t["name"]: t for t in httpx.get(f"{base}/minutes.json", timeout=10).json()["tables"]}
    assert tables["outbox"]["hidden"] is True  # internal tables are hidden from the index page
    assert tables["decisions"]["hidden"] is False


def test_absences_per_member_match_the_gold_files(datasette: tuple[str, Filled]) -> None:
    base, _ = datasette
    items: collections.Counter[str] = collections.Counter()
    meetings: collections.Counter[str] = collections.Counter()
    for doc in gold():
        absent_here = [name for item in doc["items"] for name in item["absent"]]
        items.update(absent_here)
        meetings.update(set(absent_here))
    assert items, "the corpus has absences"
    rows = query(base, "absences_per_member")
    got_items: collections.Counter[str] = collections.Counter()
    got_meetings: collections.Counter[str] = collections.Counter()
    for row in rows:
        got_items[row["member"]] += row["items_absent"]
        got_meetings[row["member"]] += row["meetings_absent"]
    assert got_items == items
    assert got_meetings == meetings
    assert [r["items_absent"] for r in rows] == sorted((r["items_absent"] for r in rows), reverse=True)


def test_decisions_per_committee_per_month_add_up_to_the_gold(datasette: tuple[str, Filled]) -> None:
    base, _ = datasette
    per_month: collections.Counter[str] = collections.Counter()
    for doc in gold():
        per_month[doc["meeting_date"][:7]] += _gold_decided(doc)
    rows = query(base, "decisions_per_committee_per_month", municipality="")
    got: collections.Counter[str] = collections.Counter()
    for row in rows:
        got[row["month"]] += row["decisions"]
    assert got == +per_month  # months with decisions only
    months = [r["month"] for r in rows]
    assert months == sorted(months, reverse=True)
    greve = query(base, "decisions_per_committee_per_month", municipality="Greve")
    expected_greve = sum(_gold_decided(d) for d in gold() if d["file"].startswith("greve-"))
    assert {r["municipality"] for r in greve} == {"Greve"}
    assert sum(r["decisions"] for r in greve) == expected_greve


def _cases_across_meetings() -> dict[str, list[tuple[str, str]]]:
    treated: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for doc in gold():
        for item in doc["items"]:
            if item["case_number"]:
                treated[item["case_number"]].append((doc["meeting_date"], doc["file"]))
    return {case: sorted(seen) for case, seen in treated.items() if len({f for _, f in seen}) > 1}


def test_case_paths_follow_a_case_across_meetings_and_committees_in_date_order(
    datasette: tuple[str, Filled],
) -> None:
    base, _ = datasette
    expected = _cases_across_meetings()
    assert expected, "the corpus has cases treated at more than one meeting"
    paths = {row["case_number"]: row for row in query(base, "case_paths")}
    assert set(paths) == set(expected)
    for case, seen in expected.items():
        assert paths[case]["treatments"] == len(seen)
        assert paths[case]["first"] == seen[0][0] and paths[case]["last"] == seen[-1][0]
        rows = query(base, "case_path", case_number=case)
        assert [(r["meeting_date"], r["source"]) for r in rows] == seen
        # An agenda's treatment has no decision; a minutes' has the one the gold says it has.
        for row in rows:
            assert (row["decision"] is None) == (row["kind"] == "agenda")
    assert query(base, "case_path", case_number="no-such-case") == []


def test_meetings_overview_lists_each_stored_document_with_its_counts(datasette: tuple[str, Filled]) -> None:
    base, filled = datasette
    rows = {row["source"]: row for row in query(base, "meetings_overview")}
    assert set(rows) == set(filled.documents)
    for doc in gold():
        row = rows[doc["file"]]
        assert row["item_count"] == len(doc["items"])
        assert row["decisions"] == _gold_decided(doc)
        assert row["document_id"] == filled.documents[doc["file"]]
    assert sum(r["decisions"] for r in query(base, "outcomes_per_committee")) == sum(_gold_decided(d) for d in gold())


def test_decisions_containing_finds_a_gold_phrase(datasette: tuple[str, Filled]) -> None:
    base, _ = datasette
    phrase = next(
        item["decision_contains"]
        for doc in gold()
        for item in doc["items"]
        if item["decision_contains"] and len(item["decision_contains"]) > 12
    )
    rows = query(base, "decisions_containing", text=phrase)
    assert rows
    assert all(phrase.lower() in (r["decision"] + r["title"]).lower() for r in rows)

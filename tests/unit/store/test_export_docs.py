"""The Exports documentation (docs/exports.md) documents every export column and every Datasette canned query."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.store.exports.columns import DECISION_COLUMNS, ITEM_COLUMNS

ROOT = Path(__file__).resolve().parents[3]
SECTION = (ROOT / "docs" / "exports.md").read_text(encoding="utf-8").split("\n## Exports\n", 1)[1].split("\n## ", 1)[0]


def test_every_export_column_is_in_the_readme() -> None:
    missing = {c.name for c in (*DECISION_COLUMNS, *ITEM_COLUMNS) if f"`{c.name}`" not in SECTION}
    assert missing == set()


def test_every_canned_query_is_in_the_readme() -> None:
    metadata = yaml.safe_load((ROOT / "deploy" / "datasette" / "metadata.yml").read_text(encoding="utf-8"))
    queries = metadata["databases"]["minutes"]["queries"]
    assert {name for name in queries if f"`{name}`" not in SECTION} == set()

"""Names of the export formats and what they are served as: light to import (no pyarrow, no database)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Format(StrEnum):
    """Export formats."""

    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"
    oparl = "oparl"


class Rows(StrEnum):
    """What a flat export has one row per (OParl always exports meetings with their items)."""

    decisions = "decisions"
    items = "items"


@dataclass
class Counts:
    """What an export wrote so far: rows (decisions or items; items for OParl) and meetings (OParl)."""

    rows: int = 0
    meetings: int = 0


MEDIA_TYPES: dict[Format, str] = {
    Format.jsonl: "application/x-ndjson",
    Format.csv: "text/csv; charset=utf-8",
    Format.parquet: "application/vnd.apache.parquet",
    Format.oparl: "application/json",
}

_SUFFIX = {Format.jsonl: "jsonl", Format.csv: "csv", Format.parquet: "parquet", Format.oparl: "oparl.json"}


def filename(fmt: Format, rows: Rows = Rows.decisions) -> str:
    """A download name for an export: `minutes-decisions.csv`, `minutes-meetings.oparl.json`, …"""
    what = "meetings" if fmt is Format.oparl else rows.value
    return f"minutes-{what}.{_SUFFIX[fmt]}"

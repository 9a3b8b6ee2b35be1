"""The columns of the flat exports (jsonl, csv, parquet): one definition, three writers.

A row is a plain dict keyed by column name, built from the read API's models (`DecisionHit`,
`ItemWithMeeting`). Every writer writes exactly these columns in this order, so the formats agree with
each other and the README table is the whole contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.store.read_models import DecisionHit, ItemWithMeeting, Provenance


class Kind(StrEnum):
    """How a column's values are typed (and so how each writer renders them)."""

    STR = "string"
    INT = "int64"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "timestamp"
    LIST = "list<string>"
    # Nested data (sections, votes, history): native JSON in jsonl, JSON text in csv and parquet.
    JSON = "json"


@dataclass(frozen=True)
class Column:
    """One export column: its name, type and what it holds (for the README)."""

    name: str
    kind: Kind
    doc: str


def _source_columns() -> tuple[Column, ...]:
    return (
        Column("source_name", Kind.STR, "the source file's name as it was dropped"),
        Column("source_kind", Kind.STR, "`minutes` or `agenda`"),
        Column("source_page", Kind.INT, "PDF page (1-based) where the item starts; empty for other formats"),
        Column("source_received_at", Kind.DATETIME, "when ingest received the file (UTC)"),
        Column("source_url", Kind.STR, "download link of the original file on the read API; empty if not stored"),
        Column("source_current", Kind.BOOL, "the document is the current version of its meeting"),
        Column("source_superseded_by", Kind.STR, "document id of the version that replaced it, if any"),
    )


DECISION_COLUMNS: tuple[Column, ...] = (
    Column("event_id", Kind.STR, "id of the decision's `DecisionMade` event (stable per document version)"),
    Column("item_id", Kind.STR, "`{document_id}:{position}`, the stored agenda item"),
    Column("document_id", Kind.STR, "sha256 of the source file"),
    Column("municipality", Kind.STR, "municipality (empty for a region)"),
    Column("municipality_code", Kind.INT, "the municipality's official number"),
    Column("region", Kind.STR, "region (empty for a municipality)"),
    Column("committee", Kind.STR, "committee or council as printed"),
    Column("meeting_date", Kind.DATE, "date of the meeting"),
    Column("item_number", Kind.INT, "the item's number as printed"),
    Column("item_title", Kind.STR, "the item's title"),
    Column("case_number", Kind.STR, "case number (sagsnummer) as printed"),
    Column("kle", Kind.STR, "KLE subject `NN.NN.NN` read from an SBSYS-style case number"),
    Column("outcome", Kind.STR, "approved, recommended, noted, discussed, rejected, postponed or other"),
    Column("decision_text", Kind.STR, "the decision as printed"),
    Column("absent", Kind.LIST, "members absent for this item"),
    Column("stored_at", Kind.DATETIME, "when the store recorded the decision (UTC)"),
    *_source_columns(),
)

ITEM_COLUMNS: tuple[Column, ...] = (
    Column("item_id", Kind.STR, "`{document_id}:{position}`"),
    Column("document_id", Kind.STR, "sha256 of the source file"),
    Column("position", Kind.INT, "0-based order of the item in the document"),
    Column("number", Kind.INT, "the item's number as printed"),
    Column("title", Kind.STR, "the item's title"),
    Column("case_number", Kind.STR, "case number as printed"),
    Column("kle", Kind.STR, "KLE subject `NN.NN.NN`"),
    Column("is_closed", Kind.BOOL, "closed item (lukket punkt)"),
    Column("municipality", Kind.STR, "municipality (empty for a region)"),
    Column("municipality_code", Kind.INT, "the municipality's official number"),
    Column("region", Kind.STR, "region (empty for a municipality)"),
    Column("committee", Kind.STR, "committee or council as printed"),
    Column("meeting_date", Kind.DATE, "date of the meeting"),
    Column("outcome", Kind.STR, "outcome of the decision; empty when the item records none"),
    Column("decision_text", Kind.STR, "the decision as printed; empty when none"),
    Column("event_id", Kind.STR, "id of the decision's `DecisionMade` event; empty when no decision"),
    Column("absent", Kind.LIST, "members absent for this item"),
    Column("attachments", Kind.LIST, "attachment names (bilag)"),
    Column("sections", Kind.JSON, "`[{name, text}]`: the item's sections as printed"),
    Column("votes", Kind.JSON, "recorded vote (`in_favour`, `against`, `abstaining` and counts) or null"),
    Column("history", Kind.JSON, "`[{date, body, text}]`: earlier decisions on the case"),
    *_source_columns(),
)


def download_url(public_api_url: str, prov: Provenance) -> str | None:
    """The read API's link to the original file (`/api/v1/documents/{id}/file`), None if it has no blob."""
    if not prov.blob_available:
        return None
    return f"{public_api_url.rstrip('/')}/api/v1/documents/{prov.document_id}/file"


def _source(prov: Provenance, page: int | None, public_api_url: str) -> dict[str, Any]:
    return {
        "source_name": prov.original_name,
        "source_kind": prov.kind,
        "source_page": page,
        "source_received_at": prov.received_at,
        "source_url": download_url(public_api_url, prov),
        "source_current": prov.current,
        "source_superseded_by": prov.superseded_by,
    }


def decision_row(hit: DecisionHit, public_api_url: str) -> dict[str, Any]:
    """A `DecisionHit` as a row of DECISION_COLUMNS."""
    row: dict[str, Any] = {
        "event_id": hit.event_id,
        "item_id": hit.item_id,
        "document_id": hit.document_id,
        "municipality": hit.municipality,
        "municipality_code": hit.municipality_code,
        "region": hit.region,
        "committee": hit.committee,
        "meeting_date": hit.meeting_date,
        "item_number": hit.item_number,
        "item_title": hit.item_title,
        "case_number": hit.case_number,
        "kle": hit.kle,
        "outcome": hit.outcome.value,
        "decision_text": hit.decision_text,
        "absent": list(hit.absent),
        "stored_at": hit.stored_at,
    }
    row.update(_source(hit.provenance, hit.provenance.page, public_api_url))
    return row


def item_row(row: ItemWithMeeting, public_api_url: str) -> dict[str, Any]:
    """An `ItemWithMeeting` as a row of ITEM_COLUMNS."""
    item = row.item
    out: dict[str, Any] = {
        "item_id": item.id,
        "document_id": item.document_id,
        "position": item.position,
        "number": item.number,
        "title": item.title,
        "case_number": item.case_number,
        "kle": item.kle,
        "is_closed": item.is_closed,
        "municipality": row.municipality,
        "municipality_code": row.municipality_code,
        "region": row.region,
        "committee": row.committee,
        "meeting_date": row.meeting_date,
        "outcome": item.outcome.value if item.outcome is not None else None,
        "decision_text": item.decision_text,
        "event_id": item.event_id,
        "absent": list(item.absent),
        "attachments": list(item.attachments),
        "sections": [s.model_dump(mode="json") for s in item.sections],
        "votes": item.votes,
        "history": [h.model_dump(mode="json") for h in item.history],
    }
    out.update(_source(row.provenance, item.page if item.page is not None else row.provenance.page, public_api_url))
    return out


def iso_datetime(value: dt.datetime, *, seconds: bool = False) -> str:
    """In UTC with an explicit offset (`2025-08-27T14:03:05.123456+00:00`; naive values are taken as UTC).

    `seconds`: cut to whole seconds, as OParl's `date-time` wants them.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return (value.replace(microsecond=0) if seconds else value).isoformat()


RowMaker = Callable[[Any, str], dict[str, Any]]

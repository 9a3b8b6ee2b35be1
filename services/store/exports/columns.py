"""The columns of the flat exports (jsonl, csv, parquet): one definition, three writers.

A row is a plain dict keyed by column name, built from the read API's models (`DecisionHit`,
`ItemWithMeeting`) by each column's own `value`, so a column's name, type, doc and value are written once.
Every writer writes exactly these columns in this order, so the formats agree with
each other and the table in docs/exports.md is the whole contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from operator import attrgetter
from typing import Any

from services.readmodel.results import DecisionHit, ItemOut, ItemWithMeeting, Provenance


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


# How a row gets a column's value: from its source (a `DecisionHit` or an `ItemWithMeeting`) and the
# read API's public URL (for download links).
Value = Callable[[Any, str], Any]


def _no_value(source: Any, public_api_url: str) -> Any:
    raise TypeError("this column was laid out without a value: it can be written, not filled from a source")


@dataclass(frozen=True)
class Column:
    """One export column: its name, type, what it holds (for docs/exports.md) and where its value comes from."""

    name: str
    kind: Kind
    doc: str
    value: Value = field(default=_no_value, compare=False, repr=False)


def _attr(path: str) -> Value:
    get = attrgetter(path)
    return lambda source, _url: get(source)


def _list(path: str) -> Value:
    get = attrgetter(path)
    return lambda source, _url: list(get(source))


def _dumped(path: str) -> Value:
    get = attrgetter(path)
    return lambda source, _url: [model.model_dump(mode="json") for model in get(source)]


def _outcome(path: str) -> Value:
    get = attrgetter(path)
    return lambda source, _url: None if (outcome := get(source)) is None else outcome.value


def download_url(public_api_url: str, prov: Provenance) -> str | None:
    """The read API's link to the original file (`/api/v1/documents/{id}/file`), None if it has no blob."""
    if not prov.blob_available:
        return None
    return f"{public_api_url.rstrip('/')}/api/v1/documents/{prov.document_id}/file"


_SIDES = (
    ("in_favour", "voted for"),
    ("against", "voted against"),
    ("abstaining", "abstained"),
    ("reserved", "reserved their position (tog forbehold)"),
)


def _vote_side(votes_path: str, side: str, *, count: bool) -> Value:
    get = attrgetter(votes_path)

    def value(source: Any, _url: str) -> Any:
        votes = get(source)
        if votes is None:
            return None if count else []
        return getattr(votes, f"{side}_count") if count else list(getattr(votes, side))

    return value


def _vote_columns(votes_path: str) -> tuple[Column, ...]:
    # Flat, so a spreadsheet filters on them: the names of each side, then each side's count as printed.
    names = tuple(
        Column(
            f"votes_{side}",
            Kind.LIST,
            f"members or parties who {what}, as printed",
            _vote_side(votes_path, side, count=False),
        )
        for side, what in _SIDES
    )
    counts = tuple(
        Column(
            f"votes_{side}_count",
            Kind.INT,
            f"how many {what}, where the minutes print a number; empty otherwise",
            _vote_side(votes_path, side, count=True),
        )
        for side, what in _SIDES
    )
    return names + counts


def is_pdf(content_type: str | None, name: str) -> bool:
    """Whether a stored document says it is a PDF, by its type or its name (the read API checks the bytes)."""
    return (content_type or "").lower().endswith("pdf") or name.lower().endswith(".pdf")


def pdf_page_url(public_api_url: str, prov: Provenance, page: int | None) -> str | None:
    """The read API's inline PDF opened at `page` (`…/document.pdf#page=N`); None without a PDF blob or page."""
    if not (prov.blob_available and page and is_pdf(prov.content_type, prov.original_name)):
        return None
    return f"{public_api_url.rstrip('/')}/api/v1/documents/{prov.document_id}/document.pdf#page={page}"


def _meeting_columns() -> tuple[Column, ...]:
    # Both row sources carry the meeting's fields under the same names.
    return (
        Column("municipality", Kind.STR, "municipality (empty for a region)", _attr("municipality")),
        Column("municipality_code", Kind.INT, "the municipality's official number", _attr("municipality_code")),
        Column("region", Kind.STR, "region (empty for a municipality)", _attr("region")),
        Column("committee", Kind.STR, "committee or council as printed", _attr("committee")),
        Column("meeting_date", Kind.DATE, "date of the meeting", _attr("meeting_date")),
    )


def _source_columns(page: Value) -> tuple[Column, ...]:
    # `page`: a decision starts on its provenance's page; an item on its own page when it knows one.
    return (
        Column("source_name", Kind.STR, "the source file's name as it was dropped", _attr("provenance.original_name")),
        Column("source_kind", Kind.STR, "`minutes` or `agenda`", _attr("provenance.kind")),
        Column("source_page", Kind.INT, "PDF page (1-based) where the item starts; empty for other formats", page),
        Column(
            "source_received_at", Kind.DATETIME, "when ingest received the file (UTC)", _attr("provenance.received_at")
        ),
        Column(
            "source_url",
            Kind.STR,
            "download link of the original file on the read API; empty if not stored",
            lambda source, url: download_url(url, source.provenance),
        ),
        Column(
            "source_page_url",
            Kind.STR,
            "the PDF in the browser's viewer at `source_page` (`…/document.pdf#page=N`); empty for other formats",
            lambda source, url: pdf_page_url(url, source.provenance, page(source, url)),
        ),
        Column(
            "portal_url",
            Kind.STR,
            "the meeting on the agenda portal it was fetched from (a followed source); empty for a dropped file",
            _attr("provenance.source_url"),
        ),
        Column(
            "source_current",
            Kind.BOOL,
            "the document is the current version of its meeting",
            _attr("provenance.current"),
        ),
        Column(
            "source_superseded_by",
            Kind.STR,
            "document id of the version that replaced it, if any",
            _attr("provenance.superseded_by"),
        ),
    )


def _item_links(item: ItemOut) -> list[dict[str, str]]:
    return [{"name": a.name, "url": a.url} for a in item.attachment_refs if a.url]


def _item_page(source: ItemWithMeeting, _url: str) -> int | None:
    return source.item.page if source.item.page is not None else source.provenance.page


# Rows of `DecisionHit`s.
DECISION_COLUMNS: tuple[Column, ...] = (
    Column(
        "event_id",
        Kind.STR,
        "id of the decision's `DecisionMade` event (stable per document version)",
        _attr("event_id"),
    ),
    Column("item_id", Kind.STR, "`{document_id}:{position}`, the stored agenda item", _attr("item_id")),
    Column("document_id", Kind.STR, "sha256 of the source file", _attr("document_id")),
    *_meeting_columns(),
    Column("item_number", Kind.INT, "the item's number as printed", _attr("item_number")),
    Column("item_title", Kind.STR, "the item's title", _attr("item_title")),
    Column("case_number", Kind.STR, "case number (sagsnummer) as printed", _attr("case_number")),
    Column("kle", Kind.STR, "KLE subject `NN.NN.NN` read from an SBSYS-style case number", _attr("kle")),
    Column(
        "outcome",
        Kind.STR,
        "approved, recommended, noted, discussed, rejected, postponed or other",
        _outcome("outcome"),
    ),
    Column("decision_text", Kind.STR, "the decision as printed", _attr("decision_text")),
    Column("absent", Kind.LIST, "members absent for this item", _list("absent")),
    *_vote_columns("votes"),
    Column(
        "attachment_links",
        Kind.JSON,
        "`[{name, url}]`: the item's attachments on the agenda portal it was fetched from; empty for a file",
        _dumped("attachment_links"),
    ),
    Column("stored_at", Kind.DATETIME, "when the store recorded the decision (UTC)", _attr("stored_at")),
    *_source_columns(_attr("provenance.page")),
)

# Rows of `ItemWithMeeting`s.
ITEM_COLUMNS: tuple[Column, ...] = (
    Column("item_id", Kind.STR, "`{document_id}:{position}`", _attr("item.id")),
    Column("document_id", Kind.STR, "sha256 of the source file", _attr("item.document_id")),
    Column("position", Kind.INT, "0-based order of the item in the document", _attr("item.position")),
    Column("number", Kind.INT, "the item's number as printed", _attr("item.number")),
    Column("title", Kind.STR, "the item's title", _attr("item.title")),
    Column("case_number", Kind.STR, "case number as printed", _attr("item.case_number")),
    Column("kle", Kind.STR, "KLE subject `NN.NN.NN`", _attr("item.kle")),
    Column("is_closed", Kind.BOOL, "closed item (lukket punkt)", _attr("item.is_closed")),
    *_meeting_columns(),
    Column("outcome", Kind.STR, "outcome of the decision; empty when the item records none", _outcome("item.outcome")),
    Column("decision_text", Kind.STR, "the decision as printed; empty when none", _attr("item.decision_text")),
    Column(
        "event_id",
        Kind.STR,
        "id of the decision's `DecisionMade` event; empty when no decision",
        _attr("item.event_id"),
    ),
    Column("absent", Kind.LIST, "members absent for this item", _list("item.absent")),
    *_vote_columns("item.votes"),
    Column("attachments", Kind.LIST, "attachment names (bilag)", _list("item.attachments")),
    Column(
        "attachment_links",
        Kind.JSON,
        "`[{name, url}]`: the attachments on the agenda portal the item was fetched from; empty for a file",
        lambda source, _url: _item_links(source.item),
    ),
    Column("sections", Kind.JSON, "`[{name, text}]`: the item's sections as printed", _dumped("item.sections")),
    Column(
        "votes",
        Kind.JSON,
        "recorded vote (`in_favour`, `against`, `abstaining`, `reserved` and counts) or null",
        lambda source, _url: None if source.item.votes is None else source.item.votes.model_dump(mode="json"),
    ),
    Column("history", Kind.JSON, "`[{date, body, text}]`: earlier decisions on the case", _dumped("item.history")),
    *_source_columns(_item_page),
)


def row_of(columns: tuple[Column, ...], source: Any, public_api_url: str) -> dict[str, Any]:
    """`source` as a row of `columns`: each column's value, in column order."""
    return {c.name: c.value(source, public_api_url) for c in columns}


def decision_row(hit: DecisionHit, public_api_url: str) -> dict[str, Any]:
    """A `DecisionHit` as a row of DECISION_COLUMNS."""
    return row_of(DECISION_COLUMNS, hit, public_api_url)


def item_row(row: ItemWithMeeting, public_api_url: str) -> dict[str, Any]:
    """An `ItemWithMeeting` as a row of ITEM_COLUMNS."""
    return row_of(ITEM_COLUMNS, row, public_api_url)


def iso_datetime(value: dt.datetime, *, seconds: bool = False) -> str:
    """In UTC with an explicit offset (`2025-08-27T14:03:05.123456+00:00`; naive values are taken as UTC).

    `seconds`: cut to whole seconds, as OParl's `date-time` wants them.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    return (value.replace(microsecond=0) if seconds else value).isoformat()


RowMaker = Callable[[Any, str], dict[str, Any]]

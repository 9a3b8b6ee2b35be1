"""SQLModel tables of the store (the writer's): documents, meetings, agenda items, decisions, outbox, search queue.

One document (sha256 of the bytes) is parsed into one meeting; its items are keyed `{document_id}:{position}`.
Lists that are only ever read with their parent (participants, sections, absent members, attachments,
votes) are JSON columns: they are never queried on their own, and a child table would multiply the upserts.

The other tables of this database are their owners': the alerts' in services/alerts/models.py, the sources'
in services/ingest/sources/models.py. `services/store/schema.py` gathers all of them for the migrations.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def _json(nullable: bool = False) -> Any:
    """A JSON column; each table needs its own Column object."""
    return sa.Column(sa.JSON, nullable=nullable)


# --- documents -----------------------------------------------------------------------------------------


class DocumentBase(SQLModel):
    """A stored file version, identified by the sha256 of its bytes."""

    document_id: str = Field(primary_key=True, max_length=64)
    original_name: str = ""


class Document(DocumentBase, table=True):
    """documents: one row per parsed file version."""

    __tablename__ = "documents"

    parsed_at: dt.datetime | None = None
    stored_at: dt.datetime
    # Provenance from ingest's DocumentReceived (None for rows stored before revision 0003).
    blob_ref: str | None = None
    received_at: dt.datetime | None = None
    size: int | None = None
    content_type: str | None = None
    # The portal page of a document fetched from a source (services/ingest/sources/); revision 0011.
    source_url: str | None = None
    # What `minutes check` last found wrong with the blob ("missing", "corrupt: …"); None when sound or not
    # checked. Revision 0015. The API offers the original file only when this is None.
    blob_fault: str | None = None


# --- meetings ------------------------------------------------------------------------------------------


class MeetingBase(SQLModel):
    """The header of a meeting: who met, when and where."""

    kind: str = Field(default="minutes", max_length=16)
    municipality: str | None = Field(default=None, index=True)
    municipality_code: int | None = None
    committee: str | None = Field(default=None, index=True)
    meeting_date: dt.date | None = Field(default=None, index=True)
    start_time: str | None = Field(default=None, max_length=5)
    location: str | None = None
    region: str | None = Field(default=None, index=True)


class Meeting(MeetingBase, table=True):
    """meetings: one per document; `complete` turns true in the transaction that stores its last item."""

    __tablename__ = "meetings"

    document_id: str = Field(primary_key=True, foreign_key="documents.document_id", max_length=64)
    participants: list[str] = Field(default_factory=list, sa_column=_json())
    # What the parser doubted (`minutes without any decision`), shown with the meeting; revision 0009.
    warnings: list[str] = Field(
        default_factory=list, sa_column=sa.Column(sa.JSON, nullable=False, server_default=sa.text("'[]'"))
    )
    item_count: int
    complete: bool = Field(default=False, index=True)
    completed_at: dt.datetime | None = None
    # Versions of one meeting (agenda, minutes, corrected minutes) share the key; see versions.py.
    meeting_key: str | None = Field(default=None, index=True)
    superseded_by: str | None = Field(default=None, max_length=64)


# --- agenda items --------------------------------------------------------------------------------------


class AgendaItemBase(SQLModel):
    """One agenda item as printed."""

    number: int
    title: str
    case_number: str | None = Field(default=None, index=True)
    kle: str | None = Field(default=None, index=True, max_length=8, description="See services/store/kle.py.")
    is_closed: bool = False


class AgendaItemRow(AgendaItemBase, table=True):
    """agenda_items: primary key `{document_id}:{position}`."""

    __tablename__ = "agenda_items"

    id: str = Field(primary_key=True)
    document_id: str = Field(foreign_key="meetings.document_id", index=True, max_length=64)
    position: int
    sections: list[dict[str, str]] = Field(default_factory=list, sa_column=_json())
    absent: list[str] = Field(default_factory=list, sa_column=_json())
    attachments: list[str] = Field(default_factory=list, sa_column=_json())
    # One `{name, ref, url}` per attachment when the parser read the publisher's references (`url`: the file on
    # the portal of a followed source, else None); NULL when it read none, and for rows stored before 0012.
    attachment_refs: list[dict[str, Any]] | None = Field(default=None, sa_column=_json(nullable=True))
    votes: dict[str, Any] | None = Field(default=None, sa_column=_json(nullable=True))
    page: int | None = None
    # EarlierDecision dumps (date, body, text); NULL for rows stored before revision 0003.
    history: list[dict[str, Any]] | None = Field(default=None, sa_column=_json(nullable=True))
    stored_at: dt.datetime


# --- decisions -----------------------------------------------------------------------------------------


class DecisionBase(SQLModel):
    """What the committee decided on an item."""

    text: str
    # Not indexed alone: every read by outcome pages listed decisions through ix_decisions_outcome_page
    # (revision 0010 dropped ix_decisions_outcome, a ninth b-tree per decision row that no plan used).
    outcome: str = Field(max_length=16)


class DecisionRow(DecisionBase, table=True):
    """decisions: one per item that records a decision; `event_id` is its DecisionMade id."""

    __tablename__ = "decisions"
    # The read layer's page order, on the decision row itself (copied from its meeting and item by the store:
    # repository.sync_decisions), so a page of 25 walks one of these indexes and stops, instead of joining
    # and sorting every visible decision: newest first (ascending `date_order`), then document and position;
    # `listed` first, since only listed decisions are ever paged.
    __table_args__ = (
        sa.Index("ix_decisions_page", "listed", "date_order", "document_id", "position"),
        sa.Index("ix_decisions_outcome_page", "listed", "outcome", "date_order", "document_id", "position"),
        sa.Index("ix_decisions_case_page", "listed", "case_number", "date_order", "document_id", "position"),
        sa.Index("ix_decisions_kle_page", "listed", "kle", "date_order", "document_id", "position"),
    )

    item_id: str = Field(primary_key=True, foreign_key="agenda_items.id")
    document_id: str = Field(index=True, max_length=64)
    event_id: str = Field(unique=True, max_length=36)
    stored_at: dt.datetime
    # The item's position in its document (the item id's suffix).
    position: int
    # Minus the meeting date's proleptic ordinal, 0 without a date: ascending is newest first, undated last,
    # and every key of the page order ascends, so a keyset is one row-value comparison an index can seek to.
    date_order: int
    # The meeting is complete and the current version of its meeting: what the read layer shows by default.
    listed: bool = False
    # The item's case number and KLE subject (as on agenda_items): the filters that select few decisions.
    case_number: str | None = None
    kle: str | None = Field(default=None, max_length=8)


# --- outbox --------------------------------------------------------------------------------------------


class OutboxRow(SQLModel, table=True):
    """outbox: events to publish, written in the transaction that stored what they announce."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_unsent", "sent_at", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    stream: str
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created_at: dt.datetime
    sent_at: dt.datetime | None = None


# --- search queue --------------------------------------------------------------------------------------


class SearchQueueRow(SQLModel, table=True):
    """search_queue: items stored but not yet (re)indexed for full-text search (services/store/indexer.py).

    The store inserts one row per stored item in its transaction (an 8-byte key and the item id, no
    stemming, no index write); the indexer indexes the items of the oldest rows and deletes exactly those
    rows in one transaction, so a crash in between indexes them again, never loses them.
    """

    __tablename__ = "search_queue"

    id: int | None = Field(default=None, primary_key=True)
    item_id: str


# Core Table objects, for executemany upserts and queries (mypy does not see `Model.__table__`).
documents: sa.Table = SQLModel.metadata.tables["documents"]
meetings: sa.Table = SQLModel.metadata.tables["meetings"]
agenda_items: sa.Table = SQLModel.metadata.tables["agenda_items"]
decisions: sa.Table = SQLModel.metadata.tables["decisions"]
outbox: sa.Table = SQLModel.metadata.tables["outbox"]
search_queue: sa.Table = SQLModel.metadata.tables["search_queue"]

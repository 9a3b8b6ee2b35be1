"""What the reads of the read model return: frozen pydantic models, so the HTTP API can return them as they
are and the exports can dump them.
"""

from __future__ import annotations

import datetime as dt
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.events import AttachmentLink, WordChange
from shared.contracts.meeting import Outcome, Votes

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

T = TypeVar("T")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class VersionInfo(_Model):
    """One stored version (document) of a meeting."""

    document_id: str
    kind: str
    original_name: str
    received_at: dt.datetime | None
    stored_at: dt.datetime
    completed_at: dt.datetime | None
    current: bool = Field(description="True when no other version supersedes it.")
    superseded_by: str | None


class Provenance(_Model):
    """Where a decision or item comes from: the source file, as dropped, and where in it."""

    document_id: str = Field(description="sha256 of the source file's bytes.")
    original_name: str = Field(description="The file's name as dropped (or found in the bucket).")
    blob_ref: str | None = Field(description="Reference into the blob store (file:// or s3://), None if unknown.")
    blob_available: bool = Field(description="True when the store knows the blob reference (download possible).")
    content_type: str | None
    size: int | None
    received_at: dt.datetime | None = Field(description="When ingest received the file.")
    stored_at: dt.datetime = Field(description="When the store first stored the document.")
    page: int | None = Field(default=None, description="PDF page (1-based) where the item starts, when known.")
    kind: str = Field(description="minutes or agenda.")
    current: bool = Field(description="This document is the current version of its meeting.")
    superseded_by: str | None
    source_url: str | None = Field(
        default=None, description="The meeting's page on the agenda portal it was fetched from (None: a file)."
    )


class DocumentInfo(Provenance):
    """A stored document (`get_document`): provenance without a page, with the parse time."""

    parsed_at: dt.datetime | None


class EarlierDecisionOut(_Model):
    """A decision on the item's case taken at an earlier meeting (case history)."""

    date: dt.date | None
    body: str | None
    text: str


class SectionOut(_Model):
    """One named section of an item."""

    name: str
    text: str


class AttachmentOut(_Model):
    """An attachment with the publisher's reference to its file and, for a document fetched from a followed
    agenda portal, its address there (not downloaded)."""

    name: str
    ref: str | None = Field(description="The publisher's reference (a portal's attachment id, an export's file).")
    url: str | None = Field(default=None, description="The file on the agenda portal (None: not from a source).")


class DecisionHit(_Model):
    """A decision of the current (or, if asked, any) version of a complete meeting, with provenance.

    The fields of a `DecisionMade` event (with `stored_at` for `occurred_at`) plus region, KLE, snippet,
    rank and provenance.
    """

    event_id: str
    item_id: str
    document_id: str
    municipality: str | None
    municipality_code: int | None
    region: str | None
    committee: str | None
    meeting_date: dt.date | None
    item_number: int
    item_title: str
    case_number: str | None
    kle: str | None
    outcome: Outcome
    decision_text: str
    absent: list[str] = []
    votes: Votes | None = Field(
        default=None,
        description=(
            "This meeting's recorded vote on the item: who voted for (`in_favour`), `against`, `abstaining` or "
            "`reserved` (names or party letters as printed) and the counts where printed; None when none is printed."
        ),
    )
    attachment_links: list[AttachmentLink] = Field(
        default=[], description="The item's attachments on the agenda portal it was fetched from (empty: a file)."
    )
    stored_at: dt.datetime
    snippet: str | None = Field(
        default=None,
        description="With a query: HTML-escaped text around the match, matches in <mark>…</mark>.",
    )
    rank: float | None = Field(default=None, description="With a query: document-local relevance, higher first.")
    provenance: Provenance


class RevisionOut(_Model):
    """How an earlier version of the meeting decided an item that this version decides differently."""

    previous_document_id: str = Field(description="The earlier version (document) whose decision differs.")
    previous_item_id: str
    previous_outcome: Outcome
    previous_text: str
    diff: list[WordChange] = Field(description="Word-level diff from `previous_text` to this decision's text.")


class ItemOut(_Model):
    """One agenda item in full (meeting page, case page, item export)."""

    id: str
    document_id: str
    position: int
    number: int
    title: str
    case_number: str | None
    kle: str | None
    is_closed: bool
    sections: list[SectionOut] = []
    absent: list[str] = []
    attachments: list[str] = []
    attachment_refs: list[AttachmentOut] = Field(
        default=[], description="Per attachment, its reference and link, when the document gives references."
    )
    votes: Votes | None = Field(
        default=None, description="This meeting's recorded vote on the item (see `DecisionHit.votes`); None: none."
    )
    decision_text: str | None = None
    outcome: Outcome | None = None
    event_id: str | None = None
    page: int | None = None
    history: list[EarlierDecisionOut] = []
    revision: RevisionOut | None = Field(
        default=None,
        description=(
            "Set on the meeting page's items (`GET /api/v1/meetings/{id}`) when an earlier version of the meeting "
            "decided this item differently: the decision was corrected (rettet)."
        ),
    )


class MeetingSummary(_Model):
    """A meeting in a list."""

    document_id: str
    kind: str
    municipality: str | None
    municipality_code: int | None
    region: str | None
    committee: str | None
    meeting_date: dt.date | None
    start_time: str | None
    location: str | None
    item_count: int
    decision_count: int
    original_name: str
    received_at: dt.datetime | None
    current: bool
    superseded_by: str | None


class MeetingDetail(MeetingSummary):
    """A meeting in full: header, participants, every item in order, its versions and its source."""

    participants: list[str] = []
    warnings: list[str] = Field(
        default=[], description="What the parser doubted about this document (`minutes without any decision`)."
    )
    complete: bool
    items: list[ItemOut] = []
    versions: list[VersionInfo] = Field(default=[], description="Every stored version, oldest first.")
    document: DocumentInfo


class ItemWithMeeting(_Model):
    """An item with the meeting it was treated at (rows of `iter_items` and the case page)."""

    item: ItemOut
    municipality: str | None
    municipality_code: int | None
    region: str | None
    committee: str | None
    meeting_date: dt.date | None
    kind: str
    provenance: Provenance


class CaseView(_Model):
    """Every treatment of one case number, across meetings and committees, oldest meeting first."""

    case_number: str
    kle: str | None
    items: list[ItemWithMeeting] = []
    history: list[EarlierDecisionOut] = Field(
        default=[], description="The earlier decisions the items cite, de-duplicated, oldest first."
    )


class Page(_Model, Generic[T]):
    """One page of a keyset-paginated list; `next_cursor` is None on the last page."""

    items: list[T]
    next_cursor: str | None = None
    limit: int


class MonthCount(_Model):
    """Decisions at the meetings of one calendar month."""

    month: dt.date = Field(description="The month's first day.")
    decisions: int


class OutcomeCount(_Model):
    """How many decisions had one outcome."""

    outcome: Outcome
    decisions: int


class CaseCount(_Model):
    """A case number and how many decisions were made under it (the busiest cases)."""

    case_number: str
    title: str = Field(description="A title of its decided items (the last in alphabetical order).")
    decisions: int


class CommitteeCount(_Model):
    """A committee and how many of the meetings are its."""

    committee: str | None
    meetings: int


class Overview(_Model):
    """A filter's decisions in figures: per month, per outcome, the busiest cases, the committees."""

    decisions: int
    meetings: int
    months: list[MonthCount] = Field(
        default=[], description="Oldest first, every month from the first to the last (months without any: 0)."
    )
    undated: int = Field(default=0, description="Decisions of meetings without a date (in no month).")
    outcomes: list[OutcomeCount] = Field(default=[], description="Most frequent first.")
    cases: list[CaseCount] = Field(default=[], description="Cases decided more than once, most decisions first.")
    committees: list[CommitteeCount] = Field(default=[], description="Most meetings first.")

"""Events that flow between the services, named in the past tense; each docstring says what it promises.

Every event carries `schema_version`; a consumer rejects versions it does not know instead of guessing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from pydantic import Field

from shared.contracts.base import Contract
from shared.contracts.meeting import AgendaItem, MeetingHeader, Outcome, Votes

# Namespace for deterministic event ids: the same (document, item position) always gives the same id.
DECISION_EVENT_NAMESPACE = uuid.UUID("6f1c7a52-3d0e-4a8e-9d7c-2b1f5e8a9c41")


def utcnow() -> dt.datetime:
    """Aware UTC now (SQLModel and the contracts refuse naive datetimes)."""
    return dt.datetime.now(dt.UTC)


class DocumentReceived(Contract):
    """A complete file was seen and its bytes are durably stored under `blob_ref`.

    `document_id` is the sha256 of the bytes, so the same bytes are one document whatever their name.
    The bytes themselves are never inline: fetch them from the blob store (claim-check).
    """

    event: Literal["DocumentReceived"] = "DocumentReceived"
    schema_version: Literal[1] = 1
    document_id: str = Field(pattern=r"^[0-9a-f]{64}$")
    original_name: str
    size: int = Field(ge=0)
    content_type: str
    blob_ref: str = Field(description="file:///... or s3://bucket/key")
    source: str = Field(default="", description="Where the file was found (inbox path or bucket URL).")
    received_at: dt.datetime = Field(default_factory=utcnow)


class MeetingParsed(Contract):
    """A document was parsed into a meeting with `item_count` items; one AgendaItemParsed per item follows."""

    event: Literal["MeetingParsed"] = "MeetingParsed"
    schema_version: Literal[1] = 1
    document_id: str
    original_name: str = ""
    # Provenance of the source file, copied from its DocumentReceived (added in schema 1; None from older parsers).
    blob_ref: str | None = None
    received_at: dt.datetime | None = None
    size: int | None = Field(default=None, ge=0)
    content_type: str | None = None
    meeting: MeetingHeader
    item_count: int = Field(ge=0)
    parsed_at: dt.datetime = Field(default_factory=utcnow)


class AgendaItemParsed(Contract):
    """One agenda item of a parsed meeting, self-contained: the meeting header travels with it.

    `position` (0-based order in the document) and `document_id` identify the item; `item_count` lets the
    store tell when it holds every item of the meeting.
    """

    event: Literal["AgendaItemParsed"] = "AgendaItemParsed"
    schema_version: Literal[1] = 1
    document_id: str
    original_name: str = ""
    # Provenance of the source file, copied from its DocumentReceived (added in schema 1; None from older parsers).
    blob_ref: str | None = None
    received_at: dt.datetime | None = None
    size: int | None = Field(default=None, ge=0)
    content_type: str | None = None
    meeting: MeetingHeader
    item: AgendaItem
    position: int = Field(ge=0)
    item_count: int = Field(ge=1)
    parsed_at: dt.datetime = Field(default_factory=utcnow)


ItemsStreamEvent = Annotated[MeetingParsed | AgendaItemParsed, Field(discriminator="event")]


def decision_event_id(document_id: str, position: int) -> str:
    """The deterministic id of the decision event for one item of one document version."""
    return str(uuid.uuid5(DECISION_EVENT_NAMESPACE, f"{document_id}:{position}"))


class AttachmentLink(Contract):
    """An attachment of the decided item where its publisher serves it (the agenda portal it came from)."""

    name: str
    url: str = Field(description="The attachment's file on the portal; not downloaded by minutes.")


class _DecisionFields(Contract):
    """What every public decision event says about the decision and where it was made."""

    # Narrowed to a Literal by each event; declared here so they stay the first keys of the JSON.
    event: str
    schema_version: int
    event_id: str
    municipality: str | None
    municipality_code: int | None = None
    committee: str | None
    meeting_date: dt.date | None
    item_number: int
    item_title: str
    case_number: str | None
    outcome: Outcome
    decision_text: str
    absent: tuple[str, ...] = ()
    votes: Votes | None = Field(
        default=None,
        description=(
            "This meeting's recorded vote on the item, as the parser read it: names or party letters for "
            "(`in_favour`), `against`, `abstaining`, `reserved`, and the counts where printed; None when no vote "
            "is printed (added in schema 1: older events and producers leave it out)."
        ),
    )
    document_id: str
    item_id: str = Field(description="Primary key of the stored agenda item: `{document_id}:{position}`.")
    item_url: str = Field(description="Link back to the stored item.")
    occurred_at: dt.datetime = Field(description="When the store recorded the decision.")
    source_url: str | None = Field(
        default=None, description="The meeting's page on the agenda portal it was fetched from (None: a file)."
    )
    attachment_links: tuple[AttachmentLink, ...] = Field(
        default=(),
        description=(
            "The item's attachments on the agenda portal it was fetched from, each with its link (added in "
            "schema 1; empty for a dropped file, whose attachments have no address)."
        ),
    )


class DecisionMade(_DecisionFields):
    """A committee decided an agenda item; published once per (document version, item) on the public stream.

    The public stream carries this as plain JSON (one field, `json`), readable from any language.
    Subscribers may deduplicate by `event_id`, which is the same for every re-publication. A later version
    of the same meeting (corrected minutes) announces only what changed, as `DecisionRevised`.
    """

    event: Literal["DecisionMade"] = "DecisionMade"
    schema_version: Literal[1] = 1


class WordChange(Contract):
    """One step of a word-level diff: `equal`, `delete` (old words only), `insert` (new only) or `replace`."""

    op: Literal["equal", "delete", "insert", "replace"]
    old: str = ""
    new: str = ""


class DecisionRevised(_DecisionFields):
    """A new version of a stored meeting (corrected minutes) decided an item differently from the version it
    replaces: the text, the outcome or both changed. Items whose decision did not change announce nothing;
    items the earlier version did not have are announced as `DecisionMade`.

    The decision fields are the new version's; `previous_*` are the replaced version's, and
    `revises_event_id` is the event that announced it (a `DecisionMade` or an earlier `DecisionRevised`).
    """

    event: Literal["DecisionRevised"] = "DecisionRevised"
    schema_version: Literal[1] = 1
    revises_event_id: str
    previous_document_id: str
    previous_item_id: str
    previous_outcome: Outcome
    previous_text: str
    diff: tuple[WordChange, ...] = Field(default=(), description="Word-level diff from previous_text to decision_text.")


# What the public stream `minutes:decisions` carries, told apart by `event`. A subscriber written before a
# type existed should skip entries whose `event` it does not know.
PublicEvent = Annotated[DecisionMade | DecisionRevised, Field(discriminator="event")]


def revision_event_id(document_id: str, position: int) -> str:
    """The deterministic id of the revision event for one item of one document version."""
    return str(uuid.uuid5(DECISION_EVENT_NAMESPACE, f"revised:{document_id}:{position}"))


class DeadLettered(Contract):
    """A message was given up on after `attempts` deliveries (or at once, when it can never succeed).

    The original payload is kept verbatim so `minutes dlq retry` can re-queue it unchanged.
    """

    event: Literal["DeadLettered"] = "DeadLettered"
    schema_version: Literal[1] = 1
    service: str
    stream: str
    message_id: str = ""
    document_id: str | None = None
    original_name: str | None = None
    error: str
    error_type: str
    retryable: bool = Field(description="False when retrying the same bytes cannot succeed (bad input).")
    attempts: int = Field(ge=0)
    payload: str = Field(description="The original message body (JSON), verbatim.")
    failed_at: dt.datetime = Field(default_factory=utcnow)

"""ParsedMeeting: what the parser core promises to return for one minutes or agenda document.

Vocabulary (after the Council Data Project): a *meeting* of a *committee* has *agenda items*;
an item may concern a *matter* (identified by its case number), may record a *decision* with an
*outcome*, and may record *votes* and members *absent* for that item.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Literal

from pydantic import Field

from shared.contracts.base import Contract
from shared.contracts.outcome import Outcome as Outcome  # re-exported: the contracts name it here

PARSED_MEETING_SCHEMA_VERSION: Literal[1] = 1


class DocumentKind(StrEnum):
    """Minutes (referat) record decisions; an agenda (dagsorden) only lists items."""

    MINUTES = "minutes"
    AGENDA = "agenda"


class Section(Contract):
    """One named section of an item (Sagsfremstilling, Indstilling, Beslutning, ...), as printed."""

    name: str
    text: str = ""


class Decision(Contract):
    """The decision the meeting recorded for an item, and its classified outcome."""

    text: str
    outcome: Outcome


class Votes(Contract):
    """A recorded vote of this meeting: who (members' names or party letters) voted for, against, abstained
    or reserved their position, with counts where printed. Never read from the case history.
    """

    in_favour: tuple[str, ...] = ()
    against: tuple[str, ...] = ()
    abstaining: tuple[str, ...] = ()
    reserved: tuple[str, ...] = Field(
        default=(), description="Members or parties that reserved their position (`tog forbehold`); added in schema 1."
    )
    in_favour_count: int | None = None
    against_count: int | None = None
    abstaining_count: int | None = None
    reserved_count: int | None = Field(default=None, description="Added in schema 1.")


class EarlierDecision(Contract):
    """A decision taken on the item's case at an earlier meeting: case history, never this meeting's decision.

    Printed as `Sagsforløb`, `Tidligere behandling`, `Beslutning i Magistraten den 19. august 2025` or
    `18. september 2012: Sagen udsat`; case tracking follows a matter through these.
    """

    date: dt.date | None = None
    body: str | None = Field(default=None, description="The committee or council that decided, as printed.")
    text: str


class AttachmentRef(Contract):
    """One attachment with the publisher's own reference to its file, as the document gives it.

    The reference is kept as written, never made into a URL here: what it points at depends on where the
    document was published (a FirstAgenda portal's `Bilag` id is fetched from that portal's host).
    """

    name: str = Field(description="The attachment's name, as in `AgendaItem.attachments`.")
    ref: str | None = Field(
        default=None,
        description=(
            "The publisher's reference: FirstAgenda `Bilag.Id`, the SBSYS publication's enclosure file "
            "(`InstantiationFilePathRelative`), eDoc's `PDFDocument`, Acadre's enclosure `filename`; "
            "None when this attachment has none."
        ),
    )


class AgendaItem(Contract):
    """One agenda item (dagsordenspunkt) of a meeting."""

    number: int = Field(description="The number as printed: 'Punkt 64' is 64.")
    title: str
    case_number: str | None = None
    is_closed: bool = False
    sections: tuple[Section, ...] = ()
    decision: Decision | None = None
    absent: tuple[str, ...] = ()
    attachments: tuple[str, ...] = ()
    attachment_refs: tuple[AttachmentRef, ...] = Field(
        default=(),
        description=(
            "The attachments with the publisher's references to their files: empty when the document gives no "
            "reference, else one per name of `attachments`, in the same order (added in schema 1)."
        ),
    )
    votes: Votes | None = None
    history: tuple[EarlierDecision, ...] = Field(
        default=(), description="Earlier decisions on the same case, oldest first (added in schema 1)."
    )
    page: int | None = Field(default=None, description="PDF page (1-based) where the item starts, when known.")


class MeetingHeader(Contract):
    """Everything about a meeting except its items: what every item event carries with it."""

    schema_version: Literal[1] = PARSED_MEETING_SCHEMA_VERSION
    kind: DocumentKind = DocumentKind.MINUTES
    municipality: str | None = None
    municipality_code: int | None = Field(default=None, description="Official municipality code, e.g. 101.")
    region: str | None = Field(
        default=None,
        description="The region when the body is one of the five regions (`Region Midtjylland`); then no municipality.",
    )
    committee: str | None = None
    meeting_date: dt.date | None = None
    start_time: str | None = Field(default=None, pattern=r"^\d{2}:\d{2}$")
    location: str | None = None
    participants: tuple[str, ...] = ()
    warnings: tuple[str, ...] = Field(
        default=(),
        description=(
            "What the parser could not do or doubts, in plain words (`minutes without any decision`, "
            "`items 3–5 of the table of contents not found`); added in schema 1."
        ),
    )


class ParsedMeeting(MeetingHeader):
    """A whole meeting as parsed from one document; fields that cannot be found are null, never invented."""

    items: tuple[AgendaItem, ...] = ()

    @property
    def header(self) -> MeetingHeader:
        """The meeting without its items."""
        return MeetingHeader.model_validate(self.model_dump(exclude={"items"}))

    @property
    def decisions(self) -> list[AgendaItem]:
        """The items that record a decision."""
        return [item for item in self.items if item.decision is not None]

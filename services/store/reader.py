"""The read API of the store: what the HTTP API, the CLI (`minutes search`) and the exports call.

Every function takes an AsyncEngine or an AsyncConnection and only reads. Decisions and items are shown
only for complete meetings, and only for the current version of a meeting unless `ReadFilter.all_versions`.
The models (`ReadFilter`, `DecisionHit`, `MeetingDetail`, ...) live in `read_models.py` and are re-exported.

Pagination is keyset (cursor) pagination over a *total* order of immutable keys, so a page never loses or
repeats a row of the previous pages, even while new decisions are stored between the requests:

- without a full-text query: newest meeting first — `(meeting_date DESC (no date last), document_id,
  position)`; meetings: `(meeting_date DESC (no date last), document_id)`;
- with `q`: best match first — `(rank DESC, then the order above)`. The rank is *document-local*: it
  depends only on the row and the query, never on the rest of the corpus (PostgreSQL's `ts_rank`; on SQLite
  a term-frequency score over the stored stems, not FTS5's corpus-wide bm25, whose IDF moves whenever a row
  is added), so a new row cannot move the rows already paged past. A new row that sorts before the cursor
  is simply not part of this traversal (start again to see it).

The cursor is opaque (url-safe base64 of the last row's keys, a fingerprint of the filter and a checksum);
a changed or truncated cursor, or one from another query, raises `CursorError`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.store.read_models import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CaseView,
    CursorError,
    DecisionHit,
    DocumentInfo,
    EarlierDecisionOut,
    ItemOut,
    ItemWithMeeting,
    MeetingDetail,
    MeetingSummary,
    Page,
    Provenance,
    ReadFilter,
    SearchSyntaxError,
    SectionOut,
    VersionInfo,
)

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "CaseView",
    "CursorError",
    "DecisionHit",
    "DocumentInfo",
    "EarlierDecisionOut",
    "ItemOut",
    "ItemWithMeeting",
    "MeetingDetail",
    "MeetingSummary",
    "Page",
    "Provenance",
    "ReadFilter",
    "SearchSyntaxError",
    "SectionOut",
    "Target",
    "VersionInfo",
    "count_decisions",
    "count_items",
    "count_meetings",
    "get_case",
    "get_document",
    "get_meeting",
    "iter_decisions",
    "iter_items",
    "list_meetings",
    "search_decisions",
]

Target = AsyncEngine | AsyncConnection


async def search_decisions(
    target: Target, flt: ReadFilter, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[DecisionHit]:
    """A page of decisions matching `flt`: best match first with `flt.q`, else newest meeting first.

    `limit` is clamped to 1..MAX_LIMIT. Raises CursorError for a bad cursor, SearchSyntaxError for a bad q.
    With `flt.q`, each hit has `snippet` (HTML-escaped, matches in `<mark>`) and `rank`.
    """
    raise NotImplementedError


async def count_decisions(target: Target, flt: ReadFilter) -> int:
    """How many decisions match `flt` (what `search_decisions` pages through)."""
    raise NotImplementedError


async def list_meetings(
    target: Target, flt: ReadFilter, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[MeetingSummary]:
    """A page of complete meetings matching the meeting-level filters of `flt`, newest first.

    Item-level filters (outcome, case_number, kle, absent, q) keep the meetings with at least one such item.
    """
    raise NotImplementedError


async def count_meetings(target: Target, flt: ReadFilter) -> int:
    """How many meetings `list_meetings` pages through."""
    raise NotImplementedError


async def get_meeting(target: Target, document_id: str) -> MeetingDetail | None:
    """One stored meeting (any version, complete or not) in full; None when there is no such document."""
    raise NotImplementedError


async def get_case(target: Target, case_number: str, *, all_versions: bool = False) -> CaseView | None:
    """Every item with this case number (exact) in complete meetings, oldest meeting first; None if none."""
    raise NotImplementedError


async def get_document(target: Target, document_id: str) -> DocumentInfo | None:
    """The provenance of a stored document (for the download of its original file); None if unknown."""
    raise NotImplementedError


def iter_decisions(engine: AsyncEngine, flt: ReadFilter) -> AsyncIterator[DecisionHit]:
    """Every matching decision in `search_decisions` order, streamed through a server-side cursor (no cap).

    Takes an engine: the iteration holds its own connection until it is exhausted or closed.
    """
    raise NotImplementedError


def iter_items(engine: AsyncEngine, flt: ReadFilter) -> AsyncIterator[ItemWithMeeting]:
    """Every matching agenda item (decided or not) of complete meetings, newest meeting first and in document
    order within a meeting, streamed through a server-side cursor (no cap). `outcome` keeps decided items."""
    raise NotImplementedError


async def count_items(target: Target, flt: ReadFilter) -> int:
    """How many items `iter_items` yields."""
    raise NotImplementedError

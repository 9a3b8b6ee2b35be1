"""Meetings: the list (complete meetings, newest first, keyset pages), one meeting in full, one document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select, func

from services.readmodel import cursor as cursor_codec
from services.readmodel.common import (
    DOCUMENT_COLUMNS,
    Target,
    after,
    clamp,
    count,
    date_key,
    fingerprint,
    provenance,
    rows,
)
from services.readmodel.cursor import CursorError
from services.readmodel.filter import ReadFilter, SqlFilter, sql_filter
from services.readmodel.items import ITEM_COLUMNS, item_out
from services.readmodel.results import DEFAULT_LIMIT, DocumentInfo, MeetingDetail, MeetingSummary, Page, VersionInfo
from services.readmodel.revisions import item_revisions
from services.store.models import agenda_items, decisions, documents, meetings

_decision_count = (
    sa.select(func.count())
    .select_from(decisions)
    .where(decisions.c.document_id == meetings.c.document_id)
    .scalar_subquery()
    .label("decision_count")
)

_COLUMNS = (
    meetings.c.document_id,
    meetings.c.kind,
    meetings.c.municipality,
    meetings.c.municipality_code,
    meetings.c.region,
    meetings.c.committee,
    meetings.c.meeting_date,
    meetings.c.start_time,
    meetings.c.location,
    meetings.c.item_count,
    meetings.c.participants,
    meetings.c.warnings,
    meetings.c.complete,
    meetings.c.completed_at,
    meetings.c.meeting_key,
    meetings.c.superseded_by,
    _decision_count,
    date_key.label("date_key"),
    *DOCUMENT_COLUMNS,
)


def meetings_query(sql: SqlFilter) -> Select[Any]:
    """The meetings `sql` selects (unordered): `list_meetings`' rows, the overview's committees."""
    stmt = (
        sa.select(*_COLUMNS)
        .select_from(meetings.join(documents, documents.c.document_id == meetings.c.document_id))
        .where(*sql.meeting_conditions())
    )
    # The item-level fields keep the meetings with at least one such item.
    item_conds = sql.item_conditions()
    match = sql.text
    if item_conds or match is not None:
        joined: Any = agenda_items.outerjoin(decisions, decisions.c.item_id == agenda_items.c.id)
        inner = sa.select(agenda_items.c.document_id)
        if match is not None:
            joined = match.join(joined)
            inner = inner.where(match.condition)
        stmt = stmt.where(meetings.c.document_id.in_(inner.select_from(joined).where(*item_conds)))
    return stmt


def _summary_fields(row: Any) -> dict[str, Any]:
    return {
        "document_id": row.document_id,
        "kind": row.kind,
        "municipality": row.municipality,
        "municipality_code": row.municipality_code,
        "region": row.region,
        "committee": row.committee,
        "meeting_date": row.meeting_date,
        "start_time": row.start_time,
        "location": row.location,
        "item_count": row.item_count,
        "decision_count": row.decision_count,
        "original_name": row.original_name,
        "received_at": row.received_at,
        "current": row.superseded_by is None,
        "superseded_by": row.superseded_by,
    }


async def list_meetings(
    target: Target, flt: ReadFilter, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[MeetingSummary]:
    """A page of complete meetings matching the meeting-level filters of `flt`, newest first.

    Item-level filters (outcome, case_number, kle, absent, match, q) keep the meetings with at least one such item.
    """
    limit = clamp(limit)
    stmt = meetings_query(await sql_filter(target, flt))
    keys: list[tuple[Any, bool]] = [(date_key, True), (meetings.c.document_id, False)]
    fp = fingerprint("meetings", flt)
    if cursor:
        values = cursor_codec.decode(cursor, fp, len(keys))
        try:
            bound = [sa.literal(dt.date.fromisoformat(values[0]), sa.Date), str(values[1])]
        except (TypeError, ValueError) as exc:
            raise CursorError(f"the cursor is not one this service made: {cursor_codec.AGAIN}") from exc
        stmt = stmt.where(after(keys, bound))
    found = await rows(target, stmt.order_by(date_key.desc(), meetings.c.document_id).limit(limit + 1))
    more = len(found) > limit
    found = found[:limit]
    items = [MeetingSummary(**_summary_fields(row)) for row in found]
    next_cursor = None
    if more and found:
        next_cursor = cursor_codec.encode(fp, [found[-1].date_key.isoformat(), found[-1].document_id])
    return Page[MeetingSummary](items=items, next_cursor=next_cursor, limit=limit)


async def count_meetings(target: Target, flt: ReadFilter) -> int:
    """How many meetings `list_meetings` pages through."""
    return await count(target, meetings_query(await sql_filter(target, flt)))


def _document_info(row: Any) -> DocumentInfo:
    return DocumentInfo(**provenance(row, page=False), parsed_at=row.parsed_at)


async def get_meeting(target: Target, document_id: str) -> MeetingDetail | None:
    """One stored meeting (any version, complete or not) in full; None when there is no such document."""
    head = sa.select(*_COLUMNS).select_from(meetings.join(documents, documents.c.document_id == meetings.c.document_id))
    found = await rows(target, head.where(meetings.c.document_id == document_id))
    if not found:
        return None
    row = found[0]
    items_stmt = (
        sa.select(*ITEM_COLUMNS, agenda_items.c.page)
        .select_from(agenda_items.outerjoin(decisions, decisions.c.item_id == agenda_items.c.id))
        .where(agenda_items.c.document_id == document_id)
        .order_by(agenda_items.c.position)
    )
    items = [item_out(r) for r in await rows(target, items_stmt)]
    same = meetings.c.meeting_key == row.meeting_key if row.meeting_key else meetings.c.document_id == document_id
    order = func.coalesce(meetings.c.completed_at, documents.c.stored_at)
    version_rows = await rows(target, head.where(same).order_by(order, meetings.c.document_id))
    versions = [
        VersionInfo(
            document_id=v.document_id,
            kind=v.kind,
            original_name=v.original_name,
            received_at=v.received_at,
            stored_at=v.doc_stored_at,
            completed_at=v.completed_at,
            current=v.superseded_by is None,
            superseded_by=v.superseded_by,
        )
        for v in version_rows
    ]
    revised = await item_revisions(target, document_id, versions)
    if revised:
        items = [item.model_copy(update={"revision": revised.get(item.position)}) for item in items]
    return MeetingDetail(
        **_summary_fields(row),
        participants=list(row.participants or []),
        warnings=list(row.warnings or []),
        complete=row.complete,
        items=items,
        versions=versions,
        document=_document_info(row),
    )


async def get_document(target: Target, document_id: str) -> DocumentInfo | None:
    """The provenance of a stored document (for the download of its original file); None if unknown."""
    stmt = (
        sa.select(
            documents.c.document_id,
            documents.c.original_name,
            documents.c.blob_ref,
            documents.c.content_type,
            documents.c.size,
            documents.c.received_at,
            documents.c.stored_at.label("doc_stored_at"),
            documents.c.parsed_at,
            documents.c.source_url,
            documents.c.blob_fault,
            func.coalesce(meetings.c.kind, "minutes").label("kind"),
            meetings.c.superseded_by,
        )
        .select_from(documents.outerjoin(meetings, meetings.c.document_id == documents.c.document_id))
        .where(documents.c.document_id == document_id)
    )
    found = await rows(target, stmt)
    return _document_info(found[0]) if found else None

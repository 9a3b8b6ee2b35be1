"""Agenda items of complete meetings (decided or not): the item export's stream and the case view."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select, func

from services.readmodel.common import (
    PROVENANCE_COLUMNS,
    STREAM_PAGE,
    Target,
    connected,
    count,
    date_key,
    provenance,
    rows,
    votes_of,
)
from services.readmodel.filter import ReadFilter, SqlFilter, sql_filter
from services.readmodel.results import (
    AttachmentOut,
    CaseView,
    EarlierDecisionOut,
    ItemOut,
    ItemWithMeeting,
    Provenance,
    SectionOut,
)
from services.store.models import agenda_items, decisions, documents, meetings

ITEM_COLUMNS = (
    agenda_items.c.id,
    agenda_items.c.document_id,
    agenda_items.c.position,
    agenda_items.c.number,
    agenda_items.c.title,
    agenda_items.c.case_number,
    agenda_items.c.kle,
    agenda_items.c.is_closed,
    agenda_items.c.sections,
    agenda_items.c.absent,
    agenda_items.c.attachments,
    agenda_items.c.attachment_refs,
    agenda_items.c.votes,
    agenda_items.c.history,
    decisions.c.text.label("decision_text"),
    decisions.c.outcome,
    decisions.c.event_id,
)


def item_out(row: Any) -> ItemOut:
    """An item in full from a row that selected ITEM_COLUMNS and `agenda_items.page`."""
    return ItemOut(
        id=row.id,
        document_id=row.document_id,
        position=row.position,
        number=row.number,
        title=row.title,
        case_number=row.case_number,
        kle=row.kle,
        is_closed=row.is_closed,
        sections=[SectionOut(name=s.get("name", ""), text=s.get("text", "")) for s in row.sections or []],
        absent=list(row.absent or []),
        attachments=list(row.attachments or []),
        attachment_refs=[AttachmentOut.model_validate(r) for r in row.attachment_refs or []],
        votes=votes_of(row.votes),
        decision_text=row.decision_text,
        outcome=row.outcome,
        event_id=row.event_id,
        page=row.page,
        history=[EarlierDecisionOut.model_validate(h) for h in row.history or []],
    )


def _select(sql: SqlFilter) -> Select[Any]:
    joined = (
        agenda_items.outerjoin(decisions, decisions.c.item_id == agenda_items.c.id)
        .join(meetings, meetings.c.document_id == agenda_items.c.document_id)
        .join(documents, documents.c.document_id == agenda_items.c.document_id)
    )
    stmt = sa.select(
        *ITEM_COLUMNS,
        meetings.c.municipality,
        meetings.c.municipality_code,
        meetings.c.region,
        meetings.c.committee,
        meetings.c.meeting_date,
        *PROVENANCE_COLUMNS,
    )
    if sql.text is not None:
        joined = sql.text.join(joined)
        stmt = stmt.where(sql.text.condition)
    return stmt.select_from(joined).where(*sql.meeting_conditions(), *sql.item_conditions())


async def _select_for(target: Target, flt: ReadFilter) -> Select[Any]:
    return _select(await sql_filter(target, flt))


def _with_meeting(row: Any) -> ItemWithMeeting:
    return ItemWithMeeting(
        item=item_out(row),
        municipality=row.municipality,
        municipality_code=row.municipality_code,
        region=row.region,
        committee=row.committee,
        meeting_date=row.meeting_date,
        kind=row.kind,
        provenance=Provenance(**provenance(row)),
    )


async def iter_items(target: Target, flt: ReadFilter) -> AsyncIterator[ItemWithMeeting]:
    """Every matching agenda item (decided or not) of complete meetings, newest meeting first and in document
    order within a meeting, streamed through a server-side cursor (no cap). `outcome` keeps decided items.
    With a connection, everything runs on it (the caller may run other reads on it between rows)."""
    async with connected(target) as conn:
        stmt = (await _select_for(conn, flt)).order_by(
            date_key.desc(), agenda_items.c.document_id, agenda_items.c.position
        )
        result = await conn.stream(stmt.execution_options(yield_per=STREAM_PAGE))
        async for row in result:
            yield _with_meeting(row)


async def count_items(target: Target, flt: ReadFilter) -> int:
    """How many items `iter_items` yields."""
    return await count(target, await _select_for(target, flt))


async def get_case(target: Target, case_number: str, *, all_versions: bool = False) -> CaseView | None:
    """Every item with this case number (spacing and case ignored, as the filter compares it) in complete
    meetings, oldest meeting first; None if none."""
    flt = ReadFilter(case_number=case_number, all_versions=all_versions)
    if flt.case_number is None:  # blank: no filter at all, which is not a case
        return None
    oldest_first = func.coalesce(meetings.c.meeting_date, sa.literal(dt.date(9999, 12, 31), sa.Date))
    stmt = (await _select_for(target, flt)).order_by(oldest_first, agenda_items.c.document_id, agenda_items.c.position)
    found = [_with_meeting(r) for r in await rows(target, stmt)]
    if not found:
        return None
    seen: dict[tuple[Any, ...], EarlierDecisionOut] = {}
    for r in found:
        for h in r.item.history:
            seen.setdefault((h.date, (h.body or "").casefold(), " ".join(h.text.split())), h)
    history = sorted(seen.values(), key=lambda h: (h.date or dt.date.max, h.body or "", h.text))
    return CaseView(case_number=case_number, kle=found[0].item.kle, items=found, history=history)

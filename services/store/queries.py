"""Read-side queries for users and the CLI; decisions are shown only for complete meetings."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from services.store.models import (
    DecisionPublic,
    MeetingPublic,
    agenda_items,
    decisions,
    documents,
    meetings,
)
from shared.contracts.meeting import Outcome

Target = AsyncEngine | AsyncConnection | AsyncSession


async def _all(target: Target, stmt: Select[Any]) -> list[Any]:
    if isinstance(target, AsyncEngine):
        async with target.connect() as conn:
            return list((await conn.execute(stmt)).all())
    return list((await target.execute(stmt)).all())


async def _scalar(target: Target, stmt: Select[Any]) -> int:
    rows = await _all(target, stmt)
    return int(rows[0][0]) if rows else 0


def decisions_query(
    *,
    since: dt.date | None = None,
    municipality: str | None = None,
    committee: str | None = None,
    outcome: Outcome | str | None = None,
    match: str | None = None,
    all_versions: bool = False,
) -> Select[Any]:
    """The SELECT of decisions of complete meetings, newest meeting first; filters combine with AND.

    Only the current version of each meeting counts (corrected minutes replace the earlier ones) unless
    `all_versions` is set.

    `municipality` matches case-insensitively and exactly; `committee` is a case-insensitive substring;
    `match` is a case-insensitive substring of the decision text or the item title.
    """
    stmt = (
        select(
            decisions.c.event_id,
            decisions.c.item_id,
            decisions.c.document_id,
            meetings.c.municipality,
            meetings.c.municipality_code,
            meetings.c.committee,
            meetings.c.meeting_date,
            agenda_items.c.number.label("item_number"),
            agenda_items.c.title.label("item_title"),
            agenda_items.c.case_number,
            decisions.c.outcome,
            decisions.c.text.label("decision_text"),
            agenda_items.c.absent,
            decisions.c.stored_at,
            documents.c.source_url,
        )
        .join(agenda_items, agenda_items.c.id == decisions.c.item_id)
        .join(meetings, meetings.c.document_id == decisions.c.document_id)
        .outerjoin(documents, documents.c.document_id == decisions.c.document_id)
        .where(meetings.c.complete.is_(True))
    )
    if not all_versions:
        stmt = stmt.where(meetings.c.superseded_by.is_(None))
    if since is not None:
        stmt = stmt.where(meetings.c.meeting_date >= since)
    if municipality:
        stmt = stmt.where(func.lower(meetings.c.municipality) == municipality.lower())
    if committee:
        needle = committee.lower()
        stmt = stmt.where(func.lower(meetings.c.committee).contains(needle, autoescape=True))
    if outcome:
        stmt = stmt.where(decisions.c.outcome == Outcome(outcome).value)
    if match:
        # lower() on both sides (SQLite's is replaced by a Unicode-aware one in db.py); autoescape makes
        # % and _ in the user's text literal.
        needle = match.lower()
        stmt = stmt.where(
            func.lower(decisions.c.text).contains(needle, autoescape=True)
            | func.lower(agenda_items.c.title).contains(needle, autoescape=True)
        )
    # decisions.event_id last: a total order, so pages and repeated queries never shuffle equal rows.
    return stmt.order_by(
        meetings.c.meeting_date.desc().nulls_last(),
        decisions.c.document_id,
        agenda_items.c.position,
        decisions.c.event_id,
    )


async def list_decisions(
    target: Target,
    *,
    since: dt.date | None = None,
    municipality: str | None = None,
    committee: str | None = None,
    outcome: Outcome | str | None = None,
    match: str | None = None,
    all_versions: bool = False,
    limit: int = 100,
) -> list[DecisionPublic]:
    """At most `limit` decisions of `decisions_query` (see there for the filters)."""
    stmt = decisions_query(
        since=since, municipality=municipality, committee=committee, outcome=outcome, match=match,
        all_versions=all_versions,
    ).limit(limit)
    return [DecisionPublic.model_validate(dict(row._mapping)) for row in await _all(target, stmt)]


async def stream_decisions(
    engine: AsyncEngine, stmt: Select[Any], *, page: int = 500
) -> AsyncIterator[DecisionPublic]:
    """Every row of `stmt`, fetched `page` rows at a time through a server-side cursor (never all in memory)."""
    async with engine.connect() as conn:
        result = await conn.stream(stmt.execution_options(yield_per=page))
        async for row in result:
            yield DecisionPublic.model_validate(dict(row._mapping))


async def count_rows(target: Target, stmt: Select[Any]) -> int:
    """How many rows `stmt` returns (without its ORDER BY and LIMIT)."""
    inner = stmt.order_by(None).limit(None).subquery()
    return await _scalar(target, select(func.count()).select_from(inner))


async def list_meetings(
    target: Target, *, complete_only: bool = False, all_versions: bool = True, limit: int = 100
) -> list[MeetingPublic]:
    """Meetings, newest first (without superseded versions if `all_versions` is off)."""
    stmt = select(meetings).order_by(meetings.c.meeting_date.desc().nulls_last(), meetings.c.document_id)
    if complete_only:
        stmt = stmt.where(meetings.c.complete.is_(True))
    if not all_versions:
        stmt = stmt.where(meetings.c.superseded_by.is_(None))
    rows = await _all(target, stmt.limit(limit))
    return [MeetingPublic.model_validate(dict(row._mapping)) for row in rows]


async def count_documents(target: Target) -> int:
    """Number of stored documents."""
    return await _scalar(target, select(func.count()).select_from(documents))


async def count_meetings(target: Target, *, complete_only: bool = False) -> int:
    """Number of meetings (only the complete ones if asked)."""
    stmt = select(func.count()).select_from(meetings)
    if complete_only:
        stmt = stmt.where(meetings.c.complete.is_(True))
    return await _scalar(target, stmt)


async def count_items(target: Target) -> int:
    """Number of stored agenda items."""
    return await _scalar(target, select(func.count()).select_from(agenda_items))


async def count_decisions(target: Target, *, complete_only: bool = False) -> int:
    """Number of stored decisions (only those of complete meetings if asked)."""
    stmt = select(func.count()).select_from(decisions)
    if complete_only:
        stmt = stmt.join(meetings, meetings.c.document_id == decisions.c.document_id).where(
            meetings.c.complete.is_(True)
        )
    return await _scalar(target, stmt)

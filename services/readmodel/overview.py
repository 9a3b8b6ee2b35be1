"""A filter's decisions in figures (the overview pages): decisions per month, outcome shares, the busiest
cases and the committees, all through the one decision filter (`filter.SqlFilter`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func

from services.readmodel.common import Target, rows
from services.readmodel.filter import ReadFilter, SqlFilter, sql_filter
from services.readmodel.meetings import count_meetings, meetings_query
from services.readmodel.results import CaseCount, CommitteeCount, MonthCount, OutcomeCount, Overview
from services.store.models import agenda_items, decisions, meetings

BUSIEST_CASES = 10
# A chart of more months than this shows the latest ones (a decade of monthly bars is unreadable).
MAX_MONTHS = 48


def _decisions_from(sql: SqlFilter) -> tuple[Any, list[Any]]:
    """The decisions `sql` selects, joined to their items and meetings (the overview reads both)."""
    conditions, _, _ = sql.decision_conditions()
    joined: Any = decisions.join(agenda_items, agenda_items.c.id == decisions.c.item_id).join(
        meetings, meetings.c.document_id == decisions.c.document_id
    )
    if sql.text is not None:
        joined = sql.text.join(joined, decisions.c.item_id)
        conditions.append(sql.text.condition)
    return joined, conditions


def month_series(per_day: Counter[dt.date], *, limit: int = MAX_MONTHS) -> list[MonthCount]:
    """Counts per day summed per month, every month from the first to the last (gaps as 0), the latest
    `limit` months at most."""
    per_month: Counter[dt.date] = Counter()
    for day, n in per_day.items():
        per_month[day.replace(day=1)] += n
    if not per_month:
        return []
    first, last = min(per_month), max(per_month)
    out: list[MonthCount] = []
    month = first
    while month <= last:
        out.append(MonthCount(month=month, decisions=per_month[month]))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return out[-limit:]


async def overview(target: Target, flt: ReadFilter) -> Overview:
    """The figures of the decisions (and meetings) `flt` selects."""
    sql = await sql_filter(target, flt)
    joined, conditions = _decisions_from(sql)
    by_day_outcome = await rows(
        target,
        sa.select(meetings.c.meeting_date, decisions.c.outcome, func.count().label("n"))
        .select_from(joined)
        .where(*conditions)
        .group_by(meetings.c.meeting_date, decisions.c.outcome),
    )
    per_day: Counter[dt.date] = Counter()
    per_outcome: Counter[str] = Counter()
    undated = 0
    for row in by_day_outcome:
        per_outcome[row.outcome] += row.n
        if row.meeting_date is None:
            undated += row.n
        else:
            per_day[row.meeting_date] += row.n
    n = func.count().label("n")
    case_rows = await rows(
        target,
        sa.select(decisions.c.case_number, func.max(agenda_items.c.title).label("title"), n)
        .select_from(joined)
        .where(*conditions, decisions.c.case_number.is_not(None))
        .group_by(decisions.c.case_number)
        .having(func.count() > 1)  # a case decided once is no busier than any other
        .order_by(n.desc(), decisions.c.case_number)
        .limit(BUSIEST_CASES),
    )
    chosen = meetings_query(sql).subquery()
    committee_rows = await rows(
        target,
        sa.select(chosen.c.committee, func.count().label("n"))
        .group_by(chosen.c.committee)
        .order_by(func.count().desc(), chosen.c.committee),
    )
    return Overview(
        decisions=sum(per_outcome.values()),
        meetings=await count_meetings(target, flt),
        months=month_series(per_day),
        undated=undated,
        outcomes=[OutcomeCount(outcome=o, decisions=c) for o, c in per_outcome.most_common()],
        cases=[CaseCount(case_number=r.case_number, title=r.title, decisions=r.n) for r in case_rows],
        committees=[CommitteeCount(committee=r.committee, meetings=r.n) for r in committee_rows],
    )

"""Decisions of complete meetings (current versions unless `ReadFilter.all_versions`): a page, a count, a stream.

Orders, both total, so keyset pages never lose or repeat a row (see `common.py`):

- without a full-text query: newest meeting first — `(meeting_date DESC (no date last), document_id,
  position)`;
- with `q`: best match first — `(rank DESC, then the order above)`. The rank is *document-local*: it
  depends only on the row and the query, never on the rest of the corpus (PostgreSQL's `ts_rank`; on SQLite
  a weight per field that holds a match, not FTS5's corpus-wide bm25, whose IDF moves whenever a row is
  added), so a new row cannot move the rows already paged past. A new row that sorts before the cursor is
  simply not part of this traversal (start again to see it).

The keys of the newest-first order are copied onto each decision row (`date_order`, `position`, and
`listed` = complete and current; also `case_number`, `kle`), kept in step by the store
(`repository.sync_decisions`), with composite indexes in that order: a page without `q` seeks to its cursor
in an index and stops after `limit + 1` rows, whatever the size of the store. A page with `q` ranks every
match (the rank depends on the query, so no index holds it in order), then sorts with a bounded LIMIT.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.readmodel import cursor as cursor_codec
from services.readmodel.common import (
    NO_DATE,
    PROVENANCE_COLUMNS,
    STREAM_PAGE,
    Target,
    clamp,
    connected,
    count,
    fingerprint,
    provenance,
    rows,
    votes_of,
)
from services.readmodel.cursor import CursorError
from services.readmodel.filter import ReadFilter, SqlFilter, TextMatch, sql_filter
from services.readmodel.results import DEFAULT_LIMIT, DecisionHit, Page, Provenance
from services.store import search
from services.store.attachments import links
from services.store.models import agenda_items, decisions, documents, meetings

_PG_HEADLINE = sa.text(
    "SELECT t.id, ts_headline('danish', t.doc, to_tsquery('danish', :q), :opts) AS headline "
    "FROM unnest(CAST(:ids AS text[]), CAST(:docs AS text[])) AS t(id, doc)"
)
_PG_HEADLINE_OPTIONS = (
    f'StartSel="{search.PG_MARK_START}", StopSel="{search.PG_MARK_STOP}", MaxWords=35, MinWords=15, '
    'MaxFragments=2, FragmentDelimiter=" … "'
)

_COLUMNS: tuple[Any, ...] = (
    decisions.c.event_id,
    decisions.c.item_id,
    decisions.c.document_id,
    meetings.c.municipality,
    meetings.c.municipality_code,
    meetings.c.region,
    meetings.c.committee,
    meetings.c.meeting_date,
    agenda_items.c.number.label("item_number"),
    agenda_items.c.title.label("item_title"),
    agenda_items.c.case_number,
    agenda_items.c.kle,
    decisions.c.outcome,
    decisions.c.text.label("decision_text"),
    agenda_items.c.absent,
    agenda_items.c.votes,
    agenda_items.c.attachment_refs,
    agenda_items.c.position,
    decisions.c.stored_at,
    decisions.c.date_order,
    *PROVENANCE_COLUMNS,
)


def _joined() -> Any:
    return (
        decisions.join(agenda_items, agenda_items.c.id == decisions.c.item_id)
        .join(meetings, meetings.c.document_id == decisions.c.document_id)
        .join(documents, documents.c.document_id == decisions.c.document_id)
    )


def _select(sql: SqlFilter, *, keys_only: bool = False) -> tuple[Select[Any], list[Any], TextMatch | None]:
    """The SELECT of decisions, its ascending sort keys and the text match (if any), unordered and unpaged.

    The keys are the page order, every one ascending (the rank negated): `(-rank,) date_order, document_id,
    position`. `keys_only`: only the item id and the sort keys, joining only what the filters need (a page's
    rows are fetched after its keys are known: see `search_decisions`).
    """
    match = sql.text
    conditions, on_meetings, on_items = sql.decision_conditions()
    if keys_only:
        columns: list[Any] = [decisions.c.item_id, decisions.c.date_order, decisions.c.document_id,
                              decisions.c.position]  # fmt: skip
        joined: Any = decisions
        if on_items:
            joined = joined.join(agenda_items, agenda_items.c.id == decisions.c.item_id)
        if on_meetings:
            joined = joined.join(meetings, meetings.c.document_id == decisions.c.document_id)
    else:
        columns = list(_COLUMNS)
        joined = _joined()
    keys: list[Any] = [decisions.c.date_order, decisions.c.document_id, decisions.c.position]
    if match is not None:
        columns.append(match.rank.label("rank"))
        joined = match.join(joined, decisions.c.item_id)
        keys.insert(0, -match.rank)
        conditions.append(match.condition)
        if sql.dialect == "sqlite" and not sql.filter.all_versions:
            # Driven from the full-text hits (rowid IN the MATCH, then each hit's decision by primary key):
            # with `listed` usable as an index SQLite walks every listed decision instead and probes the hit
            # list inside item_search_ids' index per decision — quadratic. "+" takes `listed` off the index.
            conditions[0] = sa.literal_column("+decisions.listed", sa.Boolean).is_(True)
    return sa.select(*columns).select_from(joined).where(*conditions), keys, match


def _hit(row: Any, snippet: str | None = None) -> DecisionHit:
    m = row._mapping
    return DecisionHit(
        event_id=row.event_id,
        item_id=row.item_id,
        document_id=row.document_id,
        municipality=row.municipality,
        municipality_code=row.municipality_code,
        region=row.region,
        committee=row.committee,
        meeting_date=row.meeting_date,
        item_number=row.item_number,
        item_title=row.item_title,
        case_number=row.case_number,
        kle=row.kle,
        outcome=row.outcome,
        decision_text=row.decision_text,
        absent=list(row.absent or []),
        votes=votes_of(row.votes),
        attachment_links=list(links(row.attachment_refs)),
        stored_at=row.stored_at,
        snippet=snippet,
        rank=m.get("rank"),
        provenance=Provenance(**provenance(row)),
    )


def _order_date(date_order: int) -> str:
    """The cursor's date of a `date_order` (the meeting date; NO_DATE for an undated meeting)."""
    return (dt.date.fromordinal(-date_order) if date_order else NO_DATE).isoformat()


def _cursor_values(row: Any, with_rank: bool) -> list[Any]:
    values = [_order_date(row.date_order), row.document_id, row.position]
    return [row.rank, *values] if with_rank else values


def _bind_values(values: list[Any], with_rank: bool) -> list[Any]:
    """Cursor values as the ascending keys compare them (rank negated, date as date_order); CursorError if
    they are not. The cursor still carries the date itself, so cursors made before 0006 page on."""
    try:
        offset = 1 if with_rank else 0
        day = dt.date.fromisoformat(values[offset])
        out: list[Any] = [0 if day == NO_DATE else -day.toordinal(), str(values[offset + 1]),
                          int(values[offset + 2])]  # fmt: skip
        return [-float(values[0]), *out] if with_rank else out
    except (TypeError, ValueError, IndexError) as exc:
        raise CursorError(f"the cursor is not one this service made: {cursor_codec.AGAIN}") from exc


async def _snippets(target: Target, match: TextMatch, found: list[Any]) -> dict[str, str | None]:
    """The highlighted snippet of each row (by item id), from bounded texts: the sections are read cut to
    `search.SNIPPET_SCAN_CHARS` (never whole: an item may hold tens of MB), and the SQLite snippet is made in
    a thread, so a page of hits never holds up the event loop."""
    if not found:
        return {}
    limit = search.SNIPPET_SCAN_CHARS
    bodies = await _bounded_sections(target, [row.item_id for row in found], limit)

    def texts(row: Any) -> list[str]:
        return [(row.decision_text or "")[:limit], (row.item_title or "")[:limit], bodies.get(row.item_id, "")]

    if match.dialect == "sqlite":
        wanted = match.query.positive_stems
        return await asyncio.to_thread(lambda: {row.item_id: search.snippet(texts(row), wanted) for row in found})
    # PostgreSQL: ts_headline over the same (bounded) texts, all rows of the page in one round trip.
    params = {
        "q": match.tsquery,
        "opts": _PG_HEADLINE_OPTIONS,
        "ids": [row.item_id for row in found],
        "docs": ["\n".join(texts(row)) for row in found],
    }
    headlines = await rows(target, _PG_HEADLINE, params)
    return {r.id: search.pg_headline_html(r.headline) for r in headlines}


async def _bounded_sections(target: Target, item_ids: list[str], limit: int) -> dict[str, str]:
    if isinstance(target, AsyncEngine):
        async with target.connect() as conn:
            return await search.bounded_sections(conn, item_ids, limit)
    return await search.bounded_sections(target, item_ids, limit)


# Parametrised once: pydantic rebuilds a generic model on a cache miss, a few ms.
_DecisionPage = Page[DecisionHit]


async def search_decisions(
    target: Target, flt: ReadFilter, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[DecisionHit]:
    """A page of decisions matching `flt`: best match first with `flt.q`, else newest meeting first.

    `limit` is clamped to 1..MAX_LIMIT. Raises CursorError for a bad cursor, SearchSyntaxError for a bad q.
    With `flt.q`, each hit has `snippet` (HTML-escaped, matches in `<mark>`) and `rank`.
    """
    limit = clamp(limit)
    stmt, keys, match = _select(await sql_filter(target, flt), keys_only=True)
    with_rank = match is not None
    fp = fingerprint("decisions", flt)
    if match is None:
        # Newest first: the keys are the columns of ix_decisions_page (or ix_decisions_outcome_page), so the
        # database seeks to the cursor in the index and stops after limit + 1 rows.
        source: Any = stmt.subquery("matching")
    else:
        # The matching keys once (MATERIALIZED: the keyset predicate and the order name the rank again, and an
        # inlined rank would run its full-text lookups again for each mention). Every match is ranked: the
        # rank depends on the query, so no index holds it in order.
        source = stmt.cte("matching").prefix_with("MATERIALIZED")
    paged = sa.select(source)
    mkeys: list[Any] = [source.c.date_order, source.c.document_id, source.c.position]
    if with_rank:
        mkeys.insert(0, -source.c.rank)
    if cursor:
        values = cursor_codec.decode(cursor, fp, len(keys))
        paged = paged.where(sa.tuple_(*mkeys) > sa.tuple_(*_bind_values(values, with_rank)))
    order = [source.c.rank.desc(), *mkeys[1:]] if with_rank else mkeys
    page = paged.order_by(*order).limit(limit + 1).subquery("page")
    page_order: list[Any] = [page.c.date_order, page.c.document_id, page.c.position]
    columns = list(_COLUMNS)
    if with_rank:
        columns.append(page.c.rank)
        page_order.insert(0, page.c.rank.desc())
    full = (
        sa.select(*columns)
        .select_from(_joined().join(page, page.c.item_id == decisions.c.item_id))
        .order_by(*page_order)
    )
    found = await rows(target, full)
    more = len(found) > limit
    found = found[:limit]
    snippets = await _snippets(target, match, found) if match is not None else {}
    hits = [_hit(row, snippets.get(row.item_id)) for row in found]
    next_cursor = cursor_codec.encode(fp, _cursor_values(found[-1], with_rank)) if more and found else None
    return _DecisionPage(items=hits, next_cursor=next_cursor, limit=limit)


async def count_decisions(target: Target, flt: ReadFilter) -> int:
    """How many decisions match `flt` (what `search_decisions` pages through)."""
    # The keys only: the filters' joins and nothing else (the web page counts on every search).
    stmt, _, _ = _select(await sql_filter(target, flt), keys_only=True)
    return await count(target, stmt)


async def iter_decisions(
    target: Target, flt: ReadFilter, *, limit: int | None = None
) -> AsyncIterator[DecisionHit]:
    """Every matching decision (or the first `limit`) in `search_decisions` order, streamed through a
    server-side cursor (no cap).

    With an engine the iteration holds its own connection until it is exhausted or closed; with a connection
    every statement runs on it. Hits carry `rank` with a query, but no snippet (exports have the whole text).
    """
    async with connected(target) as conn:
        stmt, keys, match = _select(await sql_filter(conn, flt))
        # The rank's own expression, descending, rather than its negation: the same order, which PostgreSQL
        # can take from the select list instead of computing ts_rank twice.
        stmt = stmt.order_by(*([match.rank.desc(), *keys[1:]] if match is not None else keys))
        if limit is not None:
            stmt = stmt.limit(limit)
        result = await conn.stream(stmt.execution_options(yield_per=STREAM_PAGE))
        async for row in result:
            yield _hit(row)

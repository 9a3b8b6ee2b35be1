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

The keys of the newest-first order are copied onto each decision row (`date_order`, `position`, and
`listed` = complete and current; also `case_number`, `kle`), kept in step by the store
(`repository.sync_decisions`), with composite indexes in that order: a page without `q` seeks to its cursor
in an index and stops after `limit + 1` rows, whatever the size of the store. A page with `q` ranks every
match (the rank depends on the query, so no index holds it in order), then sorts with a bounded LIMIT.

The cursor is opaque (url-safe base64 of the last row's keys, a fingerprint of the filter and a checksum);
a changed or truncated cursor, or one from another query, raises `CursorError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, func
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.store import cursor as cursor_codec
from services.store import search
from services.store.attachments import links
from services.store.models import agenda_items, decisions, documents, meetings
from services.store.read_models import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    AttachmentOut,
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
    "AttachmentOut",
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

# Dates sort newest first with undated meetings last: NULL becomes the earliest possible date, so the sort
# key is never NULL and the keyset comparison stays a plain comparison on both databases.
_NO_DATE = dt.date(1, 1, 1)
_date_key = func.coalesce(meetings.c.meeting_date, sa.literal(_NO_DATE, sa.Date))
_STREAM_PAGE = 500

_SQLITE_INDEX = sa.table("item_search", sa.column("rowid"))
_SQLITE_IDS = sa.table("item_search_ids", sa.column("rowid"), sa.column("item_id"))
_PG_INDEX = sa.table("item_search", sa.column("item_id"), sa.column("tsv"))
_PG_HEADLINE = sa.text(
    "SELECT t.id, ts_headline('danish', t.doc, to_tsquery('danish', :q), :opts) AS headline "
    "FROM unnest(CAST(:ids AS text[]), CAST(:docs AS text[])) AS t(id, doc)"
)
_PG_HEADLINE_OPTIONS = (
    f'StartSel="{search.PG_MARK_START}", StopSel="{search.PG_MARK_STOP}", MaxWords=35, MinWords=15, '
    'MaxFragments=2, FragmentDelimiter=" … "'
)


def _dialect(target: Target) -> str:
    return target.dialect.name


async def _rows(target: Target, stmt: Any, params: dict[str, Any] | None = None) -> list[Any]:
    if isinstance(target, AsyncEngine):
        async with target.connect() as conn:
            return list((await conn.execute(stmt, params or {})).all())
    return list((await target.execute(stmt, params or {})).all())


def _clamp(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


# --- filters -------------------------------------------------------------------------------------------


class _TextMatch:
    """The full-text part of a query on one dialect: the join, the condition and the rank."""

    def __init__(self, dialect: str, q: str) -> None:
        self.dialect = dialect
        self.raw = q
        self.tsquery = ""
        # Parsed on both stores, so a query that cannot find anything is refused the same way.
        self.query = search.parse_query(q)
        if dialect == "sqlite":
            # Hits through the rowid map: FTS5 answers a MATCH from its index alone (reading a column back
            # out of it costs a content lookup per hit).
            def hits(expression: str) -> Any:
                match = sa.literal_column("item_search").op("MATCH")(expression)
                return sa.select(_SQLITE_INDEX.c.rowid).where(match)

            self.condition: ColumnElement[bool] = _SQLITE_IDS.c.rowid.in_(hits(search.fts5_expression(self.query)))
            fields = search.fts5_field_expressions(self.query)
            score = sum(
                (
                    sa.case((_SQLITE_IDS.c.rowid.in_(hits(expr)), search.WEIGHTS[field]), else_=0.0)
                    for field, expr in fields.items()
                ),
                sa.literal(0.0),
            )
            self.rank: ColumnElement[float] = sa.cast(func.round(score, 9), sa.Float)
        elif dialect == "postgresql":
            self.tsquery = search.tsquery_expression(self.query)
            tsq = func.to_tsquery(sa.literal_column("'danish'"), sa.literal(self.tsquery, sa.Text))
            self.condition = _PG_INDEX.c.tsv.op("@@")(tsq)
            positive = search.tsquery_expression(self.query, exclusions=False)
            rank_q = func.to_tsquery(sa.literal_column("'danish'"), sa.literal(positive, sa.Text))
            self.rank = sa.cast(func.ts_rank(_PG_INDEX.c.tsv, rank_q), sa.Float(53))
        else:
            raise NotImplementedError(f"no full-text search on {dialect!r}")

    def join(self, joined: Any, item_id: Any = agenda_items.c.id) -> Any:
        """`joined` with what `condition` and `rank` need, joined on the item id column `item_id`."""
        if self.dialect == "postgresql":
            return joined.join(_PG_INDEX, _PG_INDEX.c.item_id == item_id)
        return joined.join(_SQLITE_IDS, _SQLITE_IDS.c.item_id == item_id)


def _meeting_conditions(flt: ReadFilter) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = [meetings.c.complete.is_(True)]
    if not flt.all_versions:
        out.append(meetings.c.superseded_by.is_(None))
    if flt.municipality:
        out.append(func.lower(meetings.c.municipality) == flt.municipality.strip().lower())
    if flt.region:
        out.append(func.lower(meetings.c.region) == flt.region.strip().lower())
    if flt.committee:
        needle = flt.committee.strip().lower()
        out.append(func.lower(meetings.c.committee).contains(needle, autoescape=True))
    if flt.date_from:
        out.append(meetings.c.meeting_date >= flt.date_from)
    if flt.date_to:
        out.append(meetings.c.meeting_date <= flt.date_to)
    return out


def _decision_conditions(flt: ReadFilter, dialect: str) -> tuple[list[ColumnElement[bool]], bool, bool]:
    """The conditions of a decisions query, and whether they need the meetings / the items joined.

    Visibility and the date range are read from the decision's own page keys (`listed`, `date_order`, kept
    in step with the meeting by the store), so the common pages need no join to find their rows.
    """
    out: list[ColumnElement[bool]] = []
    meeting_level = flt.model_copy(update={"date_from": None, "date_to": None, "all_versions": True})
    on_meetings = _meeting_conditions(meeting_level)[1:]  # without `complete`: see below
    if flt.all_versions:
        on_meetings.insert(0, meetings.c.complete.is_(True))
    else:
        out.append(decisions.c.listed.is_(True))
    if flt.case_number:  # ix_decisions_case_page: in page order
        out.append(decisions.c.case_number == flt.case_number.strip())
    if flt.kle:
        # ix_decisions_kle_page seeks the range (see _kle_range) and its matches are sorted.
        out.append(_kle_range(decisions.c.kle, flt.kle))
    # date_order is minus the date's ordinal (0: undated, which a date bound always excludes).
    if flt.date_from:
        out.append(decisions.c.date_order <= -flt.date_from.toordinal())
    if flt.date_to:
        out.append(decisions.c.date_order.between(-flt.date_to.toordinal(), -1))
    on_items = _item_conditions(flt.model_copy(update={"outcome": None, "case_number": None, "kle": None}), dialect)
    if flt.outcome:
        out.extend(_outcome_conditions(flt.outcome.value, listed_known=not flt.all_versions))
    return [*out, *on_meetings, *on_items], bool(on_meetings), bool(on_items)


def _outcome_conditions(outcome: str, *, listed_known: bool) -> list[ColumnElement[bool]]:
    """decisions.outcome = `outcome`; when the query does not fix `listed`, also `listed IN (true, false)`:
    always true, it lets SQLite seek ix_decisions_outcome_page (listed, outcome, …) twice instead of scanning
    the decisions (revision 0010 dropped the index on `outcome` alone, a b-tree written for every decision)."""
    out = [decisions.c.outcome == outcome]
    if not listed_known:
        out.insert(0, decisions.c.listed.in_([True, False]))
    return out


def _absent_condition(dialect: str, name: str) -> ColumnElement[bool]:
    """The member is in the item's absent list: the exact name, or the name followed by ` (party)`."""
    needle = name.strip().lower()
    like = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + " (%"
    if dialect == "postgresql":
        elements, value = "json_array_elements_text(agenda_items.absent) AS a(v)", "a.v"
    else:
        elements, value = "json_each(agenda_items.absent) AS a", "a.value"
    clause = sa.text(
        f"EXISTS (SELECT 1 FROM {elements} WHERE lower({value}) = :absent_name "
        f"OR lower({value}) LIKE :absent_like ESCAPE '\\')"
    ).bindparams(absent_name=needle, absent_like=like)
    return sa.and_(clause)


def _kle_range(column: Any, kle: str) -> ColumnElement[bool]:
    """The subjects under `kle`: the filter is whole groups (NN, NN.NN, NN.NN.NN) and a stored subject is
    NN.NN.NN, so the prefix is the range [kle, kle + ":") (":" sorts after the digits and "."), which an
    index can seek; LIKE cannot use one (it ignores case)."""
    return sa.and_(column >= kle, column < kle + ":")


def _item_conditions(flt: ReadFilter, dialect: str) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if flt.outcome:
        out.extend(_outcome_conditions(flt.outcome.value, listed_known=False))
    if flt.case_number:
        out.append(agenda_items.c.case_number == flt.case_number.strip())
    if flt.kle:
        out.append(_kle_range(agenda_items.c.kle, flt.kle))
    if flt.absent and flt.absent.strip():
        out.append(_absent_condition(dialect, flt.absent))
    return out


def _after(keys: Sequence[tuple[ColumnElement[Any], bool]], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `keys` ((expression, descending) pairs)."""
    clauses = []
    for i, (expr, desc) in enumerate(keys):
        same = [k == v for (k, _), v in zip(keys[:i], values[:i], strict=True)]
        beyond = expr < values[i] if desc else expr > values[i]
        clauses.append(sa.and_(*same, beyond))
    return sa.or_(*clauses)


def _fingerprint(kind: str, flt: ReadFilter) -> str:
    return cursor_codec.fingerprint(kind, flt.model_dump(mode="json"))


# --- decisions -----------------------------------------------------------------------------------------

_PROVENANCE_COLUMNS = (
    documents.c.original_name,
    documents.c.blob_ref,
    documents.c.content_type,
    documents.c.size,
    documents.c.received_at,
    documents.c.stored_at.label("doc_stored_at"),
    documents.c.parsed_at,
    documents.c.source_url,
    agenda_items.c.page,
    meetings.c.kind,
    meetings.c.superseded_by,
)


_DECISION_COLUMNS: tuple[Any, ...] = (
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
    agenda_items.c.attachment_refs,
    agenda_items.c.sections,
    agenda_items.c.position,
    decisions.c.stored_at,
    decisions.c.date_order,
    *_PROVENANCE_COLUMNS,
)


def _decisions_joined(*, with_documents: bool = True) -> Any:
    joined = decisions.join(agenda_items, agenda_items.c.id == decisions.c.item_id).join(
        meetings, meetings.c.document_id == decisions.c.document_id
    )
    if with_documents:
        joined = joined.join(documents, documents.c.document_id == decisions.c.document_id)
    return joined


def _decisions_select(
    flt: ReadFilter, dialect: str, *, keys_only: bool = False
) -> tuple[Select[Any], list[Any], _TextMatch | None]:
    """The SELECT of decisions, its ascending sort keys and the text match (if any), unordered and unpaged.

    The keys are the page order, every one ascending (the rank negated): `(-rank,) date_order, document_id,
    position`. `keys_only`: only the item id and the sort keys, joining only what the filters need (a page's
    rows are fetched after its keys are known: see `search_decisions`).
    """
    match = _TextMatch(dialect, flt.q) if flt.q and flt.q.strip() else None
    conditions, on_meetings, on_items = _decision_conditions(flt, dialect)
    if keys_only:
        columns: list[Any] = [decisions.c.item_id, decisions.c.date_order, decisions.c.document_id,
                              decisions.c.position]  # fmt: skip
        joined: Any = decisions
        if on_items:
            joined = joined.join(agenda_items, agenda_items.c.id == decisions.c.item_id)
        if on_meetings:
            joined = joined.join(meetings, meetings.c.document_id == decisions.c.document_id)
    else:
        columns = list(_DECISION_COLUMNS)
        joined = _decisions_joined()
    keys: list[Any] = [decisions.c.date_order, decisions.c.document_id, decisions.c.position]
    if match is not None:
        columns.append(match.rank.label("rank"))
        joined = match.join(joined, decisions.c.item_id)
        keys.insert(0, -match.rank)
        conditions.append(match.condition)
        if dialect == "sqlite" and not flt.all_versions:
            # Driven from the full-text hits (rowid IN the MATCH, then each hit's decision by primary key):
            # with `listed` usable as an index SQLite walks every listed decision instead and probes the hit
            # list inside item_search_ids' index per decision — quadratic. "+" takes `listed` off the index.
            conditions[0] = sa.literal_column("+decisions.listed", sa.Boolean).is_(True)
    return sa.select(*columns).select_from(joined).where(*conditions), keys, match


def _provenance(row: Any, *, page: bool = True) -> dict[str, Any]:
    return {
        "document_id": row.document_id,
        "original_name": row.original_name,
        "blob_ref": row.blob_ref,
        "blob_available": row.blob_ref is not None,
        "content_type": row.content_type,
        "size": row.size,
        "received_at": row.received_at,
        "stored_at": row.doc_stored_at,
        "page": row.page if page else None,
        "kind": row.kind,
        "current": row.superseded_by is None,
        "superseded_by": row.superseded_by,
        "source_url": row.source_url,
    }


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
        attachment_links=list(links(row.attachment_refs)),
        stored_at=row.stored_at,
        snippet=snippet,
        rank=m.get("rank"),
        provenance=Provenance(**_provenance(row)),
    )


def _order_date(date_order: int) -> str:
    """The cursor's date of a `date_order` (the meeting date; _NO_DATE for an undated meeting)."""
    return (dt.date.fromordinal(-date_order) if date_order else _NO_DATE).isoformat()


def _cursor_values(row: Any, with_rank: bool) -> list[Any]:
    values = [_order_date(row.date_order), row.document_id, row.position]
    return [row.rank, *values] if with_rank else values


def _bind_values(values: list[Any], with_rank: bool) -> list[Any]:
    """Cursor values as the ascending keys compare them (rank negated, date as date_order); CursorError if
    they are not. The cursor still carries the date itself, so cursors made before 0006 page on."""
    try:
        offset = 1 if with_rank else 0
        day = dt.date.fromisoformat(values[offset])
        out: list[Any] = [0 if day == _NO_DATE else -day.toordinal(), str(values[offset + 1]),
                          int(values[offset + 2])]  # fmt: skip
        return [-float(values[0]), *out] if with_rank else out
    except (TypeError, ValueError, IndexError) as exc:
        raise CursorError(f"the cursor is not one this service made: {cursor_codec.AGAIN}") from exc


async def _snippets(target: Target, match: _TextMatch, rows: list[Any]) -> dict[str, str | None]:
    """The highlighted snippet of each row (by item id)."""

    def texts(row: Any) -> list[str]:
        return [row.decision_text, row.item_title, search.sections_text(row.sections or [])]

    if match.dialect == "sqlite" or not rows:
        wanted = match.query.positive_stems
        return {row.item_id: search.snippet(texts(row), wanted) for row in rows}
    # PostgreSQL: ts_headline over the same texts, all rows of the page in one round trip.
    params = {
        "q": match.tsquery,
        "opts": _PG_HEADLINE_OPTIONS,
        "ids": [row.item_id for row in rows],
        "docs": ["\n".join(texts(row)) for row in rows],
    }
    found = await _rows(target, _PG_HEADLINE, params)
    return {r.id: search.pg_headline_html(r.headline) for r in found}


# Parametrised once: pydantic rebuilds a generic model on a cache miss, a few ms.
_DecisionPage = Page[DecisionHit]


async def search_decisions(
    target: Target, flt: ReadFilter, *, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> Page[DecisionHit]:
    """A page of decisions matching `flt`: best match first with `flt.q`, else newest meeting first.

    `limit` is clamped to 1..MAX_LIMIT. Raises CursorError for a bad cursor, SearchSyntaxError for a bad q.
    With `flt.q`, each hit has `snippet` (HTML-escaped, matches in `<mark>`) and `rank`.
    """
    limit = _clamp(limit)
    stmt, keys, match = _decisions_select(flt, _dialect(target), keys_only=True)
    with_rank = match is not None
    fp = _fingerprint("decisions", flt)
    if match is None:
        # Newest first: the keys are the columns of ix_decisions_page (or ix_decisions_outcome_page), so the
        # database seeks to the cursor in the index and stops after limit + 1 rows.
        source: Any = stmt.subquery("matching")
        paged = sa.select(source)
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
    columns = list(_DECISION_COLUMNS)
    if with_rank:
        columns.append(page.c.rank)
        page_order.insert(0, page.c.rank.desc())
    full = (
        sa.select(*columns)
        .select_from(_decisions_joined().join(page, page.c.item_id == decisions.c.item_id))
        .order_by(*page_order)
    )
    rows = await _rows(target, full)
    more = len(rows) > limit
    rows = rows[:limit]
    snippets = await _snippets(target, match, rows) if match is not None else {}
    hits = [_hit(row, snippets.get(row.item_id)) for row in rows]
    next_cursor = cursor_codec.encode(fp, _cursor_values(rows[-1], with_rank)) if more and rows else None
    return _DecisionPage(items=hits, next_cursor=next_cursor, limit=limit)


async def _count(target: Target, stmt: Select[Any]) -> int:
    rows = await _rows(target, sa.select(func.count()).select_from(stmt.order_by(None).subquery()))
    return int(rows[0][0])


async def count_decisions(target: Target, flt: ReadFilter) -> int:
    """How many decisions match `flt` (what `search_decisions` pages through)."""
    stmt, _, _ = _decisions_select(flt, _dialect(target))
    return await _count(target, stmt)


async def iter_decisions(engine: AsyncEngine, flt: ReadFilter) -> AsyncIterator[DecisionHit]:
    """Every matching decision in `search_decisions` order, streamed through a server-side cursor (no cap).

    Takes an engine: the iteration holds its own connection until it is exhausted or closed. Hits carry
    `rank` with a query, but no snippet (exports have the whole text).
    """
    stmt, keys, match = _decisions_select(flt, engine.dialect.name)
    # The rank's own expression, descending, rather than its negation: the same order, which PostgreSQL
    # can take from the select list instead of computing ts_rank twice.
    stmt = stmt.order_by(*([match.rank.desc(), *keys[1:]] if match is not None else keys))
    async with engine.connect() as conn:
        result = await conn.stream(stmt.execution_options(yield_per=_STREAM_PAGE))
        async for row in result:
            yield _hit(row)


# --- items ---------------------------------------------------------------------------------------------


def _item_out(row: Any) -> ItemOut:
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
        votes=row.votes,
        decision_text=row.decision_text,
        outcome=row.outcome,
        event_id=row.event_id,
        page=row.page,
        history=[EarlierDecisionOut.model_validate(h) for h in row.history or []],
    )


_ITEM_COLUMNS = (
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


def _items_select(flt: ReadFilter, dialect: str) -> Select[Any]:
    joined = (
        agenda_items.outerjoin(decisions, decisions.c.item_id == agenda_items.c.id)
        .join(meetings, meetings.c.document_id == agenda_items.c.document_id)
        .join(documents, documents.c.document_id == agenda_items.c.document_id)
    )
    stmt = sa.select(
        *_ITEM_COLUMNS,
        meetings.c.municipality,
        meetings.c.municipality_code,
        meetings.c.region,
        meetings.c.committee,
        meetings.c.meeting_date,
        *_PROVENANCE_COLUMNS,
    )
    if flt.q and flt.q.strip():
        match = _TextMatch(dialect, flt.q)
        joined = match.join(joined)
        stmt = stmt.where(match.condition)
    return stmt.select_from(joined).where(*_meeting_conditions(flt), *_item_conditions(flt, dialect))


def _with_meeting(row: Any) -> ItemWithMeeting:
    return ItemWithMeeting(
        item=_item_out(row),
        municipality=row.municipality,
        municipality_code=row.municipality_code,
        region=row.region,
        committee=row.committee,
        meeting_date=row.meeting_date,
        kind=row.kind,
        provenance=Provenance(**_provenance(row)),
    )


async def iter_items(engine: AsyncEngine, flt: ReadFilter) -> AsyncIterator[ItemWithMeeting]:
    """Every matching agenda item (decided or not) of complete meetings, newest meeting first and in document
    order within a meeting, streamed through a server-side cursor (no cap). `outcome` keeps decided items."""
    stmt = _items_select(flt, engine.dialect.name).order_by(
        _date_key.desc(), agenda_items.c.document_id, agenda_items.c.position
    )
    async with engine.connect() as conn:
        result = await conn.stream(stmt.execution_options(yield_per=_STREAM_PAGE))
        async for row in result:
            yield _with_meeting(row)


async def count_items(target: Target, flt: ReadFilter) -> int:
    """How many items `iter_items` yields."""
    return await _count(target, _items_select(flt, _dialect(target)))


# --- meetings ------------------------------------------------------------------------------------------

_decision_count = (
    sa.select(func.count())
    .select_from(decisions)
    .where(decisions.c.document_id == meetings.c.document_id)
    .scalar_subquery()
    .label("decision_count")
)

_MEETING_COLUMNS = (
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
    _date_key.label("date_key"),
    documents.c.original_name,
    documents.c.blob_ref,
    documents.c.content_type,
    documents.c.size,
    documents.c.received_at,
    documents.c.stored_at.label("doc_stored_at"),
    documents.c.parsed_at,
    documents.c.source_url,
)


def _meetings_select(flt: ReadFilter, dialect: str) -> Select[Any]:
    stmt = (
        sa.select(*_MEETING_COLUMNS)
        .select_from(meetings.join(documents, documents.c.document_id == meetings.c.document_id))
        .where(*_meeting_conditions(flt))
    )
    items_filtered = flt.model_copy(update={"all_versions": True})
    item_conds = _item_conditions(items_filtered, dialect)
    if item_conds or (flt.q and flt.q.strip()):
        joined: Any = agenda_items.outerjoin(decisions, decisions.c.item_id == agenda_items.c.id)
        inner = sa.select(agenda_items.c.document_id)
        if flt.q and flt.q.strip():
            match = _TextMatch(dialect, flt.q)
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

    Item-level filters (outcome, case_number, kle, absent, q) keep the meetings with at least one such item.
    """
    limit = _clamp(limit)
    stmt = _meetings_select(flt, _dialect(target))
    keys: list[tuple[Any, bool]] = [(_date_key, True), (meetings.c.document_id, False)]
    fp = _fingerprint("meetings", flt)
    if cursor:
        values = cursor_codec.decode(cursor, fp, len(keys))
        try:
            bound = [sa.literal(dt.date.fromisoformat(values[0]), sa.Date), str(values[1])]
        except (TypeError, ValueError) as exc:
            raise CursorError(f"the cursor is not one this service made: {cursor_codec.AGAIN}") from exc
        stmt = stmt.where(_after(keys, bound))
    rows = await _rows(target, stmt.order_by(_date_key.desc(), meetings.c.document_id).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [MeetingSummary(**_summary_fields(row)) for row in rows]
    next_cursor = None
    if more and rows:
        next_cursor = cursor_codec.encode(fp, [rows[-1].date_key.isoformat(), rows[-1].document_id])
    return Page[MeetingSummary](items=items, next_cursor=next_cursor, limit=limit)


async def count_meetings(target: Target, flt: ReadFilter) -> int:
    """How many meetings `list_meetings` pages through."""
    return await _count(target, _meetings_select(flt, _dialect(target)))


def _document_info(row: Any) -> DocumentInfo:
    return DocumentInfo(**_provenance(row, page=False), parsed_at=row.parsed_at)


async def get_meeting(target: Target, document_id: str) -> MeetingDetail | None:
    """One stored meeting (any version, complete or not) in full; None when there is no such document."""
    head = sa.select(*_MEETING_COLUMNS).select_from(
        meetings.join(documents, documents.c.document_id == meetings.c.document_id)
    )
    found = await _rows(target, head.where(meetings.c.document_id == document_id))
    if not found:
        return None
    row = found[0]
    items_stmt = (
        sa.select(*_ITEM_COLUMNS, agenda_items.c.page)
        .select_from(agenda_items.outerjoin(decisions, decisions.c.item_id == agenda_items.c.id))
        .where(agenda_items.c.document_id == document_id)
        .order_by(agenda_items.c.position)
    )
    items = [_item_out(r) for r in await _rows(target, items_stmt)]
    same = meetings.c.meeting_key == row.meeting_key if row.meeting_key else meetings.c.document_id == document_id
    order = func.coalesce(meetings.c.completed_at, documents.c.stored_at)
    version_rows = await _rows(target, head.where(same).order_by(order, meetings.c.document_id))
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
    return MeetingDetail(
        **_summary_fields(row),
        participants=list(row.participants or []),
        warnings=list(row.warnings or []),
        complete=row.complete,
        items=items,
        versions=versions,
        document=_document_info(row),
    )


async def get_case(target: Target, case_number: str, *, all_versions: bool = False) -> CaseView | None:
    """Every item with this case number (exact) in complete meetings, oldest meeting first; None if none."""
    flt = ReadFilter(case_number=case_number, all_versions=all_versions)
    oldest_first = func.coalesce(meetings.c.meeting_date, sa.literal(dt.date(9999, 12, 31), sa.Date))
    stmt = _items_select(flt, _dialect(target)).order_by(
        oldest_first, agenda_items.c.document_id, agenda_items.c.position
    )
    rows = [_with_meeting(r) for r in await _rows(target, stmt)]
    if not rows:
        return None
    seen: dict[tuple[Any, ...], EarlierDecisionOut] = {}
    for r in rows:
        for h in r.item.history:
            seen.setdefault((h.date, (h.body or "").casefold(), " ".join(h.text.split())), h)
    history = sorted(seen.values(), key=lambda h: (h.date or dt.date.max, h.body or "", h.text))
    return CaseView(case_number=case_number, kle=rows[0].item.kle, items=rows, history=history)


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
            func.coalesce(meetings.c.kind, "minutes").label("kind"),
            meetings.c.superseded_by,
        )
        .select_from(documents.outerjoin(meetings, meetings.c.document_id == documents.c.document_id))
        .where(documents.c.document_id == document_id)
    )
    rows = await _rows(target, stmt)
    return _document_info(rows[0]) if rows else None

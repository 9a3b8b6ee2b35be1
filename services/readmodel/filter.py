"""The one decision filter: its fields, what each means, and its two evaluations side by side.

A `ReadFilter` selects decisions (and items, and the meetings that hold such items). It is evaluated two ways,
kept next to each other here so that a field cannot change meaning in one and not in the other:

- **as SQL** (`SqlFilter`: conditions on meetings, items and decisions, and `TextMatch`): the reads of
  this package — the API, the web page, `minutes search`, `minutes decisions`, the exports;
- **on one event** (`Matcher`): a `DecisionMade` / `DecisionRevised` as published — the SSE endpoint, the
  Atom feeds, `minutes decisions --follow` and the alerts' subscriptions (services/alerts/matching.py).

| field | a decision passes when |
| --- | --- |
| municipality, region | the meeting's is this name, any case (an event carries no region: `Facts.region`) |
| committee | the meeting's committee contains this, any case |
| date_from, date_to | the meeting date is in the range; an undated meeting is outside every range |
| outcome | the outcome is this one |
| case_number | the item's case number is this one, spacing and case ignored (`01.02.05 - P16-3-24`) |
| kle | the KLE subject of the item's case number (services/store/kle.py) is this one or under it |
| absent | the member is in the item's absent list: the name, or the name and ` (party)`, any case |
| match | the item's title or decision text contains this, any case (`minutes decisions --match`) |
| q | the full-text query (services/store/search.py) matches the title, decision text and sections |
| all_versions | also superseded versions' decisions (SQL only: an announced decision is the current one) |

Text values are stripped, and a blank one is no filter. A municipality is matched in every spelling that means
it (shared/places.py `spellings`): `Aarhus`, `Aarhus Kommune`, `AARHUS KOMMUNE` find a meeting stored under
either `Aarhus` (the parser's name) or `Aarhus Kommune`; a listed long form (`Københavns Kommune`) too.
"Any case" is `lower()` on both sides: Python's in memory, and in SQL SQLite's (Python's too:
services/store/db.py) or PostgreSQL's (Unicode on UTF-8).

On an event, `q` is matched on the Danish stems of the texts the caller has: title and decision text from the
event, plus the sections when `Facts.sections` was read from the store (the SSE endpoint and the feeds read
them; the alerts match a subscription's phrase on title and decision text, as documented for subscriptions).
PostgreSQL's `danish` configuration differs from the stems here in two known ways: it drops stop words
(`og`, `i`, `at`) from the query and the texts, and a phrase can run from the end of the title into the
decision text. `tests/integration/readmodel/test_one_filter.py` runs the same filters through both
evaluations on SQLite and PostgreSQL and checks that they select the same decisions.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, func
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.store import search
from services.store.kle import kle_of
from services.store.models import agenda_items, decisions, meetings
from shared.contracts.events import DecisionMade, DecisionRevised
from shared.contracts.meeting import Outcome
from shared.places import spellings

Event = DecisionMade | DecisionRevised

KLE_PATTERN = r"^\d{2}(\.\d{2}){0,2}$"
_TEXT_FIELDS = ("q", "municipality", "region", "committee", "case_number", "kle", "absent", "match")
# What "spacing ignored" takes out of a case number: the same characters in Python and in SQL.
_CASE_SPACES = (" ", "\t", "\n", "\r", "\xa0")


class ReadFilter(BaseModel):
    """The filter of every list, search, export, live stream, feed and subscription; all given fields must hold."""

    model_config = ConfigDict(frozen=True)

    municipality: str | None = Field(
        default=None, description="Name, case-insensitive; `X Kommune` and X are the same."
    )
    region: str | None = Field(default=None, description="Exact region name, case-insensitive.")
    committee: str | None = Field(default=None, description="Case-insensitive substring of the committee.")
    date_from: dt.date | None = Field(default=None, description="Meeting date on or after.")
    date_to: dt.date | None = Field(default=None, description="Meeting date on or before.")
    outcome: Outcome | None = None
    case_number: str | None = Field(default=None, description="Case number; spacing and case are ignored.")
    kle: str | None = Field(
        default=None,
        pattern=KLE_PATTERN,
        description="KLE subject prefix: `NN`, `NN.NN` or `NN.NN.NN` (from SBSYS-style case numbers).",
    )
    absent: str | None = Field(default=None, description="A member's name in the item's absent list, case-insensitive.")
    match: str | None = Field(
        default=None, description="Case-insensitive substring of the item's title or decision text."
    )
    q: str | None = Field(default=None, description="Full-text query (see services/store/search.py for the syntax).")
    all_versions: bool = Field(default=False, description="Also superseded versions of meetings.")

    @field_validator(*_TEXT_FIELDS, mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if isinstance(value, str):
            return value.strip() or None
        return value

    def fingerprint_fields(self) -> dict[str, Any]:
        """The filter as JSON for a cursor's fingerprint. Without `match` when it is not set (it came later),
        so cursors handed out before it existed still belong to their query."""
        out = self.model_dump(mode="json")
        if out["match"] is None:
            del out["match"]
        return out


def case_key(case_number: str | None) -> str:
    """A case number as the filter compares it: without spacing, lower case."""
    value = case_number or ""
    for space in _CASE_SPACES:
        value = value.replace(space, "")
    return value.lower()


def _in_kle(kle: str | None, wanted: str) -> bool:
    """The subjects under `wanted`: the filter is whole groups (NN, NN.NN, NN.NN.NN) and a stored subject is
    NN.NN.NN, so the prefix is the range [wanted, wanted + ":") (":" sorts after the digits and ".")."""
    return kle is not None and wanted <= kle < wanted + ":"


# --- evaluation 1: SQL (the reads) ---------------------------------------------------------------------

_SQLITE_INDEX = sa.table("item_search", sa.column("rowid"))
_SQLITE_IDS = sa.table("item_search_ids", sa.column("rowid"), sa.column("item_id"))
_PG_INDEX = sa.table("item_search", sa.column("item_id"), sa.column("tsv"))


class TextMatch:
    """`q` on one dialect: the join to the search index, the condition and the rank."""

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


class SqlFilter:
    """A filter made SQL on one database: build it with `sql_filter` (which reads what it needs first).

    `text` is the full-text part (None without `q`); `spellings` the stored spellings of `case_number` (None
    without one), read before the query so that the query compares a case number by equality and seeks an
    index instead of computing the key of every stored case number.
    """

    def __init__(self, flt: ReadFilter, dialect: str, spellings: Sequence[str] | None = None) -> None:
        self.filter = flt
        self.dialect = dialect
        self.text = TextMatch(dialect, flt.q) if flt.q else None
        if flt.case_number and spellings is None:
            raise ValueError("a case number filter needs its stored spellings: build it with sql_filter()")
        self.spellings = list(spellings or ())

    def meeting_conditions(self, *, fields_only: bool = False) -> list[ColumnElement[bool]]:
        """Visibility (complete; current unless all_versions), the meeting's fields and the date range;
        `fields_only`: municipality, region and committee alone."""
        flt = self.filter
        out: list[ColumnElement[bool]] = []
        if not fields_only:
            out.append(meetings.c.complete.is_(True))
            if not flt.all_versions:
                out.append(meetings.c.superseded_by.is_(None))
        if flt.municipality:
            out.append(func.lower(meetings.c.municipality).in_(sorted(spellings(flt.municipality))))
        if flt.region:
            out.append(func.lower(meetings.c.region) == flt.region.lower())
        if flt.committee:
            out.append(func.lower(meetings.c.committee).contains(flt.committee.lower(), autoescape=True))
        if not fields_only and flt.date_from:
            out.append(meetings.c.meeting_date >= flt.date_from)
        if not fields_only and flt.date_to:
            out.append(meetings.c.meeting_date <= flt.date_to)
        return out

    def item_conditions(self, *, on_decision_row: bool = False) -> list[ColumnElement[bool]]:
        """The item's fields, on `agenda_items` with `decisions` (outer) joined to it; `on_decision_row`:
        without outcome, case number and KLE, which a decisions query reads from the decision row."""
        flt = self.filter
        out: list[ColumnElement[bool]] = []
        if not on_decision_row:
            if flt.outcome:
                out.extend(_outcome_conditions(flt.outcome.value, listed_known=False))
            if flt.case_number:
                out.append(agenda_items.c.case_number.in_(self.spellings))
            if flt.kle:
                out.append(_kle_range(agenda_items.c.kle, flt.kle))
        if flt.absent:
            out.append(_absent_condition(self.dialect, flt.absent))
        if flt.match:
            needle = flt.match.lower()
            # autoescape: % and _ in the person's text are literal.
            out.append(
                func.lower(agenda_items.c.title).contains(needle, autoescape=True)
                | func.lower(decisions.c.text).contains(needle, autoescape=True)
            )
        return out

    def decision_conditions(self) -> tuple[list[ColumnElement[bool]], bool, bool]:
        """The conditions of a decisions query, and whether they need the meetings / the items joined.

        Visibility, the date range, case number, KLE and outcome are read from the decision's own row (its
        page keys `listed`, `date_order`, `case_number`, `kle`, kept in step with its meeting and item by the
        store), so the common pages need no join to find their rows.
        """
        flt = self.filter
        out: list[ColumnElement[bool]] = []
        on_meetings = self.meeting_conditions(fields_only=True)
        if flt.all_versions:
            on_meetings.insert(0, meetings.c.complete.is_(True))
        else:
            out.append(decisions.c.listed.is_(True))
        if flt.case_number:  # ix_decisions_case_page: in page order
            out.append(decisions.c.case_number.in_(self.spellings))
        if flt.kle:  # ix_decisions_kle_page seeks the range and its matches are sorted
            out.append(_kle_range(decisions.c.kle, flt.kle))
        # date_order is minus the date's ordinal (0: undated, which a date bound always excludes).
        if flt.date_from:
            out.append(decisions.c.date_order <= -flt.date_from.toordinal())
        if flt.date_to:
            out.append(decisions.c.date_order.between(-flt.date_to.toordinal(), -1))
        on_items = self.item_conditions(on_decision_row=True)
        if flt.outcome:
            out.extend(_outcome_conditions(flt.outcome.value, listed_known=not flt.all_versions))
        return [*out, *on_meetings, *on_items], bool(on_meetings), bool(on_items)


async def sql_filter(target: AsyncEngine | AsyncConnection, flt: ReadFilter) -> SqlFilter:
    """`flt` made SQL for `target`'s database; SearchSyntaxError for a `q` that cannot match."""
    dialect = target.dialect.name
    if not flt.case_number:
        return SqlFilter(flt, dialect)
    if flt.q:
        TextMatch(dialect, flt.q)  # refuse a bad query before reading anything
    return SqlFilter(flt, dialect, await case_spellings(target, flt.case_number))


async def case_spellings(target: AsyncEngine | AsyncConnection, case_number: str) -> list[str]:
    """Every spelling of `case_number` the store holds: the items' case numbers with its `case_key`."""
    key = case_key(case_number)
    column = agenda_items.c.case_number
    stmt = sa.select(column).distinct()
    if target.dialect.name == "sqlite" and key.isascii():
        # SQLite's lower() is Python's (db.py), a call per row: LIKE first, natively, keeps it to the rows
        # that have the key's characters in order (LIKE ignores ASCII case; only a stored U+212A KELVIN SIGN,
        # whose lower() is "k", would be missed).
        escaped = [c.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for c in key]
        stmt = stmt.where(column.like("%" + "%".join(escaped) + "%", escape="\\"))
    stmt = stmt.where(_case_key_sql(column) == key)
    if isinstance(target, AsyncEngine):
        async with target.connect() as conn:
            return list((await conn.execute(stmt)).scalars())
    return list((await target.execute(stmt)).scalars())


def _outcome_conditions(outcome: str, *, listed_known: bool) -> list[ColumnElement[bool]]:
    """decisions.outcome = `outcome`; when the query does not fix `listed`, also `listed IN (true, false)`:
    always true, it lets SQLite seek ix_decisions_outcome_page (listed, outcome, …) twice instead of scanning
    the decisions (revision 0010 dropped the index on `outcome` alone, a b-tree written for every decision)."""
    out = [decisions.c.outcome == outcome]
    if not listed_known:
        out.insert(0, decisions.c.listed.in_([True, False]))
    return out


def _case_key_sql(column: Any) -> Any:
    for space in _CASE_SPACES:
        column = func.replace(column, space, "")
    return func.lower(column)


def _kle_range(column: Any, kle: str) -> ColumnElement[bool]:
    """`_in_kle` as a range an index can seek (LIKE cannot use one: it ignores case)."""
    return sa.and_(column >= kle, column < kle + ":")


def _absent_condition(dialect: str, name: str) -> ColumnElement[bool]:
    """The member is in the item's absent list: the exact name, or the name followed by ` (party)`."""
    needle = name.lower()
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


# --- evaluation 2: one event (live stream, feeds, follow, alerts) --------------------------------------


@dataclass(frozen=True)
class Facts:
    """What the store knows about an event's decision that the event does not carry."""

    region: str | None = None
    # The item's sections as the search indexes them (search.sections_text); None: not read.
    sections: str | None = None


# One test per given field: (event, the meeting's region) -> passes.
_Test = Callable[[Event, str | None], bool]


class Matcher:
    """A filter compiled for events: build once, call `accepts` per event.

    Raises SearchSyntaxError (from `search.parse_query`) for a `q` that cannot match, as the reads do.
    `all_versions` is ignored: an event announces a decision of the current version.
    """

    def __init__(self, flt: ReadFilter) -> None:
        self.filter = flt
        self.query = search.parse_query(flt.q) if flt.q else None
        # Only the given fields are tested, each with its value prepared once: the alerts check every
        # subscription's filter against every event.
        self._tests = tuple(_event_tests(flt))

    @property
    def needs_facts(self) -> bool:
        """True when `accepts` needs `Facts`: a region, or a query that may match in the sections."""
        return bool(self.filter.region or self.query)

    def accepts(self, event: Event, facts: Facts | None = None, *, text_stems: Sequence[str] | None = None) -> bool:
        """Whether the event passes every field. Without `facts` a region filter does not pass (never a false
        alert) and `q` is matched on title and decision text; `text_stems` is `event_stems(...)` computed
        once when many filters are checked against one event."""
        if facts is None:
            return self.check(event, None, None, text_stems)
        return self.check(event, facts.region, facts.sections, text_stems)

    def check(
        self, event: Event, region: str | None, sections: str | None, text_stems: Sequence[str] | None = None
    ) -> bool:
        """`accepts` with the facts as values (no `Facts` built per call)."""
        for test in self._tests:
            if not test(event, region):
                return False
        if self.query is None:
            return True
        return text_matches(self.query, text_stems if text_stems is not None else event_stems(event, sections))


def _event_tests(flt: ReadFilter) -> list[_Test]:
    """The fields of `flt` as tests of one event, in the order of the table above."""
    tests: list[_Test] = []
    if flt.municipality:
        names = spellings(flt.municipality)
        tests.append(lambda e, _r: (e.municipality or "").lower() in names)
    if flt.region:
        region = flt.region.lower()
        tests.append(lambda _e, r: r is not None and r.lower() == region)
    if flt.committee:
        committee = flt.committee.lower()
        tests.append(lambda e, _r: committee in (e.committee or "").lower())
    if flt.date_from or flt.date_to:
        start, end = flt.date_from, flt.date_to
        tests.append(lambda e, _r: _in_dates(e.meeting_date, start, end))
    if flt.outcome:
        outcome = flt.outcome
        tests.append(lambda e, _r: e.outcome == outcome)
    if flt.case_number:
        key = case_key(flt.case_number)
        tests.append(lambda e, _r: e.case_number is not None and case_key(e.case_number) == key)
    if flt.kle:
        kle = flt.kle
        tests.append(lambda e, _r: _in_kle(kle_of(e.case_number), kle))
    if flt.absent:
        absent = flt.absent.lower()
        tests.append(lambda e, _r: _absent(e.absent, absent))
    if flt.match:
        needle = flt.match.lower()
        tests.append(lambda e, _r: needle in e.item_title.lower() or needle in e.decision_text.lower())
    return tests


def _in_dates(day: dt.date | None, start: dt.date | None, end: dt.date | None) -> bool:
    if day is None:  # as in SQL: an undated meeting is outside every date range
        return False
    return (start is None or day >= start) and (end is None or day <= end)


def _absent(names: Sequence[str], needle: str) -> bool:
    return any(n.lower() == needle or n.lower().startswith(needle + " (") for n in names)


def event_stems(event: Event, sections: str | None = None) -> list[str]:
    """The stems `q` is matched against: title, decision text, then the sections if given (a phrase spans
    none of the gaps, as it spans no column of the SQLite index)."""
    out = [*search.stems(event.item_title), "\x00", *search.stems(event.decision_text)]
    if sections:
        out += ["\x00", *search.stems(sections)]
    return out


def text_matches(query: search.Query, text_stems: Sequence[str]) -> bool:
    """Whether stemmed text satisfies the query: each group has an alternative that occurs (a phrase: its
    stems next to each other, in order), and no excluded term occurs."""

    def occurs(term: tuple[str, ...]) -> bool:
        return _contains(text_stems, _term_stems(term))

    return all(any(occurs(t) for t in group) for group in query.groups) and not any(occurs(t) for t in query.excluded)


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    if n == 0:
        return False
    first = needle[0]
    return any(haystack[i] == first and list(haystack[i : i + n]) == list(needle) for i in range(len(haystack) - n + 1))


@functools.lru_cache(maxsize=65536)
def _term_stems(term: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(search.stems(" ".join(term)))


async def event_facts(engine: AsyncEngine, item_id: str) -> Facts | None:
    """The region and the sections of a stored item (None when the store has no such item).

    The sections as far as search indexes them (`search.INDEX_MAX_CHARS`), read cut by the database: a live
    match then agrees with a search, and a huge item costs no more than that."""
    stmt = (
        sa.select(meetings.c.region)
        .select_from(agenda_items.join(meetings, meetings.c.document_id == agenda_items.c.document_id))
        .where(agenda_items.c.id == item_id)
    )
    async with engine.connect() as conn:
        row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        sections = await search.bounded_sections(conn, [item_id], search.INDEX_MAX_CHARS)
    return Facts(region=row.region, sections=sections.get(item_id, ""))

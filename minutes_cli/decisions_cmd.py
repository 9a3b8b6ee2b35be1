"""`minutes decisions`: stored decisions from the database, or live ones from the public stream."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console
from rich.table import Table

from minutes_cli.errors import UserError
from shared.contracts.events import DecisionMade, DecisionRevised
from shared.settings import Settings

if TYPE_CHECKING:
    from services.readmodel.filter import ReadFilter
    from services.readmodel.results import DecisionHit

__all__ = ["follow_decisions", "print_stored", "stored_decisions"]

# Rows a terminal table shows unless --limit says otherwise; --json and pipes get every row.
T = TypeVar("T")
TABLE_LIMIT = 1000
TEXT_CUT = 160


def require_database(settings: Settings) -> None:
    """Refuse (with what to do) when the SQLite store does not exist: reading must never create it."""
    if settings.database_url:
        return
    if not settings.data_dir.is_dir():
        raise UserError(
            f"no data dir {settings.data_dir}",
            "give the data dir of a `minutes up` with --data DIR (or MINUTES_DATA_DIR)",
        )
    if not settings.sqlite_path.is_file():
        raise UserError(
            f"no database in {settings.data_dir} (no {settings.sqlite_path.name})",
            f"run `minutes up --data {settings.data_dir}` or `minutes migrate --data {settings.data_dir}` first",
        )


def run_on_store(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(engine)` on the store's database, which must exist (this never creates one)."""
    from services.store.db import create_engine

    require_database(settings)

    async def go() -> T:
        engine = create_engine(settings.effective_database_url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _event(hit: DecisionHit, settings: Settings) -> DecisionMade:
    # The same shape as the live stream's events, so scripts handle stored and live decisions alike.
    return DecisionMade(
        event_id=hit.event_id,
        municipality=hit.municipality,
        municipality_code=hit.municipality_code,
        committee=hit.committee,
        meeting_date=hit.meeting_date,
        item_number=hit.item_number,
        item_title=hit.item_title,
        case_number=hit.case_number,
        outcome=hit.outcome,
        decision_text=hit.decision_text,
        absent=tuple(hit.absent),
        votes=hit.votes,
        document_id=hit.document_id,
        item_id=hit.item_id,
        item_url=settings.public_base_url + hit.item_id,
        occurred_at=hit.stored_at,
        source_url=hit.provenance.source_url,
        attachment_links=tuple(hit.attachment_links),
    )


async def iter_decisions(settings: Settings, flt: ReadFilter, limit: int | None) -> AsyncIterator[DecisionMade]:
    """Decisions of complete meetings in the store, newest meeting first, streamed page by page."""
    from services.readmodel import decisions
    from services.store.db import create_engine

    require_database(settings)
    engine = create_engine(settings.effective_database_url)
    try:
        async for hit in decisions.iter_decisions(engine, flt, limit=limit):
            yield _event(hit, settings)
    finally:
        await engine.dispose()


async def stored_decisions(settings: Settings, flt: ReadFilter, limit: int | None = None) -> list[DecisionMade]:
    """Every matching stored decision (or the first `limit`) as a list."""
    return [event async for event in iter_decisions(settings, flt, limit)]


async def count_decisions(settings: Settings, flt: ReadFilter) -> int:
    """How many stored decisions match the filter."""
    from services.readmodel import decisions
    from services.store.db import create_engine

    require_database(settings)
    engine = create_engine(settings.effective_database_url)
    try:
        return await decisions.count_decisions(engine, flt)
    finally:
        await engine.dispose()


async def _write_json(settings: Settings, flt: ReadFilter, limit: int | None) -> int:
    written = 0
    async for event in iter_decisions(settings, flt, limit):
        sys.stdout.write(event.model_dump_json() + "\n")
        written += 1
    sys.stdout.flush()
    return written


def print_stored(settings: Settings, flt: ReadFilter, *, json_lines: bool, limit: int | None) -> None:
    """JSON lines of every matching decision (or `limit`), or a table on a terminal saying what it left out."""
    if json_lines:
        asyncio.run(_write_json(settings, flt, limit))
        return
    shown = limit if limit is not None else TABLE_LIMIT
    rows = asyncio.run(stored_decisions(settings, flt, shown))
    total = len(rows) if len(rows) < shown else asyncio.run(count_decisions(settings, flt))
    console = Console()
    console.print(decisions_table(rows, total))
    if total > len(rows):
        console.print(
            f"showing {len(rows)} of {total} decisions: use --limit N for more, or --json for all of them",
            style="yellow",
            highlight=False,
        )


def clean_text(text: str, limit: int = TEXT_CUT) -> str:
    """Decision text on one line (PDF line breaks joined), cut at a word boundary with an ellipsis."""
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut and not flat[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.") + "…"


def decision_table(title: str) -> Table:
    """A terminal table's date, municipality, committee, item and outcome columns; the caller adds the text's.

    expand + ratios: the free width goes mostly to the text column; rich wraps cells at spaces, and a word
    longer than its column (a long committee name) ends in an ellipsis instead of being split.
    """
    table = Table(title=title, expand=True)
    table.add_column("date", no_wrap=True)
    table.add_column("municipality", ratio=2, overflow="ellipsis")
    table.add_column("committee", ratio=2, overflow="ellipsis")
    table.add_column("item", ratio=3, overflow="ellipsis")
    table.add_column("outcome", no_wrap=True)
    return table


def decisions_table(rows: list[DecisionMade], total: int) -> Table:
    """The terminal table; columns wrap at spaces (never inside a word) on narrow terminals."""
    title = f"{total} decisions" if total == len(rows) else f"{len(rows)} of {total} decisions"
    table = decision_table(title)
    table.add_column("decision", ratio=5, min_width=16, overflow="ellipsis")
    for row in rows:
        table.add_row(
            str(row.meeting_date or ""),
            row.municipality or "",
            row.committee or "",
            f"{row.item_number}. {clean_text(row.item_title, 80)}",
            row.outcome.value,
            clean_text(row.decision_text),
        )
    return table


def line(event: DecisionMade | DecisionRevised) -> str:
    """One live decision (or revision of one) as a line of text."""
    revised = ""
    if isinstance(event, DecisionRevised):
        was = f"{event.previous_outcome.value} → " if event.previous_outcome != event.outcome else ""
        revised = f"REVISED ({was}{event.outcome.value}) "
    return (
        f"{revised}{event.meeting_date} {event.municipality} · {event.committee} · "
        f"{event.item_number}. {event.item_title} → {event.outcome.value}: {clean_text(event.decision_text, 120)}"
    )


async def follow_decisions(
    settings: Settings, flt: ReadFilter, *, json_lines: bool, from_start: bool, group: str
) -> int:
    """Follow the public stream as consumer group `group`, printing matching decisions as they arrive."""
    from minutes_cli.follow import Follower, install_stop_signals
    from shared.broker import resolve_redis_url

    def write(event: DecisionMade | DecisionRevised) -> None:
        sys.stdout.write((event.model_dump_json() if json_lines else line(event)) + "\n")
        sys.stdout.flush()

    def say(text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    follower = Follower(lambda: resolve_redis_url(settings), group, flt, write, say, from_start=from_start)
    install_stop_signals(follower.stop)
    how = await follower.open()
    say(f"following minutes:decisions as group {group} ({how}); Ctrl-C stops")
    try:
        await follower.run()
    except BrokenPipeError:  # `| head`: the reader went away
        return 0
    return 0

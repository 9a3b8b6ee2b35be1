"""`minutes decisions`: stored decisions from the database, or live ones from the public stream."""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from rich.console import Console
from rich.table import Table

from shared import streams
from shared.broker import resolve_redis_url
from shared.contracts.events import DecisionMade
from shared.contracts.meeting import Outcome
from shared.settings import Settings


@dataclass(frozen=True)
class DecisionFilter:
    """What a user wants to see; None means any."""

    since: dt.date | None = None
    municipality: str | None = None
    committee: str | None = None
    outcome: Outcome | None = None
    match: str | None = None
    # Stored decisions only: the live stream announces every version as it is stored.
    all_versions: bool = False

    def accepts(self, event: DecisionMade) -> bool:
        """Whether a live event passes the filter (the same rules the database query applies)."""
        if self.since and (event.meeting_date is None or event.meeting_date < self.since):
            return False
        if self.municipality and (event.municipality or "").casefold() != self.municipality.casefold():
            return False
        if self.committee and self.committee.casefold() not in (event.committee or "").casefold():
            return False
        if self.outcome and event.outcome != self.outcome:
            return False
        if self.match:
            needle = self.match.casefold()
            return needle in event.decision_text.casefold() or needle in event.item_title.casefold()
        return True


async def stored_decisions(settings: Settings, flt: DecisionFilter, limit: int) -> list[DecisionMade]:
    """Decisions of complete meetings in the store, newest meeting first."""
    from services.store.db import create_engine
    from services.store.queries import list_decisions

    engine = create_engine(settings.effective_database_url)
    try:
        rows = await list_decisions(
            engine,
            since=flt.since,
            municipality=flt.municipality,
            committee=flt.committee,
            outcome=flt.outcome,
            match=flt.match,
            all_versions=flt.all_versions,
            limit=limit,
        )
    finally:
        await engine.dispose()
    # The same shape as the live stream's events, so scripts handle stored and live decisions alike.
    return [
        DecisionMade(
            **row.model_dump(exclude={"stored_at", "absent", "outcome"}),
            outcome=Outcome(row.outcome),
            absent=tuple(row.absent),
            item_url=settings.public_base_url + row.item_id,
            occurred_at=row.stored_at,
        )
        for row in rows
    ]


def print_decisions(rows: list[DecisionMade], *, json_lines: bool) -> None:
    """JSON lines, or a table on a terminal."""
    if json_lines:
        for row in rows:
            sys.stdout.write(row.model_dump_json() + "\n")
        return
    table = Table(title=f"{len(rows)} decisions")
    for col in ("date", "municipality", "committee", "item", "outcome", "decision"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(
            str(row.meeting_date or ""),
            row.municipality or "",
            row.committee or "",
            f"{row.item_number}. {row.item_title}",
            row.outcome.value,
            row.decision_text[:160],
        )
    Console().print(table)


def _line(event: DecisionMade) -> str:
    return (
        f"{event.meeting_date} {event.municipality} · {event.committee} · "
        f"{event.item_number}. {event.item_title} → {event.outcome.value}: {event.decision_text[:120]}"
    )


async def follow_decisions(settings: Settings, flt: DecisionFilter, *, json_lines: bool, from_start: bool) -> None:
    """XREAD the public stream like any external subscriber, printing matching decisions as they arrive."""
    client = aioredis.Redis.from_url(resolve_redis_url(settings))
    last = "0-0" if from_start else "$"
    try:
        while True:
            reply: Any = await client.xread({streams.DECISIONS: last}, count=500, block=5000)
            for _stream, entries in reply or []:
                for entry_id, fields in entries:
                    last = entry_id.decode()
                    event = DecisionMade.model_validate_json(fields[streams.PUBLIC_FIELD.encode()])
                    if flt.accepts(event):
                        sys.stdout.write((event.model_dump_json() if json_lines else _line(event)) + "\n")
                        sys.stdout.flush()
    finally:
        await client.aclose()

"""What the store holds, for the tests: a canonical dump of its tables (what two databases must agree on, volatile
columns left out), their row counts, and the decisions the read model lists."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.readmodel.decisions import iter_decisions
from services.readmodel.filter import ReadFilter
from services.readmodel.results import DecisionHit
from services.store.models import agenda_items, decisions, documents, meetings, outbox

# Timestamps of the store's own clock and the outbox's serial id depend on when and in which order
# events arrived, not on what they said.
VOLATILE = {"stored_at", "created_at", "sent_at", "completed_at"}


def _canon(table_name: str, row: dict[str, Any]) -> tuple[Any, ...]:
    if table_name == "outbox":
        payload = json.loads(row.pop("payload"))
        payload.pop("occurred_at")
        row.pop("id")
        row["payload"] = json.dumps(payload, sort_keys=True)
    return tuple((k, json.dumps(v, sort_keys=True, default=str)) for k, v in sorted(row.items()) if k not in VOLATILE)


async def dump(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table, canonical and sorted."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for table in (documents, meetings, agenda_items, decisions, outbox):
            rows = (await conn.execute(select(table))).mappings().all()
            out[table.name] = sorted(_canon(table.name, dict(r)) for r in rows)
    return out


@dataclass(frozen=True)
class Totals:
    """How many rows the writer stored, whatever the read model shows (incomplete meetings, old versions)."""

    documents: int
    meetings: int
    complete_meetings: int
    items: int
    decisions: int
    complete_decisions: int


async def totals(engine: AsyncEngine) -> Totals:
    """Count every store table in one read: the tests' check of what the writer did."""

    def count(table: Any, *where: Any) -> Any:
        return select(func.count()).select_from(table).where(*where).scalar_subquery()

    complete = meetings.c.complete.is_(True)
    complete_decisions = count(
        decisions.join(meetings, meetings.c.document_id == decisions.c.document_id), complete
    )
    stmt = select(
        count(documents), count(meetings), count(meetings, complete), count(agenda_items), count(decisions),
        complete_decisions,
    )  # fmt: skip
    async with engine.connect() as conn:
        row = (await conn.execute(stmt)).one()
    return Totals(*(int(n) for n in row))


async def listed(engine: AsyncEngine, *, limit: int = 1000, **fields: Any) -> list[DecisionHit]:
    """The decisions the read model lists for these filter fields (`minutes decisions`), the first `limit`."""
    return [hit async for hit in iter_decisions(engine, ReadFilter(**fields), limit=limit)]

"""A canonical dump of the store's tables: what two databases must agree on (volatile columns left out)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

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

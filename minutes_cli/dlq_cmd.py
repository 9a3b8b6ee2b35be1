"""`minutes dlq`: list dead-lettered messages and re-queue them."""

from __future__ import annotations

import json
import sys

import redis.asyncio as aioredis
from rich.console import Console
from rich.table import Table

from shared import streams
from shared.broker import make_broker, resolve_redis_url
from shared.dead_letter import list_dead_letters
from shared.settings import Settings

REQUEUEABLE = (streams.DOCUMENTS, streams.ITEMS)


async def list_entries(settings: Settings, *, json_lines: bool) -> None:
    """Print every dead-letter entry."""
    client = aioredis.Redis.from_url(resolve_redis_url(settings))
    try:
        entries = await list_dead_letters(client)
    finally:
        await client.aclose()
    if json_lines:
        for entry in entries:
            sys.stdout.write(json.dumps({"id": entry.entry_id, **entry.event.model_dump(mode="json")}) + "\n")
        return
    table = Table(title=f"{len(entries)} dead-lettered")
    for col in ("id", "service", "file / document", "attempts", "reason"):
        table.add_column(col, overflow="fold")
    for entry in entries:
        ev = entry.event
        table.add_row(
            entry.entry_id, ev.service, ev.original_name or (ev.document_id or "")[:12], str(ev.attempts), ev.error
        )
    Console().print(table)


async def retry_entries(settings: Settings, entry_id: str | None) -> int:
    """Re-publish the payload of one entry (or all) on its original stream, then remove it from the DLQ."""
    url = resolve_redis_url(settings)
    client = aioredis.Redis.from_url(url)
    broker = make_broker(url, "dlq")
    await broker.connect()
    requeued = skipped = 0
    try:
        for entry in await list_dead_letters(client):
            if entry_id and entry.entry_id != entry_id:
                continue
            if entry.event.stream not in REQUEUEABLE:
                sys.stderr.write(f"{entry.entry_id}: from {entry.event.service}; re-drop the file to retry\n")
                skipped += 1
                continue
            # Published through FastStream so the consumers read it exactly like the original message.
            await broker.publish(json.loads(entry.event.payload), stream=entry.event.stream)
            await client.xdel(streams.DEAD_LETTER, entry.entry_id)
            requeued += 1
    finally:
        await broker.stop()
        await client.aclose()
    sys.stderr.write(f"re-queued {requeued}, skipped {skipped}\n")
    return 0 if requeued or not skipped else 1

"""`minutes dlq`: list dead-lettered messages and re-queue them."""

from __future__ import annotations

import json
import sys

import redis.asyncio as aioredis
from faststream.redis import RedisBroker
from rich.console import Console
from rich.table import Table

from shared import streams
from shared.broker import make_broker, resolve_redis_url
from shared.dead_letter import DeadLetterEntry, get_dead_letter, iter_dead_letters
from shared.settings import Settings

REQUEUEABLE = (streams.DOCUMENTS, streams.ITEMS)


async def list_entries(settings: Settings, *, json_lines: bool) -> None:
    """Print every dead-letter entry (JSON lines are written page by page, as they are read)."""
    client = aioredis.Redis.from_url(resolve_redis_url(settings))
    try:
        if json_lines:
            async for entry in iter_dead_letters(client):
                sys.stdout.write(json.dumps({"id": entry.entry_id, **entry.event.model_dump(mode="json")}) + "\n")
            return
        entries = [entry async for entry in iter_dead_letters(client)]
    finally:
        await client.aclose()
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
    """Re-publish one entry (or all that can succeed) on its original stream, then remove it from the DLQ.

    Exit code: 0 unless something failed. `--all` leaves what cannot succeed by policy (bad input, a file
    ingest refused) and says so — that is no failure; an entry named by id that is unknown or cannot be
    re-queued is (1). Redis or the broker failing raises (the CLI's short error, exit 2).
    """
    url = resolve_redis_url(settings)
    client = aioredis.Redis.from_url(url)
    broker = make_broker(url, "dlq")
    requeued = skipped = bad_input = 0
    try:
        if entry_id:
            one = await get_dead_letter(client, entry_id)
            if one is None:
                sys.stderr.write(f"no dead-letter entry {entry_id} (`minutes dlq list` shows the ids)\n")
                return 1
            candidates = [one]
        else:
            candidates = [entry async for entry in iter_dead_letters(client)]
        await broker.connect()
        for entry in candidates:
            if entry.event.stream not in REQUEUEABLE:
                sys.stderr.write(f"{entry.entry_id}: from {entry.event.service}; re-drop the file to retry\n")
                skipped += 1
                continue
            if entry_id is None and not entry.event.retryable:
                # Rejected as bad input: the same bytes fail the same way; only an explicit id re-queues it.
                bad_input += 1
                continue
            await _requeue(broker, client, entry)
            requeued += 1
    finally:
        await broker.stop()
        await client.aclose()
    sys.stderr.write(f"re-queued {requeued}, skipped {skipped + bad_input}\n")
    if bad_input:
        sys.stderr.write(
            f"  {bad_input} were rejected as bad input and would only fail again: fix the file and drop it "
            "in again, or re-queue one with `minutes dlq retry ID`\n"
        )
    return 0 if entry_id is None or requeued else 1


async def _requeue(broker: RedisBroker, client: aioredis.Redis, entry: DeadLetterEntry) -> None:
    # Published through FastStream so the consumers read it exactly like the original message.
    await broker.publish(json.loads(entry.event.payload), stream=entry.event.stream)
    await client.xdel(streams.DEAD_LETTER, entry.entry_id)

"""Dead-letter stream: where messages that cannot be processed go, with why, and how to re-queue them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from shared import streams
from shared.contracts.events import DeadLettered


class InvalidMessage(Exception):
    """The message can never succeed (bad input, unknown schema): dead-letter it now, do not retry."""


@dataclass(frozen=True)
class DeadLetterEntry:
    """One dead-letter stream entry with its stream id."""

    entry_id: str
    event: DeadLettered


async def dead_letter(client: Redis, event: DeadLettered) -> str:
    """Append a DeadLettered event (plain JSON, like the public stream) and return its entry id."""
    entry_id = await client.xadd(streams.DEAD_LETTER, {streams.PUBLIC_FIELD: event.model_dump_json()})
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


async def list_dead_letters(client: Redis, count: int = 1000) -> list[DeadLetterEntry]:
    """The dead-lettered messages, oldest first."""
    rows: Any = await client.xrange(streams.DEAD_LETTER, count=count) or []
    out = []
    for entry_id, fields in rows:
        raw = fields.get(streams.PUBLIC_FIELD.encode()) or fields.get(streams.PUBLIC_FIELD) or b"{}"
        key = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        out.append(DeadLetterEntry(key, DeadLettered.model_validate_json(raw)))
    return out


async def delivery_count(client: Redis, stream: str, group: str, message_id: str | bytes) -> int:
    """How many times the group has delivered this entry (from the pending list; 1 if not pending)."""
    rows = await client.xpending_range(stream, group, min=message_id, max=message_id, count=1)
    return int(rows[0]["times_delivered"]) if rows else 1


def describe_failure(
    *,
    service: str,
    stream: str,
    message_id: str,
    payload: str,
    error: BaseException,
    attempts: int,
    retryable: bool,
    document_id: str | None = None,
    original_name: str | None = None,
) -> DeadLettered:
    """The DeadLettered event for a message given up on."""
    return DeadLettered(
        service=service,
        stream=stream,
        message_id=message_id,
        document_id=document_id,
        original_name=original_name,
        error=str(error) or type(error).__name__,
        error_type=type(error).__name__,
        retryable=retryable,
        attempts=attempts,
        payload=payload,
    )

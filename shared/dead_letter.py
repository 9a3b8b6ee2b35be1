"""Dead-letter stream: where messages that cannot be processed go, with why, and how to re-queue them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from redis.asyncio import Redis

from shared import streams
from shared.contracts.events import DeadLettered

if TYPE_CHECKING:
    from shared.stream_worker import Entry


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


def _entry(entry: Entry) -> DeadLetterEntry:
    return DeadLetterEntry(entry.id, DeadLettered.model_validate_json(entry.payload if entry.known else b"{}"))


async def iter_dead_letters(client: Redis, page: int = 500) -> AsyncIterator[DeadLetterEntry]:
    """Every dead-lettered message, oldest first, fetched `page` entries per XRANGE (never all at once)."""
    from shared.stream_worker import page as pages  # here: the worker imports this module's rule

    async for entry in pages(client, streams.DEAD_LETTER, count=page):
        yield _entry(entry)


async def list_dead_letters(client: Redis, count: int | None = None) -> list[DeadLetterEntry]:
    """The dead-lettered messages, oldest first: all of them, or the first `count`."""
    out: list[DeadLetterEntry] = []
    async for entry in iter_dead_letters(client):
        if count is not None and len(out) >= count:
            break
        out.append(entry)
    return out


async def get_dead_letter(client: Redis, entry_id: str) -> DeadLetterEntry | None:
    """One entry by id, or None when there is no such entry."""
    from shared.stream_worker import entry_at

    entry = await entry_at(client, streams.DEAD_LETTER, entry_id)
    return _entry(entry) if entry is not None else None


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


def declare_dead_letter_publisher(broker: Any) -> Any:
    """Declare the dead-letter stream on a service's broker, so its AsyncAPI document lists DeadLettered.

    The events themselves go out through `dead_letter` (plain JSON, like the public stream).
    """
    return broker.publisher(
        stream=streams.DEAD_LETTER,
        schema=DeadLettered,
        title=f"{streams.DEAD_LETTER}:DeadLettered",
        description="A message given up on, with the error, the attempts and the original payload (plain JSON "
        "in field `json`).",
    )

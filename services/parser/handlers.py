"""Parser handler: load the document's bytes, parse them off the event loop, emit the meeting's events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import structlog
from pydantic import ValidationError

from services.parser.core.errors import DocumentError
from services.parser.events import meeting_events
from services.parser.pool import ParseFailed
from shared import streams
from shared.blobs import BlobNotFound, BlobStore
from shared.contracts.events import AgendaItemParsed, DocumentReceived, MeetingParsed
from shared.contracts.meeting import ParsedMeeting
from shared.dead_letter import describe_failure
from shared.logging import get_logger

log = get_logger(__name__)


class Parser(Protocol):
    """Anything that turns bytes into a ParsedMeeting asynchronously (the process pool, or a fake)."""

    async def parse(self, data: bytes, filename: str | None) -> ParsedMeeting:
        """Parse one document."""
        ...


class Outbox(Protocol):
    """Where the handler's output goes: the items stream and the dead-letter stream."""

    async def emit(self, events: list[MeetingParsed | AgendaItemParsed]) -> None:
        """Publish the events together (one round trip), in order."""
        ...

    async def dead_letter(self, event: Any) -> None:
        """Publish a DeadLettered event."""
        ...


@dataclass
class ParserDeps:
    """What the parser handler needs; `bootstrap()` builds the real ones, tests pass fakes."""

    blobs: BlobStore
    parser: Parser
    outbox: Outbox
    max_deliveries: int


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: `emitted` events, or why it was dead-lettered."""

    emitted: int = 0
    dead_lettered: str | None = None


async def handle_document(body: Any, message_id: str, deliveries: int, deps: ParserDeps) -> Outcome:
    """Parse one DocumentReceived; bad input is dead-lettered at once, other failures stay pending to retry."""
    payload = body if isinstance(body, str) else json.dumps(body, default=str, ensure_ascii=False)
    try:
        received = DocumentReceived.model_validate(body if isinstance(body, dict) else json.loads(body))
    except (ValidationError, ValueError) as exc:
        return await _give_up(deps, message_id, payload, exc, deliveries, retryable=False, received=None)

    with structlog.contextvars.bound_contextvars(document_id=received.document_id, file=received.original_name):
        try:
            data = deps.blobs.get(received.blob_ref)
            meeting = await deps.parser.parse(data, received.original_name)
        except BlobNotFound as exc:
            return await _give_up(deps, message_id, payload, exc, deliveries, retryable=True, received=received)
        except ParseFailed as exc:
            if deliveries < deps.max_deliveries:
                log.warning("parse failed, will retry", error=str(exc), deliveries=deliveries)
                raise
            return await _give_up(deps, message_id, payload, exc, deliveries, retryable=True, received=received)
        except DocumentError as exc:
            # The core raises DocumentError only for bad input: the same bytes can never succeed.
            return await _give_up(deps, message_id, payload, exc, deliveries, retryable=False, received=received)
        events = meeting_events(received, meeting)
        await deps.outbox.emit(events)
        log.info("document parsed", kind=meeting.kind.value, items=len(meeting.items),
                 decisions=len(meeting.decisions), municipality=meeting.municipality)
        return Outcome(emitted=len(events))


async def _give_up(
    deps: ParserDeps,
    message_id: str,
    payload: str,
    exc: BaseException,
    deliveries: int,
    *,
    retryable: bool,
    received: DocumentReceived | None,
) -> Outcome:
    event = describe_failure(
        service="parser",
        stream=streams.DOCUMENTS,
        message_id=message_id,
        payload=payload,
        error=exc,
        attempts=deliveries,
        retryable=retryable,
        document_id=received.document_id if received else None,
        original_name=received.original_name if received else None,
    )
    await deps.outbox.dead_letter(event)
    log.warning("document dead-lettered", reason=event.error, error_type=event.error_type, attempts=deliveries)
    return Outcome(dead_lettered=event.error)

"""Parser handler: load the document's bytes, check them, parse them off the event loop, emit the events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import orjson
import structlog

from services.parser.core.errors import DocumentError
from services.parser.events import EncodedMeeting
from shared import streams
from shared.blobs import BlobNotFound, BlobRefRejected, BlobStore, sha256_hex
from shared.broker import consumer_name
from shared.consume import ConsumeStep
from shared.contracts.events import DocumentReceived
from shared.logging import get_logger

if TYPE_CHECKING:
    from faststream.redis import RedisBroker

    from shared.health import Heartbeat
    from shared.service import Periodic
    from shared.settings import Settings
    from shared.stream_worker import Entry, GroupWorker

log = get_logger(__name__)


class Parser(Protocol):
    """Anything that turns a document's bytes into its events asynchronously (the process pool, or a fake).

    The events come back serialised (`encode_meeting_events`): the worker publishes them as they are.
    """

    async def parse_events(self, data: bytes, received: DocumentReceived) -> EncodedMeeting:
        """Parse one document into its MeetingParsed and AgendaItemParsed bodies (JSON), in order."""
        ...


class Outbox(Protocol):
    """Where the handler's output goes: the items stream and the dead-letter stream."""

    async def emit(self, bodies: Sequence[bytes]) -> None:
        """Publish the events (JSON bodies of MeetingParsed / AgendaItemParsed) together, in order."""
        ...

    async def dead_letter(self, event: Any) -> None:
        """Publish a DeadLettered event."""
        ...


class DigestMismatch(ValueError):
    """The blob's bytes do not hash to the event's document_id: a forged or corrupted reference."""


@dataclass
class ParserDeps:
    """What the parser handler needs, and what the service runs it with; `bootstrap()` builds the real ones,
    tests pass fakes through it."""

    blobs: BlobStore
    parser: Parser
    outbox: Outbox
    max_deliveries: int
    step: ConsumeStep | None = None
    # The service's own (services/parser/bootstrap.py): its settings and broker, and what `start` starts.
    settings: Settings | None = None
    broker: RedisBroker | None = None
    consumer: str = field(default_factory=lambda: consumer_name("parser"))
    worker: GroupWorker | None = None
    janitor: Periodic | None = None
    heartbeat: Heartbeat | None = None

    def __post_init__(self) -> None:
        if self.step is None:
            self.step = parser_step(self.outbox, self.max_deliveries)


def parser_step(outbox: Outbox, max_deliveries: int) -> ConsumeStep:
    """The shared consume rule for the documents stream: bad input and bad references are dead-lettered at once."""
    return ConsumeStep(
        service="parser",
        stream=streams.DOCUMENTS,
        max_deliveries=max_deliveries,
        dead_letter=outbox.dead_letter,
        permanent=(DocumentError, BlobNotFound, BlobRefRejected, DigestMismatch),
        permanent_but_retryable=(BlobNotFound,),
        describe=lambda received: {"document_id": received.document_id, "original_name": received.original_name},
    )


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: `emitted` events, or why it was dead-lettered."""

    emitted: int = 0
    dead_lettered: str | None = None


def _decode(body: Any) -> DocumentReceived:
    # FastStream's envelope decodes to a dict; a plain-JSON entry (field `json`, any client) to {"json": text}.
    if isinstance(body, dict) and set(body) == {streams.PUBLIC_FIELD} and isinstance(body[streams.PUBLIC_FIELD], str):
        body = body[streams.PUBLIC_FIELD]
    return DocumentReceived.model_validate(body if isinstance(body, dict) else json.loads(body))


def _body(entry: Entry) -> Any:
    """The entry's body as the handler takes it: the decoded JSON object, else the text (dead-lettered)."""
    try:
        return orjson.loads(entry.payload)
    except orjson.JSONDecodeError:
        return entry.text


async def handle_entries(deps: ParserDeps, entries: list[Entry]) -> None:
    """The documents of one read (shared/stream_worker.py), each parsed under the shared consume rule."""
    for entry in entries:
        # Deliveries as Redis counts them (a new entry: 1; reclaimed: XPENDING), so restarts and reclaims
        # all count toward the limit.
        await handle_document(_body(entry), entry.id, entry.deliveries, deps)


async def handle_document(body: Any, message_id: str, deliveries: int, deps: ParserDeps) -> Outcome:
    """Parse one DocumentReceived under the shared consume rule (`shared.consume`)."""
    payload = body if isinstance(body, str) else json.dumps(body, default=str, ensure_ascii=False)
    assert deps.step is not None

    async def handle(received: DocumentReceived) -> int:
        with structlog.contextvars.bound_contextvars(document_id=received.document_id, file=received.original_name):
            return await _parse_and_emit(received, deps)

    done = await deps.step.run(
        message_id=message_id, deliveries=deliveries, payload=payload, decode=lambda: _decode(body), handle=handle
    )
    return Outcome(emitted=done.result or 0, dead_lettered=done.dead_lettered)


async def _checked_bytes(received: DocumentReceived, deps: ParserDeps) -> bytes:
    data = await asyncio.to_thread(deps.blobs.get, received.blob_ref)
    # The id is the sha256 of the bytes: a reference to other bytes is forged or corrupt, never parsed.
    digest = sha256_hex(data)
    if digest != received.document_id:
        raise DigestMismatch(f"the blob's sha256 is {digest}, not the document_id {received.document_id}")
    return data


async def _parse_and_emit(received: DocumentReceived, deps: ParserDeps) -> int:
    # No local name for the bytes: the pool drops them once they are in the parse process, so a large
    # document's bytes and its events are not held at once.
    encoded = await deps.parser.parse_events(await _checked_bytes(received, deps), received)
    # The bodies handed over in a list nothing here keeps, so the outbox can let each go once framed.
    handed = [list(encoded.bodies)]
    encoded = encoded._replace(bodies=())
    count = len(handed[0])
    await deps.outbox.emit(handed.pop())
    log.info("document parsed", kind=encoded.kind, items=encoded.items, decisions=encoded.decisions,
             municipality=encoded.municipality)
    return count

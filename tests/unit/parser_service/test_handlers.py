"""Parser service handler: unit tests of the documents reader's handler (one entry as the stream worker hands
it over) with fakes passed via bootstrap."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import orjson
import pytest
from faststream.redis import RedisBroker
from pydantic import TypeAdapter

from services.parser.bootstrap import bootstrap
from services.parser.core import parse_document
from services.parser.events import EncodedMeeting, encode_meeting_events
from services.parser.handlers import handle_entries
from services.parser.pool import ParseFailed
from shared.blobs import BlobNotFound, sha256_hex
from shared.contracts.events import AgendaItemParsed, DeadLettered, DocumentReceived, ItemsStreamEvent, MeetingParsed
from shared.settings import Settings
from shared.stream_worker import Entry
from tests.conftest import SEEDS

_ITEMS_EVENT: TypeAdapter[MeetingParsed | AgendaItemParsed] = TypeAdapter(ItemsStreamEvent)


class DictBlobs:
    """In-memory blob store."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        ref = f"mem://{sha256_hex(data)}"
        self.blobs[ref] = data
        return ref

    def get(self, ref: str) -> bytes:
        if ref not in self.blobs:
            raise BlobNotFound(ref)
        return self.blobs[ref]


class InlineParser:
    """Parses in-process (the real core), or fails like a hung / crashed parse process."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail  # how many parses fail before one succeeds

    async def parse_events(self, data: bytes, received: DocumentReceived) -> EncodedMeeting:
        if self.fail:
            self.fail -= 1
            raise ParseFailed("parse took longer than 30 s")
        return encode_meeting_events(received, parse_document(data, received.original_name))


class ListOutbox:
    """Collects what the handler emits."""

    def __init__(self) -> None:
        self.events: list[MeetingParsed | AgendaItemParsed] = []
        self.dead: list[DeadLettered] = []

    async def emit(self, bodies: Sequence[bytes]) -> None:
        # Read back as the store reads the items stream: each body validated against the contracts.
        self.events.extend(_ITEMS_EVENT.validate_json(body) for body in bodies)

    async def dead_letter(self, event: Any) -> None:
        self.dead.append(event)


def _received(blobs: DictBlobs, data: bytes, name: str) -> DocumentReceived:
    return DocumentReceived(
        document_id=sha256_hex(data),
        original_name=name,
        size=len(data),
        content_type="text/plain",
        blob_ref=blobs.put(data),
    )


async def _deliver(payload: Any, *, fail: int = 0) -> tuple[ListOutbox, DictBlobs]:
    settings = Settings(redis_url="redis://unused:1/0", max_deliveries=3)
    broker = RedisBroker(settings.redis_url or "")
    blobs, outbox = DictBlobs(), ListOutbox()
    deps = bootstrap(settings, broker=broker, parser=InlineParser(fail), blobs=blobs, outbox=outbox)
    body = payload(blobs) if callable(payload) else payload
    raw = body.encode() if isinstance(body, str) else orjson.dumps(body)
    # A handler error stays with the message (pending), as on a real Redis.
    with contextlib.suppress(ParseFailed):
        await handle_entries(deps, [Entry("1-0", raw)])
    return outbox, blobs


async def test_a_seed_document_becomes_a_meeting_event_and_one_event_per_item() -> None:
    seed = sorted(SEEDS.glob("*.txt"))[0]
    data = seed.read_bytes()
    sent: list[DocumentReceived] = []

    def received(blobs: DictBlobs) -> dict[str, Any]:
        sent.append(_received(blobs, data, seed.name))
        return sent[0].model_dump(mode="json")

    outbox, _ = await _deliver(received)
    meeting, *items = outbox.events
    assert isinstance(meeting, MeetingParsed)
    assert meeting.document_id == sha256_hex(data)
    assert meeting.item_count == len(items) > 0
    assert [i.position for i in items] == list(range(len(items)))
    assert all(isinstance(i, AgendaItemParsed) and i.item_count == len(items) for i in items)
    assert all(i.meeting == meeting.meeting for i in items)
    # Every event carries the file's provenance, so the store can link each decision to its source.
    want = (seed.name, sent[0].blob_ref, sent[0].received_at, len(data), "text/plain")
    for ev in outbox.events:
        assert (ev.original_name, ev.blob_ref, ev.received_at, ev.size, ev.content_type) == want
    assert not outbox.dead


async def test_a_message_that_is_not_a_document_event_is_dead_lettered_not_retried() -> None:
    outbox, _ = await _deliver({"hello": "world"})
    assert not outbox.events
    [dead] = outbox.dead
    assert dead.service == "parser" and dead.retryable is False
    assert "document_id" in dead.error
    assert '"hello"' in dead.payload


async def test_bad_bytes_are_dead_lettered_with_the_parser_reason() -> None:
    outbox, _ = await _deliver(lambda blobs: _received(blobs, b"", "empty.txt").model_dump(mode="json"))
    [dead] = outbox.dead
    assert dead.retryable is False
    assert dead.original_name == "empty.txt"
    assert dead.error_type == "EmptyDocument"


async def test_a_missing_blob_is_dead_lettered_as_retryable() -> None:
    event = DocumentReceived(
        document_id="0" * 64, original_name="gone.txt", size=3, content_type="text/plain", blob_ref="mem://gone"
    )
    outbox, _ = await _deliver(event.model_dump(mode="json"))
    [dead] = outbox.dead
    assert dead.retryable is True and dead.error_type == "BlobNotFound"


@pytest.mark.parametrize(("failures", "dead"), [(1, False), (2, False), (3, True)])
async def test_a_failed_parse_is_retried_and_dead_lettered_at_the_third_attempt(failures: int, dead: bool) -> None:
    seed = sorted(SEEDS.glob("*.txt"))[0]
    data = seed.read_bytes()
    outbox, _ = await _deliver(
        lambda blobs: _received(blobs, data, seed.name).model_dump(mode="json"), fail=failures
    )
    assert bool(outbox.dead) is dead
    assert bool(outbox.events) is not dead
    if dead:
        assert outbox.dead[0].attempts == 3 and outbox.dead[0].retryable is True

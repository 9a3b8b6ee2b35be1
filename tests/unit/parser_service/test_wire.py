"""What the parser puts on the items stream is what the contracts and FastStream would have written."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from faststream.redis.parser import BinaryMessageFormatV1

from services.parser import events as parser_events
from services.parser.core import parse_document
from services.store.handlers import parse_event, payload_of
from shared.blobs import sha256_hex
from shared.broker import ENVELOPE_FIELD, stream_envelope
from shared.contracts.events import DocumentReceived
from tests.conftest import FIXTURES, SEEDS

PINNED = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)


def _documents() -> list[Path]:
    # The real documents whose gold has items: the parser reads them (the refused 1942 protocol has none).
    corpus = FIXTURES / "corpus" / "real"
    golds = [json.loads(g.read_text(encoding="utf-8")) for g in sorted((corpus / "gold").glob("*.json"))]
    real = sorted(corpus / "docs" / gold["file"] for gold in golds if gold.get("items"))
    return sorted(SEEDS.glob("*")) + real


def _received(path: Path, data: bytes) -> DocumentReceived:
    return DocumentReceived(
        document_id=sha256_hex(data),
        # Quotes, backslashes and non-ASCII in provenance must be escaped exactly as pydantic does.
        original_name=f'Referat "æøå" \\ {path.name}',
        size=len(data),
        content_type="application/pdf" if path.suffix == ".pdf" else "text/plain",
        blob_ref=f"file:///data/blobs/{sha256_hex(data)}",
        received_at=dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
    )


@pytest.mark.parametrize("path", _documents(), ids=lambda p: p.name)
def test_encoded_events_are_the_contract_events_json_byte_for_byte(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = path.read_bytes()
    meeting = parse_document(data, path.name)
    received = _received(path, data)
    monkeypatch.setattr(parser_events, "utcnow", lambda: PINNED)
    encoded = parser_events.encode_meeting_events(received, meeting)
    expected = [
        event.model_copy(update={"parsed_at": PINNED}).model_dump_json().encode()
        for event in parser_events.meeting_events(received, meeting)
    ]
    assert list(encoded.bodies) == expected
    assert (encoded.items, encoded.decisions) == (len(meeting.items), len(meeting.decisions))
    assert encoded.kind == meeting.kind.value and encoded.municipality == meeting.municipality


def test_an_encoded_body_reads_back_through_the_store_as_the_same_event() -> None:
    path = sorted(SEEDS.glob("*.txt"))[0]
    data = path.read_bytes()
    meeting = parse_document(data, path.name)
    received = _received(path, data)
    encoded = parser_events.encode_meeting_events(received, meeting)
    # As the store reads an entry: FastStream's envelope unwrapped, then the contracts validated.
    events = [parse_event(payload_of({ENVELOPE_FIELD.encode(): stream_envelope(body)})) for body in encoded.bodies]
    assert [e.event for e in events] == ["MeetingParsed"] + ["AgendaItemParsed"] * len(meeting.items)
    first, *items = events
    assert first.meeting.model_dump() == meeting.header.model_dump()
    assert [i.item for i in items] == list(meeting.items)  # type: ignore[union-attr]
    assert {e.parsed_at for e in events} == {first.parsed_at}


def test_the_envelope_is_faststreams_own_apart_from_the_correlation_id() -> None:
    body = '{"event":"MeetingParsed","name":"Økonomiudvalget"}'.encode()
    ours = stream_envelope(body, "c" * 36)
    theirs = asyncio.run(
        BinaryMessageFormatV1.encode(
            message={"event": "MeetingParsed", "name": "Økonomiudvalget"}, reply_to=None, headers=None,
            correlation_id="c" * 36,
        )
    )
    assert ours == theirs
    parsed_body, headers = BinaryMessageFormatV1.parse(stream_envelope(body))
    assert parsed_body == body
    assert set(headers) == {"correlation_id", "content-type"} and headers["content-type"] == "application/json"
    assert headers["correlation_id"] != BinaryMessageFormatV1.parse(stream_envelope(body))[1]["correlation_id"]


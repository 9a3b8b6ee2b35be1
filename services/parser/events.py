"""Pure mapping from a received document and its parsed meeting to the events the parser emits."""

from __future__ import annotations

from typing import NamedTuple

from pydantic_core import to_json

from shared.contracts.events import AgendaItemParsed, DocumentReceived, MeetingParsed, utcnow
from shared.contracts.meeting import ParsedMeeting

_SOURCE_FIELDS = ("original_name", "blob_ref", "received_at", "size", "content_type")
_ITEMS = {"items"}


def meeting_events(received: DocumentReceived, meeting: ParsedMeeting) -> list[MeetingParsed | AgendaItemParsed]:
    """MeetingParsed first, then one self-contained AgendaItemParsed per item in document order.

    Each event carries the file's provenance (name as dropped, blob reference, arrival time, size, type) so the
    store can link every decision back to its source without asking ingest.
    """
    header = meeting.header
    count = len(meeting.items)
    source = received.model_dump(include=set(_SOURCE_FIELDS))
    out: list[MeetingParsed | AgendaItemParsed] = [
        MeetingParsed(document_id=received.document_id, meeting=header, item_count=count, **source)
    ]
    out.extend(
        AgendaItemParsed(
            document_id=received.document_id, meeting=header, item=item, position=position, item_count=count, **source
        )
        for position, item in enumerate(meeting.items)
    )
    return out


class EncodedMeeting(NamedTuple):
    """A document's events as the JSON bodies that go on the items stream, with what the log line says."""

    bodies: tuple[bytes, ...]
    kind: str
    items: int
    decisions: int
    municipality: str | None


def encode_meeting_events(received: DocumentReceived, meeting: ParsedMeeting) -> EncodedMeeting:
    """The JSON of `meeting_events(received, meeting)`, byte for byte, built with the header serialised once.

    Every item event repeats the meeting header and the file's provenance; serialising them once per
    document instead of once per item (and skipping the events' construction, whose fields come from
    already validated models) is what makes a document's events cheap. The bodies are the same bytes
    `model_dump_json()` of each event gives (a test compares them), so consumers read the same fields.
    """
    count = len(meeting.items)
    # One time for every event of the document, as one `meeting_events` call would stamp them within µs.
    parsed_at = to_json(utcnow())
    common = (
        b'"schema_version":1,"document_id":' + to_json(received.document_id)
        + b"," + to_json({name: getattr(received, name) for name in _SOURCE_FIELDS})[1:-1]
        # The header's JSON is the meeting's without its items (MeetingHeader's fields, in the same order):
        # no MeetingHeader built (a dump and a validation) just to serialise it.
        + b',"meeting":' + meeting.model_dump_json(exclude=_ITEMS).encode()
    )
    tail = b',"item_count":%d,"parsed_at":%b}' % (count, parsed_at)
    bodies = [b'{"event":"MeetingParsed",' + common + tail]
    item_head = b'{"event":"AgendaItemParsed",' + common + b',"item":'
    bodies.extend(
        item_head + item.model_dump_json().encode() + b',"position":%d' % position + tail
        for position, item in enumerate(meeting.items)
    )
    decisions = sum(1 for item in meeting.items if item.decision is not None)
    return EncodedMeeting(tuple(bodies), meeting.kind.value, count, decisions, meeting.municipality)

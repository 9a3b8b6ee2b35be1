"""Pure mapping from a received document and its parsed meeting to the events the parser emits."""

from __future__ import annotations

from shared.contracts.events import AgendaItemParsed, DocumentReceived, MeetingParsed
from shared.contracts.meeting import ParsedMeeting


def meeting_events(received: DocumentReceived, meeting: ParsedMeeting) -> list[MeetingParsed | AgendaItemParsed]:
    """MeetingParsed first, then one self-contained AgendaItemParsed per item in document order.

    Each event carries the file's provenance (name as dropped, blob reference, arrival time, size, type) so the
    store can link every decision back to its source without asking ingest.
    """
    header = meeting.header
    count = len(meeting.items)
    source = received.model_dump(include={"original_name", "blob_ref", "received_at", "size", "content_type"})
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

"""Pure mapping from a received document and its parsed meeting to the events the parser emits."""

from __future__ import annotations

from shared.contracts.events import AgendaItemParsed, DocumentReceived, MeetingParsed
from shared.contracts.meeting import ParsedMeeting


def meeting_events(received: DocumentReceived, meeting: ParsedMeeting) -> list[MeetingParsed | AgendaItemParsed]:
    """MeetingParsed first, then one self-contained AgendaItemParsed per item in document order."""
    header = meeting.header
    count = len(meeting.items)
    out: list[MeetingParsed | AgendaItemParsed] = [
        MeetingParsed(
            document_id=received.document_id,
            original_name=received.original_name,
            meeting=header,
            item_count=count,
        )
    ]
    out.extend(
        AgendaItemParsed(
            document_id=received.document_id,
            original_name=received.original_name,
            meeting=header,
            item=item,
            position=position,
            item_count=count,
        )
        for position, item in enumerate(meeting.items)
    )
    return out

"""Contracts read what a newer producer wrote (unknown fields ignored) and refuse unknown fields when built."""

from __future__ import annotations

import json

import pytest

from shared.contracts.base import UnknownFields
from shared.contracts.events import DocumentReceived, ItemsStreamEvent

NEWER = {
    "event": "DocumentReceived", "schema_version": 1, "document_id": "a" * 64, "original_name": "x.txt",
    "size": 3, "content_type": "text/plain", "blob_ref": "file:///blobs/aa/aa/x", "added_in_a_later_release": 1,
}


def test_an_event_with_a_field_added_later_is_read() -> None:
    event = DocumentReceived.model_validate_json(json.dumps(NEWER))
    assert event.document_id == "a" * 64
    assert "added_in_a_later_release" not in event.model_dump()


def test_building_an_event_with_an_unknown_field_fails() -> None:
    fields = {k: v for k, v in NEWER.items() if k != "added_in_a_later_release"}
    assert DocumentReceived(**fields).size == 3
    with pytest.raises(UnknownFields, match="added_in_a_later_release"):
        DocumentReceived(**NEWER)


def test_nested_unknown_fields_are_ignored_on_read() -> None:
    from pydantic import TypeAdapter

    body = {
        "event": "MeetingParsed", "document_id": "d", "item_count": 0,
        "meeting": {"municipality": "Vejle", "new_header_field": "x"},
    }
    event = TypeAdapter(ItemsStreamEvent).validate_python(body)
    assert event.meeting.municipality == "Vejle"

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


OLDER_DECISION = {
    "event": "DecisionMade", "schema_version": 1, "event_id": "e", "municipality": "Vejle", "committee": "Byrådet",
    "meeting_date": "2025-01-02", "item_number": 3, "item_title": "T", "case_number": None, "outcome": "approved",
    "decision_text": "Godkendt.", "absent": [], "document_id": "a" * 64, "item_id": "a" * 64 + ":2",
    "item_url": "minutes://items/x", "occurred_at": "2025-01-02T10:00:00Z",
}


def test_a_decision_event_from_before_votes_reads_as_no_vote_and_one_with_votes_keeps_them() -> None:
    from shared.contracts.events import DecisionMade

    assert DecisionMade.model_validate_json(json.dumps(OLDER_DECISION)).votes is None
    voted = {**OLDER_DECISION, "votes": {"in_favour": ["A", "V"], "against": ["Ø"], "in_favour_count": 15}}
    votes = DecisionMade.model_validate_json(json.dumps(voted)).votes
    assert votes is not None
    assert (votes.in_favour, votes.against, votes.abstaining, votes.in_favour_count, votes.against_count) == (
        ("A", "V"), ("Ø",), (), 15, None,
    )

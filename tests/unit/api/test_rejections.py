"""The refused-documents page shows only the parser's bad-input refusals: reasons written for people."""

from __future__ import annotations

from services.api.rejections import refusals
from shared import streams
from shared.contracts.events import DeadLettered
from shared.stream_worker import Entry, entry_of


def _row(entry_id: str, **fields: object) -> Entry:
    event = DeadLettered(stream="documents", error_type="X", attempts=1, payload="{}", **fields)
    return entry_of(entry_id.encode(), {streams.PUBLIC_FIELD.encode(): event.model_dump_json().encode()})


def test_only_the_parsers_bad_input_is_listed_in_stream_order() -> None:
    rows = [
        _row("3-0", service="parser", error="layout not recognised: minutes with a header (date) but no agenda "
             "item found in 2 pages", retryable=False, original_name="b.pdf"),
        _row("2-0", service="parser", error="Timeout in the pool", retryable=True, original_name="c.pdf"),
        _row("1-0", service="store", error="IntegrityError: …", retryable=False),
        _row("0-0", service="parser", error="no text layer — OCR not supported", retryable=False,
             original_name="a.pdf"),
    ]
    shown = refusals(rows)
    assert [(e.original_name, e.error.split(":")[0]) for e in shown] == [
        ("b.pdf", "layout not recognised"), ("a.pdf", "no text layer — OCR not supported")]

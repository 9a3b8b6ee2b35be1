"""Parser core: one minutes or agenda document (bytes) to a ParsedMeeting. Pure functions, no I/O.

`parse_document` raises only the DocumentError subclasses below, each with a plain reason.
"""

from __future__ import annotations

from services.parser.core.assess import assess
from services.parser.core.errors import (
    DocumentError,
    EmptyDocument,
    EncryptedDocument,
    LayoutNotRecognised,
    NoTextLayer,
    NotMinutes,
    TooDeeplyNested,
    UnsupportedDocument,
)
from services.parser.core.formats import detect_format, extract_blocks, extract_text
from services.parser.core.parse import parse_blocks, parse_text
from services.parser.core.votes import read_votes  # the vote grammar every reader shares
from shared.contracts.meeting import ParsedMeeting


def parse_document(data: bytes, filename: str | None = None) -> ParsedMeeting:
    """Parse one document of any supported format (txt, pdf, html, docx, json, xml) into a ParsedMeeting.

    A RecursionError anywhere below is the document's nesting, not a passing fault: it is refused like any
    other bad document (`TooDeeplyNested`), so the pipeline dead-letters it at once instead of retrying it.
    """
    try:
        return _parse(data, filename)
    except RecursionError as exc:
        raise TooDeeplyNested("the document nests too deeply to read: not a meeting document") from exc


def _parse(data: bytes, filename: str | None) -> ParsedMeeting:
    fmt = detect_format(data, filename)
    if fmt in ("json", "xml"):
        from services.parser.core.native import parse_native  # structured exports: no text path

        return assess(parse_native(data, fmt), None, fmt)
    blocks, site = extract_blocks(data, filename, fmt)
    if not any(b.text.strip() for b in blocks):
        raise EmptyDocument("the document contains no text")
    # Every format passes the gate: a layout no rule knows is refused, never stored as an empty meeting.
    return assess(parse_blocks(blocks, site, pdf=fmt == "pdf"), blocks, fmt)


__all__ = [
    "DocumentError",
    "EmptyDocument",
    "EncryptedDocument",
    "LayoutNotRecognised",
    "NoTextLayer",
    "NotMinutes",
    "TooDeeplyNested",
    "UnsupportedDocument",
    "detect_format",
    "extract_text",
    "parse_blocks",
    "parse_document",
    "parse_text",
    "read_votes",
]

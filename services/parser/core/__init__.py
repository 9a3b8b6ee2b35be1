"""Parser core: one minutes or agenda document (bytes) to a ParsedMeeting. Pure functions, no I/O.

`parse_document` raises only the DocumentError subclasses below, each with a plain reason.
"""

from __future__ import annotations

from services.parser.core.errors import (
    DocumentError,
    EmptyDocument,
    EncryptedDocument,
    NoTextLayer,
    NotMinutes,
    UnsupportedDocument,
)
from services.parser.core.formats import detect_format, extract_blocks, extract_text
from services.parser.core.parse import parse_blocks, parse_text
from shared.contracts.meeting import ParsedMeeting


def parse_document(data: bytes, filename: str | None = None) -> ParsedMeeting:
    """Parse one document of any supported format (txt, pdf, html, docx, json, xml) into a ParsedMeeting."""
    fmt = detect_format(data, filename)
    if fmt in ("json", "xml"):
        from services.parser.core.native import parse_native  # structured exports: no text path

        return parse_native(data, fmt)
    blocks, site = extract_blocks(data, filename, fmt)
    if not any(b.text.strip() for b in blocks):
        raise EmptyDocument("the document contains no text")
    return parse_blocks(blocks, site, pdf=fmt == "pdf")


__all__ = [
    "DocumentError",
    "EmptyDocument",
    "EncryptedDocument",
    "NoTextLayer",
    "NotMinutes",
    "UnsupportedDocument",
    "detect_format",
    "extract_text",
    "parse_blocks",
    "parse_document",
    "parse_text",
]

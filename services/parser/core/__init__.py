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
from services.parser.core.formats import detect_format, extract_text, extract_text_and_site
from services.parser.core.parse import parse_text
from shared.contracts.meeting import ParsedMeeting


def parse_document(data: bytes, filename: str | None = None) -> ParsedMeeting:
    """Parse one document of any supported format (txt, pdf, html, docx, json, xml) into a ParsedMeeting."""
    fmt = detect_format(data, filename)
    if fmt in ("json", "xml"):
        from services.parser.core.native import parse_native  # structured exports: no text path

        return parse_native(data, fmt)
    text, site = extract_text_and_site(data, filename)
    if not text.strip():
        raise EmptyDocument("the document contains no text")
    return parse_text(text, site)


__all__ = [
    "DocumentError",
    "EmptyDocument",
    "EncryptedDocument",
    "NoTextLayer",
    "NotMinutes",
    "UnsupportedDocument",
    "detect_format",
    "extract_text",
    "parse_document",
    "parse_text",
]

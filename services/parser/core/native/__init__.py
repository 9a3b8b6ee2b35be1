"""Native exports of agenda systems, read from their structure: FirstAgenda portal JSON, SBSYS XML.

`parse_native` picks the reader from the content (keys, root element), never from a file name; any
other JSON or XML is refused with "format not supported: …" saying what was found.
"""

from __future__ import annotations

from typing import Final

from services.parser.core.errors import UnsupportedDocument
from services.parser.core.native.firstagenda import is_firstagenda, parse_firstagenda
from services.parser.core.native.sbsys import is_sbsys, parse_sbsys
from services.parser.core.native.source import load_json, load_xml
from shared.contracts.meeting import ParsedMeeting

_SHOWN_KEYS: Final = 8


def parse_firstagenda_json(data: bytes) -> ParsedMeeting:
    """FirstAgenda publishing-portal JSON (bytes) to a ParsedMeeting."""
    doc = load_json(data)
    if not is_firstagenda(doc):
        raise UnsupportedDocument(_what_json(doc))
    return parse_firstagenda(doc)


def parse_sbsys_xml(data: bytes) -> ParsedMeeting:
    """SBSYS eDagsorden `Publication` XML (bytes) to a ParsedMeeting."""
    root = load_xml(data)
    if not is_sbsys(root):
        raise UnsupportedDocument(
            f"format not supported: XML that is not an SBSYS eDagsorden publication (root element <{root.tag}>)"
        )
    return parse_sbsys(root)


def parse_native(data: bytes, fmt: str) -> ParsedMeeting:
    """A JSON or XML document to a ParsedMeeting, by the reader its content calls for."""
    if fmt == "json":
        return parse_firstagenda_json(data)
    if fmt == "xml":
        return parse_sbsys_xml(data)
    raise UnsupportedDocument(f"format not supported: {fmt}")


def _what_json(doc: object) -> str:
    if isinstance(doc, dict):
        keys = ", ".join(str(k) for k in list(doc)[:_SHOWN_KEYS]) + (", …" if len(doc) > _SHOWN_KEYS else "")
        return f"format not supported: JSON that is not a FirstAgenda meeting (top-level keys: {keys or 'none'})"
    kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(doc), "a number")
    return f"format not supported: JSON that is not a FirstAgenda meeting (top level is {kind})"


__all__ = ["parse_firstagenda_json", "parse_native", "parse_sbsys_xml"]

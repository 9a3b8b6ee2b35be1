"""Native exports of agenda systems, read from their structure: FirstAgenda portal JSON, SBSYS, eDoc
and Acadre XML.

`parse_native` picks the reader from the content (keys, root element), never from a file name; any
other JSON or XML is refused with "format not supported: …" saying what was found.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # the tree type only; parsing (defused) is in source.py
from collections.abc import Callable
from typing import Final

from services.parser.core.errors import UnsupportedDocument
from services.parser.core.native.acadre import is_acadre, parse_acadre
from services.parser.core.native.edoc import is_edoc, parse_edoc
from services.parser.core.native.firstagenda import is_firstagenda, parse_firstagenda
from services.parser.core.native.sbsys import is_sbsys, parse_sbsys
from services.parser.core.native.source import load_json, load_xml_with_warnings
from shared.contracts.meeting import ParsedMeeting

_SHOWN_KEYS: Final = 8


def parse_firstagenda_json(data: bytes) -> ParsedMeeting:
    """FirstAgenda publishing-portal JSON (bytes) to a ParsedMeeting."""
    doc = load_json(data)
    if not is_firstagenda(doc):
        raise UnsupportedDocument(_what_json(doc))
    return parse_firstagenda(doc)


# Each XML reader: how to know its export from the root, and how to read it.
_XML_READERS: Final[tuple[tuple[Callable[[ET.Element], bool], Callable[[ET.Element], ParsedMeeting]], ...]] = (
    (is_sbsys, parse_sbsys),
    (is_edoc, parse_edoc),
    (is_acadre, parse_acadre),
)
_XML_KINDS: Final = "an SBSYS eDagsorden publication, an eDoc meeting or an Acadre agenda export"


def parse_sbsys_xml(data: bytes) -> ParsedMeeting:
    """SBSYS eDagsorden `Publication` XML (bytes) to a ParsedMeeting."""
    return parse_xml(data)


def parse_xml(data: bytes) -> ParsedMeeting:
    """An agenda system's XML export (SBSYS, eDoc, Acadre) to a ParsedMeeting, by its root and structure.

    What had to be repaired to read the XML (forbidden control characters) is said in `warnings`.
    """
    root, repaired = load_xml_with_warnings(data)
    for matches, read in _XML_READERS:
        if matches(root):
            meeting = read(root)
            if repaired:
                meeting = meeting.model_copy(update={"warnings": (*repaired, *meeting.warnings)})
            return meeting
    children = ", ".join(dict.fromkeys(str(c.tag) for c in list(root)[:_SHOWN_KEYS]))
    raise UnsupportedDocument(
        f"format not supported: XML that is not {_XML_KINDS} (root element <{root.tag}>"
        + (f" with <{children}>" if children else "") + ")"
    )


def parse_native(data: bytes, fmt: str) -> ParsedMeeting:
    """A JSON or XML document to a ParsedMeeting, by the reader its content calls for."""
    if fmt == "json":
        return parse_firstagenda_json(data)
    if fmt == "xml":
        return parse_xml(data)
    raise UnsupportedDocument(f"format not supported: {fmt}")


def _what_json(doc: object) -> str:
    if isinstance(doc, dict):
        keys = ", ".join(str(k) for k in list(doc)[:_SHOWN_KEYS]) + (", …" if len(doc) > _SHOWN_KEYS else "")
        return f"format not supported: JSON that is not a FirstAgenda meeting (top-level keys: {keys or 'none'})"
    kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(doc), "a number")
    return f"format not supported: JSON that is not a FirstAgenda meeting (top level is {kind})"


__all__ = ["parse_firstagenda_json", "parse_native", "parse_sbsys_xml", "parse_xml"]

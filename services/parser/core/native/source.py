"""Bytes of a native export to a parsed tree: JSON or XML, safely, with a clear reason on failure.

XML goes through defusedxml with DTDs refused outright: a meeting export never needs one, and a
DTD is how entity bombs (`billion laughs`) and external entities get in.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # the tree type and ParseError; parsing goes through defusedxml
from typing import Any, Final

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from services.parser.core.decode import decode_text
from services.parser.core.errors import UnsupportedDocument

# Exports of one meeting are a few MB at most (attachments are links, not content).
MAX_BYTES: Final = 50 * 1024 * 1024


def load_json(data: bytes) -> Any:
    """Parsed JSON, or UnsupportedDocument saying why it is not valid JSON."""
    _check_size(data, "JSON")
    try:
        return json.loads(decode_text(data))
    except json.JSONDecodeError as exc:
        raise UnsupportedDocument(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise UnsupportedDocument("malformed JSON: nested too deeply") from exc


def load_xml(data: bytes) -> ET.Element:
    """The root element of an XML document without namespaces, or UnsupportedDocument saying why not."""
    _check_size(data, "XML")
    try:
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnsupportedDocument(
            "XML with a DTD or entity declarations is not accepted (a meeting export needs none)"
        ) from exc
    except ET.ParseError as exc:
        raise UnsupportedDocument(f"malformed XML: {exc}") from exc
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def _check_size(data: bytes, what: str) -> None:
    if len(data) > MAX_BYTES:
        raise UnsupportedDocument(f"{what} document too large ({len(data) // (1024 * 1024)} MB; at most "
                                  f"{MAX_BYTES // (1024 * 1024)} MB)")

"""Bytes of a native export to a parsed tree: JSON or XML, safely, with a clear reason on failure.

XML goes through defusedxml with DTDs refused outright: a meeting export never needs one, and a
DTD is how entity bombs (`billion laughs`) and external entities get in.

Some agenda systems (eDoc) copy Word's control characters into their exports as character references
(`&#xC;` for a page break, `&#11;` for a manual line break) or as raw bytes. XML 1.0 forbids them, so a
conforming parser refuses the whole export. They carry no meeting content: each is replaced by a space
(a break between words, so the words on either side stay apart) and the parse says how many.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET  # the tree type and ParseError; parsing goes through defusedxml
from typing import Any, Final

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from services.parser.core.decode import decode_text
from services.parser.core.errors import UnsupportedDocument
from services.parser.core.nesting import check_tree

# Exports of one meeting are a few MB at most (attachments are links, not content).
MAX_BYTES: Final = 50 * 1024 * 1024
# `&#12;`, `&#x0C;`: decimal or hex character references (which ones are forbidden is decided below).
_CHAR_REF: Final = re.compile(rb"&#(?:[xX]0*([0-9a-fA-F]{1,8})|0*([0-9]{1,10}));")
# C0 controls other than tab, line feed and carriage return: forbidden as raw characters too.
_RAW_CONTROLS: Final = bytes([*range(0, 9), 11, 12, *range(14, 32)])
_RAW_CONTROL: Final = re.compile(b"[" + re.escape(_RAW_CONTROLS) + b"]")
_ALLOWED_C0: Final = frozenset({9, 10, 13})
# In UTF-16 or UTF-32 a zero byte is half a character, not a control: those exports are left alone.
_WIDE_START: Final = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff", b"<\x00", b"\x00<")


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
    return load_xml_with_warnings(data)[0]


def load_xml_with_warnings(data: bytes) -> tuple[ET.Element, tuple[str, ...]]:
    """The root element, and what had to be repaired to read it (forbidden characters replaced)."""
    _check_size(data, "XML")
    data, warnings = _replace_forbidden(data)
    try:
        root: ET.Element = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise UnsupportedDocument(
            "XML with a DTD or entity declarations is not accepted (a meeting export needs none)"
        ) from exc
    except ET.ParseError as exc:
        raise UnsupportedDocument(f"malformed XML: {exc}") from exc
    check_tree(root, "the XML export")  # the readers walk it: expat builds any depth, cheaply
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root, warnings


def _forbidden(code: int) -> bool:
    """Whether XML 1.0 (`Char` production) forbids this code point."""
    if code < 0x20:
        return code not in _ALLOWED_C0
    return 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF) or code > 0x10FFFF


def _replace_forbidden(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    warnings: list[str] = []
    if b"&#" in data:
        count = 0

        def repl(m: re.Match[bytes]) -> bytes:
            nonlocal count
            code = int(m.group(1), 16) if m.group(1) is not None else int(m.group(2))
            if not _forbidden(code):
                return m.group(0)
            count += 1
            return b" "

        data = _CHAR_REF.sub(repl, data)
        if count:
            warnings.append(f"replaced {count} character reference{'s' if count != 1 else ''} that XML 1.0 forbids")
    if not data.startswith(_WIDE_START) and len(data.translate(None, _RAW_CONTROLS)) != len(data):
        data, count = _RAW_CONTROL.subn(b" ", data)
        warnings.append(f"replaced {count} control character{'s' if count != 1 else ''} that XML 1.0 forbids")
    return data, tuple(warnings)


def _check_size(data: bytes, what: str) -> None:
    if len(data) > MAX_BYTES:
        raise UnsupportedDocument(f"{what} document too large ({len(data) // (1024 * 1024)} MB; at most "
                                  f"{MAX_BYTES // (1024 * 1024)} MB)")

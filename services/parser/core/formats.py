"""Which format a document is (from its bytes, the file name only as a hint) and its text."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from typing import Final

from services.parser.core.blocks import Block, text_blocks
from services.parser.core.decode import decode_text
from services.parser.core.errors import EmptyDocument, UnsupportedDocument
from services.parser.core.normalize import clean_blocks, clean_text

# Signatures of formats the parser refuses, to say precisely what was sent.
_REFUSED_MAGIC: Final[tuple[tuple[bytes, str], ...]] = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0", "a legacy Office file (.doc/.xls)"),
    (b"{\\rtf", "an RTF document"), (b"\x1f\x8b", "a gzip archive"), (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"), (b"\x00\x00\x00", "binary data"),
)
_HTML_START: Final = re.compile(rb"^\s*(?:<!doctype\s+html|<html|<head|<body|<meta|<!--|<div|<p[\s>]|<table)", re.I)
_HTML_TAGS: Final = re.compile(rb"<(?:html|body|div|p|table|h[1-6]|span|br)[\s/>]", re.I)
# Everything but C0 controls (tab, line feed, vertical tab, form feed and carriage return are text).
# `<?xml …?>`, comments, a doctype, then the root element's name.
_XML_ROOT: Final = re.compile(
    rb"^(?:<\?xml[^>]{0,200}\?>)?\s*(?:<!--.{0,2000}?-->\s*|<!DOCTYPE[^>]{0,500}>\s*){0,5}<(?P<root>[A-Za-z_][\w.:-]{0,80})",
    re.S,
)
# `{"key"` or `{}`: no text document opens like that, so JSON cut short is still JSON (and refused as such).
_JSON_START: Final = re.compile(rb'^\{\s*(?:"|\})')
_XML_NAME: Final = re.compile(r"^[a-z_][\w.-]*:?[\w.-]*$")
_HTML_ELEMENTS: Final = frozenset(
    {"html", "head", "body", "meta", "title", "link", "div", "p", "table", "span", "br", "h1", "h2", "h3", "h4",
     "h5", "h6", "section", "article", "main", "header", "footer", "nav", "ul", "ol", "li", "a", "b", "i", "em",
     "strong", "font", "center", "form", "img", "script", "style", "pre", "blockquote", "dl", "hr", "tr", "td"}
)
_TEXT_BYTES: Final = bytes([9, 10, 11, 12, 13, *range(32, 256)])
_EXTENSIONS: Final = {".pdf": "pdf", ".html": "html", ".htm": "html", ".docx": "docx", ".txt": "txt"}


def detect_format(data: bytes, filename: str | None = None) -> str:
    """The document format ("txt", "pdf", "html", "docx", "json" or "xml"), decided by content, not by name."""
    if not data or data.isspace():  # not `data.strip()`: a copy of a document of up to 50 MB
        raise EmptyDocument("the document is empty")
    head = data[:1024]
    if b"%PDF-" in head:
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        if _is_docx(data):
            return "docx"
        raise UnsupportedDocument("a ZIP archive that is not a Word .docx document")
    for magic, what in _REFUSED_MAGIC:
        if data.startswith(magic):
            raise UnsupportedDocument(f"unsupported file type: {what}")
    sniff = head.lstrip(b"\xef\xbb\xbf")
    native = _native_format(sniff, data)
    if native is not None:
        return native
    if _HTML_START.match(sniff) or len(_HTML_TAGS.findall(data[:8192])) >= 3:
        return "html"
    if _looks_binary(data[:4096]):
        hint = _EXTENSIONS.get(_suffix(filename), "")
        what = f" (named .{hint})" if hint else ""
        raise UnsupportedDocument(f"binary data that is neither text, PDF, HTML nor DOCX{what}")
    return "txt"


def extract_blocks(data: bytes, filename: str | None = None, fmt: str | None = None) -> tuple[list[Block], str]:
    """The blocks of a document of any text format, and text around it that only says whose it is."""
    fmt = fmt or detect_format(data, filename)
    if fmt in ("json", "xml"):
        raise UnsupportedDocument(f"a {fmt.upper()} export has no text blocks: read it with parse_native")
    if fmt == "html":
        from services.parser.core.html import html_blocks

        blocks, site = html_blocks(decode_text(data))
        return clean_blocks(blocks), site
    if fmt == "pdf":
        from services.parser.core.pdf import pdf_blocks  # pypdfium2 loads only when a PDF arrives

        return clean_blocks(pdf_blocks(data)), ""
    if fmt == "docx":
        from services.parser.core.docx_text import docx_blocks

        return clean_blocks(docx_blocks(data)), ""
    # Plain text is cleaned whole (soft breaks may join lines), every other format block by block.
    return text_blocks(clean_text(decode_text(data))), ""


def extract_text(data: bytes, filename: str | None = None) -> str:
    """The plain text of a document of any supported format, one line per block, pages by form feeds."""
    blocks, _ = extract_blocks(data, filename)
    out: list[str] = []
    page = blocks[0].page if blocks else 0
    for block in blocks:
        if block.page != page:
            out.append("\f")
            page = block.page
        elif out:
            out.append("\n")
        out.append(block.text)
    return "".join(out)


def _native_format(sniff: bytes, data: bytes) -> str | None:
    """JSON (a whole document in braces or brackets) or XML (`<?xml`, or a root that is no HTML element).

    Checked before HTML: XML exports carry HTML field bodies, which would count as HTML tags.
    """
    start = sniff.lstrip()
    if _JSON_START.match(start) or (start[:1] in (b"{", b"[") and _last_byte(data) in (b"}", b"]")):
        return "json"
    declared = start.startswith(b"<?xml")
    m = _XML_ROOT.match(start)
    if m is None:
        return "xml" if declared else None  # a DTD subset hides the root: still XML (and refused there)
    root = m.group("root").decode("ascii", "replace").casefold()
    if root in _HTML_ELEMENTS:
        return "html" if declared else None  # XHTML
    if not declared and not _XML_NAME.match(root):
        return None
    return "xml"


def _last_byte(data: bytes) -> bytes:
    """The last byte that is not ASCII whitespace (b"" for none): `data.rstrip()[-1:]` without copying the
    whole document."""
    end = len(data)
    while end > 0:
        tail = data[max(0, end - 4096) : end].rstrip()
        if tail:
            return tail[-1:]
        end -= 4096
    return b""


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _looks_binary(sample: bytes) -> bool:
    """Text has almost no control bytes; UTF-16 text is recognised by its BOM."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    if b"\x00" in sample:
        return True
    controls = len(sample.translate(None, _TEXT_BYTES))
    return controls > max(8, len(sample) // 50)


def _suffix(filename: str | None) -> str:
    if not filename or "." not in filename:
        return ""
    return filename[filename.rfind(".") :].casefold()

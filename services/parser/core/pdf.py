"""PDF to blocks via pypdfium2: one block per text line, with its page, font size, weight and position.

Font size and weight are read at the first character of each line only (a few calls per line keep
the reader near the cost of plain text extraction). They tell headings from body text: item titles
and section headings print larger or bolder than the case text, and a line that only reads like a
heading (`Indstilling` as an entry of a `Bilag` list) is body text when its font says so.
"""

from __future__ import annotations

import ctypes
from collections import Counter
from dataclasses import dataclass
from typing import Final

import pypdfium2
import pypdfium2.raw as pdfium_c

from services.parser.core.blocks import HEADING, PLAIN, TEXT, UNKNOWN, Block
from services.parser.core.errors import EncryptedDocument, NoTextLayer, UnsupportedDocument

# Fewer visible characters than this per page on average means scans or drawings, not text.
_MIN_CHARS_PER_PAGE: Final = 20
# A document so large is refused rather than parsed for minutes.
_MAX_PAGES: Final = 2000
# A line is a heading by font when it is this much larger than the body text, or this much bolder.
_LARGER: Final = 1.12
_BOLDER: Final = 80
# Sizes of body text vary a little (footnotes, tables); a heading style must be used this sparingly.
_MAX_HEADING_SHARE: Final = 0.4


@dataclass
class _Line:
    page: int
    text: str
    size: float
    weight: int
    top: float


def pdf_blocks(data: bytes) -> list[Block]:
    """The text lines of every page as blocks, styled by font where the PDF tells sizes apart."""
    lines = _read_lines(data)
    return _style(lines)


def _read_lines(data: bytes) -> list[_Line]:
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedDocument("the PDF is password-protected") from exc
        raise UnsupportedDocument(f"damaged or unreadable PDF ({exc})") from exc
    out: list[_Line] = []
    try:
        count = len(document)
        if count == 0:
            raise UnsupportedDocument("the PDF has no pages")
        if count > _MAX_PAGES:
            raise UnsupportedDocument(f"the PDF has {count} pages; more than {_MAX_PAGES} is not minutes")
        visible = 0
        for index in range(count):
            page = document[index]
            try:
                height = page.get_height()
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                    visible += len(text) - sum(text.count(ch) for ch in " \r\n\t\f\xa0")
                    out.extend(_page_lines(textpage, text, index + 1, height))
                finally:
                    textpage.close()
            finally:
                page.close()
    except pypdfium2.PdfiumError as exc:
        raise UnsupportedDocument(f"damaged PDF: text could not be read ({exc})") from exc
    finally:
        document.close()
    if visible < _MIN_CHARS_PER_PAGE * count:
        raise NoTextLayer()
    return out


def _page_lines(textpage: pypdfium2.PdfTextPage, text: str, page_no: int, height: float) -> list[_Line]:
    """Lines of one page; pdfium's text has one character per text-page character, `\\r\\n` included."""
    raw = textpage.raw
    chars = pdfium_c.FPDFText_CountChars(raw)
    left, right, bottom, top = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    lines: list[_Line] = []
    pos = 0
    for line in text.split("\r\n"):
        start = pos
        pos += len(line) + 2
        stripped = line.lstrip()
        if not stripped:
            continue
        index = start + len(line) - len(stripped)
        size, weight, y = 0.0, 0, -1.0
        if index < chars:
            size = float(pdfium_c.FPDFText_GetFontSize(raw, index))
            weight = int(pdfium_c.FPDFText_GetFontWeight(raw, index))
            if pdfium_c.FPDFText_GetCharBox(raw, index, left, right, bottom, top):
                y = round(height - top.value, 1)
        # Extracted text keeps form feeds of its own at times; a page break is the page number here.
        lines.extend(_Line(page_no, part, size, weight, y) for part in line.split("\f") if part.strip())
    return lines


def _style(lines: list[_Line]) -> list[Block]:
    """Blocks with a heading style where the font is clearly larger or bolder than the body text."""
    sizes = Counter(round(ln.size, 1) for ln in lines if ln.size > 0)
    weights = Counter(ln.weight for ln in lines if ln.weight > 0)
    if not sizes:
        return [Block(ln.text, page=ln.page, top=ln.top) for ln in lines]
    body_size = sizes.most_common(1)[0][0]
    body_weight = weights.most_common(1)[0][0] if weights else 0

    def is_heading(ln: _Line) -> bool:
        larger = ln.size >= body_size * _LARGER
        bolder = body_weight > 0 and ln.weight >= body_weight + _BOLDER
        return larger or bolder

    flagged = sum(1 for ln in lines if is_heading(ln))
    # A PDF whose fonts say nothing useful (one size throughout, or most lines "bold") is read as text.
    styled = 0 < flagged <= _MAX_HEADING_SHARE * len(lines)
    levels = {size: rank for rank, size in enumerate(sorted({round(ln.size, 1) for ln in lines
                                                              if styled and is_heading(ln)}, reverse=True), 1)}
    blocks: list[Block] = []
    for ln in lines:
        if not styled:
            style, level = UNKNOWN, 0
        elif is_heading(ln):
            style, level = HEADING, levels.get(round(ln.size, 1), 0)
        else:
            style, level = PLAIN, 0
        # Positional (text, page, style, level, kind, top, size): keywords cost a third more per line.
        blocks.append(Block(ln.text, ln.page, style, level, TEXT, ln.top, ln.size))
    return blocks

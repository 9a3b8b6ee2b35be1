"""PDF text layer via pypdfium2, one form feed between pages so page furniture can be found."""

from __future__ import annotations

from typing import Final

import pypdfium2
import pypdfium2.raw as pdfium_c

from services.parser.core.errors import EncryptedDocument, NoTextLayer, UnsupportedDocument

# Fewer visible characters than this per page on average means scans or drawings, not text.
_MIN_CHARS_PER_PAGE: Final = 20
# A document so large is refused rather than parsed for minutes.
_MAX_PAGES: Final = 2000


def pdf_text(data: bytes) -> str:
    """The text of every page, pages separated by form feeds."""
    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        if exc.err_code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
            raise EncryptedDocument("the PDF is password-protected") from exc
        raise UnsupportedDocument(f"damaged or unreadable PDF ({exc})") from exc
    try:
        count = len(document)
        if count == 0:
            raise UnsupportedDocument("the PDF has no pages")
        if count > _MAX_PAGES:
            raise UnsupportedDocument(f"the PDF has {count} pages; more than {_MAX_PAGES} is not minutes")
        pages: list[str] = []
        for index in range(count):
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    pages.append(textpage.get_text_range())
                finally:
                    textpage.close()
            finally:
                page.close()
    except pypdfium2.PdfiumError as exc:
        raise UnsupportedDocument(f"damaged PDF: text could not be read ({exc})") from exc
    finally:
        document.close()
    visible = sum(sum(1 for ch in page if not ch.isspace()) for page in pages)
    if visible < _MIN_CHARS_PER_PAGE * len(pages):
        raise NoTextLayer()
    return "\f".join(pages)

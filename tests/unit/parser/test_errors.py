"""Documents the parser refuses, each with its own DocumentError and a reason that says why."""

from __future__ import annotations

import pytest
from fpdf import FPDF

from services.parser.core import (
    DocumentError,
    EmptyDocument,
    EncryptedDocument,
    NoTextLayer,
    NotMinutes,
    UnsupportedDocument,
    detect_format,
    parse_document,
)

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def _pdf_with_text(text: str) -> FPDF:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 6, text)
    return pdf


def test_empty_bytes() -> None:
    with pytest.raises(EmptyDocument, match="empty"):
        parse_document(b"")


def test_whitespace_only() -> None:
    with pytest.raises(EmptyDocument):
        parse_document(b" \r\n\t \n")


def test_png_named_pdf_is_unsupported() -> None:
    with pytest.raises(UnsupportedDocument, match="PNG"):
        parse_document(PNG, "referat.pdf")


def test_truncated_pdf_is_unsupported() -> None:
    data = bytes(_pdf_with_text("REFERAT Byrådet d. 01-02-2022").output())
    with pytest.raises(UnsupportedDocument, match="PDF"):
        parse_document(data[: len(data) // 3], "referat.pdf")


def test_garbage_after_pdf_magic_is_unsupported() -> None:
    with pytest.raises(UnsupportedDocument):
        parse_document(b"%PDF-1.7\n" + b"\x00garbage" * 50)


def test_encrypted_pdf() -> None:
    pdf = _pdf_with_text("REFERAT Byrådet d. 01-02-2022")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    with pytest.raises(EncryptedDocument, match="password"):
        parse_document(bytes(pdf.output()))


def test_pdf_with_only_a_drawing_has_no_text_layer() -> None:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    with pytest.raises(NoTextLayer, match="no text layer — OCR not supported"):
        parse_document(bytes(pdf.output()))
    assert issubclass(NoTextLayer, UnsupportedDocument)


def test_news_article_is_not_minutes() -> None:
    article = (
        "Ny bydel skal rumme 2.000 boliger\n\n"
        "Kommunen har i dag præsenteret planerne for en ny bydel ved havnen. Borgmesteren glæder sig.\n"
        "Byggeriet ventes at gå i gang i 2026, og de første beboere kan flytte ind året efter.\n"
        "Læs også: 5 ting du skal vide om lokalplanen\n"
    )
    with pytest.raises(NotMinutes, match="no agenda items"):
        parse_document(article.encode("utf-8"), "nyhed.txt")


def test_csv_is_not_minutes() -> None:
    csv = "code,name,aliases\n101,København,Københavns Kommune\n147,Frederiksberg,\n151,Ballerup,\n"
    with pytest.raises(NotMinutes):
        parse_document(csv.encode("utf-8"), "data.csv")


def test_zip_that_is_not_docx() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.txt", "hello")
    with pytest.raises(UnsupportedDocument, match="ZIP"):
        parse_document(buffer.getvalue(), "referat.docx")


def test_binary_noise_is_unsupported() -> None:
    with pytest.raises(UnsupportedDocument, match="binary"):
        detect_format(bytes(range(256)) * 4)


@pytest.mark.parametrize(
    "error",
    [EmptyDocument, UnsupportedDocument, NoTextLayer, EncryptedDocument, NotMinutes],
)
def test_every_error_is_a_document_error(error: type[DocumentError]) -> None:
    assert issubclass(error, DocumentError)

"""Word .docx to plain text with python-docx: paragraphs and table rows in document order."""

from __future__ import annotations

import zipfile
from io import BytesIO
from typing import Final
from xml.etree.ElementTree import ParseError

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table

from services.parser.core.errors import UnsupportedDocument

# Defends against zip bombs: minutes never unpack to anything near this.
_MAX_UNPACKED: Final = 200 * 1024 * 1024


def docx_text(data: bytes) -> str:
    """Paragraph texts one per line; a table row becomes one line of its cells (label/value pairs)."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > _MAX_UNPACKED:
                raise UnsupportedDocument("the DOCX unpacks to more than 200 MB")
        document = docx.Document(BytesIO(data))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                lines.extend(_table_lines(block))
            else:
                lines.append(block.text)
        return "\n".join(lines)
    except UnsupportedDocument:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, ParseError, OSError) as exc:
        raise UnsupportedDocument(f"damaged or unreadable DOCX ({type(exc).__name__})") from exc
    except Exception as exc:  # python-docx raises assorted lxml errors on malformed XML
        raise UnsupportedDocument(f"damaged DOCX: {type(exc).__name__}") from exc


def _table_lines(table: Table) -> list[str]:
    lines: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = cell.text.strip()
            # Merged cells repeat the same cell object along the row: keep its text once.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            lines.append(" ".join(cells))
    return lines

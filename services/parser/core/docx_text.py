"""Word .docx to blocks with python-docx: paragraphs with their heading styles, table rows in order."""

from __future__ import annotations

import re
import zipfile
from io import BytesIO
from typing import Final
from xml.etree.ElementTree import ParseError

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from services.parser.core.blocks import FIELD, HEADING, PLAIN, UNKNOWN, Block
from services.parser.core.errors import UnsupportedDocument

# Defends against zip bombs: minutes never unpack to anything near this.
_MAX_UNPACKED: Final = 200 * 1024 * 1024
# `Heading 2`, `Overskrift 2`, `Titel`/`Title`: the built-in heading styles in English and Danish Word.
_HEADING_STYLE: Final = re.compile(r"^(?:heading|overskrift)\s*(?P<level>\d)$|^(?:title|titel)$", re.I)


def docx_blocks(data: bytes) -> list[Block]:
    """Paragraphs one block each (headings by style); a table row becomes one line of its cells."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > _MAX_UNPACKED:
                raise UnsupportedDocument("the DOCX unpacks to more than 200 MB")
        document = docx.Document(BytesIO(data))
        blocks: list[Block] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                blocks.extend(_table_blocks(block))
            else:
                blocks.extend(_paragraph_blocks(block))
        if not any(b.style == HEADING for b in blocks):
            # A document written without heading styles says nothing about body text either.
            blocks = [Block(b.text, kind=b.kind) for b in blocks]
        return blocks
    except UnsupportedDocument:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, ParseError, OSError) as exc:
        raise UnsupportedDocument(f"damaged or unreadable DOCX ({type(exc).__name__})") from exc
    except Exception as exc:  # python-docx raises assorted lxml errors on malformed XML
        raise UnsupportedDocument(f"damaged DOCX: {type(exc).__name__}") from exc


def _paragraph_blocks(paragraph: Paragraph) -> list[Block]:
    name = paragraph.style.name if paragraph.style is not None else ""
    m = _HEADING_STYLE.match(name or "")
    lines = [ln for ln in paragraph.text.split("\n")]
    if m is not None:
        level = int(m.group("level")) if m.group("level") else 1
        return [Block(ln, style=HEADING, level=level) for ln in lines]
    return [Block(ln, style=PLAIN if ln.strip() else UNKNOWN) for ln in lines]


def _table_blocks(table: Table) -> list[Block]:
    blocks: list[Block] = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            # Merged cells repeat the same cell object along the row: keep its text once.
            if not cells or cells[-1] != text:
                cells.append(text)
        # `Mødested: | …` with an empty value cell is still one complete field.
        if len(cells) == 2 and cells[0].endswith(":"):
            blocks.append(Block(f"{cells[0]} {cells[1]}".strip(), kind=FIELD, style=PLAIN))
        elif any(cells):
            blocks.append(Block(" ".join(c for c in cells if c), style=PLAIN))
    return blocks

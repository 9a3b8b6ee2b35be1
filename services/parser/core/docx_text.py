"""Word .docx to blocks with python-docx: paragraphs with their heading styles, tables row by row.

The body is walked in document order, not through python-docx's flat views, because templates hide
meeting fields where those views do not look: tables nested in a table cell (Acadre prints the
members as two columns of a table inside the `Medlemmer` cell), text boxes anchored in a paragraph
(`w:txbxContent`) and content controls (`w:sdt`).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from io import BytesIO
from typing import Any, Final
from xml.etree.ElementTree import ParseError

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph

from services.parser.core.blocks import FIELD, HEADING, PLAIN, UNKNOWN, Block
from services.parser.core.errors import TooDeeplyNested, UnsupportedDocument
from services.parser.core.sections import classify_heading

# Defends against zip bombs: minutes never unpack to anything near this.
_MAX_UNPACKED: Final = 200 * 1024 * 1024
# `Heading 2`, `Overskrift 2`, `Titel`/`Title`: the built-in heading styles in English and Danish Word.
_HEADING_STYLE: Final = re.compile(r"^(?:heading|overskrift)\s*(?P<level>\d)$|^(?:title|titel)$", re.I)
_P: Final = qn("w:p")
_TBL: Final = qn("w:tbl")
_SDT: Final = qn("w:sdt")
_SDT_CONTENT: Final = qn("w:sdtContent")
_TXBX: Final = qn("w:txbxContent")
# `mc:AlternateContent` holds the same text box twice: as DrawingML in `mc:Choice` and as VML in
# `mc:Fallback` for old readers. Only the choice is read, or every text box would count twice.
_FALLBACK: Final = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Tables nested deeper than this are not meeting layout; the walk stops there (no runaway recursion).
_MAX_DEPTH: Final = 8
# How libxml2 says a document nests beyond its limit (without XML_PARSE_HUGE, which python-docx leaves off).
_EXCESSIVE_DEPTH: Final = "Excessive depth in document"
_LIBXML_DEPTH: Final = 256


def docx_blocks(data: bytes) -> list[Block]:
    """Paragraphs one block each (headings by style); a table row becomes one line of its cells."""
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            if sum(info.file_size for info in archive.infolist()) > _MAX_UNPACKED:
                raise UnsupportedDocument("the DOCX unpacks to more than 200 MB")
        document = docx.Document(BytesIO(data))
        walker = _Walker(document)
        blocks = walker.content(document.element.body, document._body, 0)
        if not any(b.style == HEADING for b in blocks):
            # Without heading styles only direct formatting (a larger or bold font) tells headings; a
            # document that uses neither says nothing about body text either (see `docx_fonts`).
            from services.parser.core.docx_fonts import style_by_direct_font  # only unstyled documents

            blocks = style_by_direct_font(document, blocks)
        return blocks
    except UnsupportedDocument:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, ParseError, OSError) as exc:
        raise UnsupportedDocument(f"damaged or unreadable DOCX ({type(exc).__name__})") from exc
    except RecursionError as exc:
        raise TooDeeplyNested("the DOCX nests its elements too deeply to read: not a meeting document") from exc
    except Exception as exc:  # python-docx raises assorted lxml errors on malformed XML
        if _EXCESSIVE_DEPTH in str(exc):
            # libxml2 (under python-docx) stops at 256 levels, below the bound every other format has.
            raise TooDeeplyNested(
                f"the DOCX nests its XML elements more than {_LIBXML_DEPTH} levels deep: not a meeting document"
            ) from exc
        raise UnsupportedDocument(f"damaged DOCX: {type(exc).__name__}") from exc


def _children(container: Any) -> Iterator[Any]:
    """Block-level children, with content controls (`w:sdt`) opened to what they hold."""
    for element in container:
        if element.tag == _SDT:
            content = element.find(_SDT_CONTENT)
            if content is not None:
                yield from _children(content)
        else:
            yield element


def _text_boxes(element: Any) -> Iterator[Any]:
    """Text boxes anchored in a paragraph, outermost only (their own walk finds nested ones)."""
    for child in element:
        if child.tag == _FALLBACK:
            continue
        if child.tag == _TXBX:
            yield child
        else:
            yield from _text_boxes(child)


class _Walker:
    """The walk over one document, with its style names looked up once per style (python-docx looks
    the style up anew for every paragraph, which costs more than the rest of the walk)."""

    def __init__(self, document: Any) -> None:
        self.names: dict[str | None, str] = {}

    def content(self, container: Any, parent: Any, depth: int) -> list[Block]:
        """The paragraphs and tables of a body, cell or text box, in document order."""
        blocks: list[Block] = []
        for element in _children(container):
            if element.tag == _P:
                blocks.extend(self.paragraph(Paragraph(element, parent)))
                if depth < _MAX_DEPTH:
                    for box in _text_boxes(element):
                        blocks.extend(self.content(box, parent, depth + 1))
            elif element.tag == _TBL and depth < _MAX_DEPTH:
                blocks.extend(self.table(Table(element, parent), depth + 1))
        return blocks

    def style_name(self, paragraph: Paragraph) -> str:
        style_id = paragraph._p.style
        if style_id not in self.names:
            style = paragraph.style
            self.names[style_id] = (style.name or "") if style is not None else ""
        return self.names[style_id]

    def paragraph(self, paragraph: Paragraph) -> list[Block]:
        m = _HEADING_STYLE.match(self.style_name(paragraph))
        lines = paragraph.text.split("\n")
        if m is not None:
            level = int(m.group("level")) if m.group("level") else 1
            return [Block(ln, style=HEADING, level=level) for ln in lines]
        return [Block(ln, style=PLAIN if ln.strip() else UNKNOWN) for ln in lines]

    def table(self, table: Table, depth: int) -> list[Block]:
        return _table_blocks(self, table, depth)


def _table_blocks(walker: _Walker, table: Table, depth: int) -> list[Block]:
    blocks: list[Block] = []
    for row in table.rows:
        cells = _distinct_cells(row.cells)
        if len(cells) == 1:
            # A one-column row is page layout (a cover or signature frame), not a data row: its
            # paragraphs are read as paragraphs, so an address keeps its lines.
            blocks.extend(_layout_cell(walker, cells[0], depth))
            continue
        texts: list[str] = []
        for cell in cells:
            text = " ".join(" ".join(p.text for p in _cell_paragraphs(cell)).split())
            # Merged cells repeat the same cell object along the row: keep its text once.
            if not texts or texts[-1] != text:
                texts.append(text)
        # `Mødested: | …` with an empty value cell is still one complete field.
        if len(texts) == 2 and texts[0].endswith(":"):
            blocks.append(Block(f"{texts[0]} {texts[1]}".strip(), kind=FIELD, style=PLAIN))
        elif any(texts):
            blocks.append(Block(" ".join(t for t in texts if t), style=PLAIN))
        # Tables inside the cells (a list printed in columns) follow the row, column by column.
        for cell in cells:
            for element in _children(cell._tc):
                if element.tag == _TBL and depth < _MAX_DEPTH:
                    blocks.extend(walker.table(Table(element, cell), depth + 1))
    return blocks


def _distinct_cells(cells: list[Any]) -> list[Any]:
    """The cells of a row, a merged cell once (python-docx repeats it for each grid column)."""
    out: list[Any] = []
    for cell in cells:
        if not out or out[-1]._tc is not cell._tc:
            out.append(cell)
    return out


def _cell_paragraphs(cell: Any) -> Iterator[Paragraph]:
    for element in _children(cell._tc):
        if element.tag == _P:
            yield Paragraph(element, cell)


def _layout_cell(walker: _Walker, cell: Any, depth: int) -> list[Block]:
    """A layout cell's blocks. Templates that frame the page in tables print section captions there in
    body style (`Underskriftsside`): a line that names a known section is left to the text rules."""
    blocks = walker.content(cell._tc, cell, depth)
    return [
        Block(b.text, style=UNKNOWN, kind=b.kind) if b.style == PLAIN and classify_heading(b.text.strip()) else b
        for b in blocks
    ]

"""Turn a plain-text minutes document into a PDF with running headers and `Side N af M` footers.

Shared by the format tests and the parse benchmark, so both read the same kind of PDF.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"), Path("/usr/share/fonts"))


def _font_path() -> Path | None:
    for folder in _FONT_DIRS:
        candidate = folder / "DejaVuSans.ttf"
        if candidate.is_file():
            return candidate
    return None


class _MinutesPDF(FPDF):
    """A4 pages with a running header line and a page-number footer, like exported minutes."""

    def __init__(self, running_header: str, font: str) -> None:
        super().__init__(format="A4")
        self.running_header = running_header
        self.font_name = font

    def header(self) -> None:
        self.set_font(self.font_name, size=8)
        self.cell(0, 5, self.running_header, new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.font_name, size=8)
        self.cell(0, 5, f"Side {self.page_no()} af {{nb}}", align="C")


def text_to_pdf(text: str, running_header: str, font_size: float = 9.0) -> bytes:
    """A PDF whose text layer holds `text`, one paragraph per source line, wrapped to the page."""
    font_path = _font_path()
    font = "DejaVu" if font_path else "Helvetica"
    pdf = _MinutesPDF(_encodable(running_header, font_path), font)
    if font_path is not None:
        pdf.add_font("DejaVu", fname=str(font_path))
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.set_font(font, size=font_size)
    line_height = font_size * 0.45
    for line in text.splitlines():
        line = _encodable(line.replace("\t", "    ").strip(), font_path)
        if not line:
            pdf.ln(line_height * 0.6)
            continue
        pdf.multi_cell(0, line_height, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _encodable(text: str, font_path: Path | None) -> str:
    """Helvetica (no TTF available) only covers latin-1: drop what it cannot draw."""
    if font_path is not None:
        return text
    return text.encode("latin-1", errors="ignore").decode("latin-1")

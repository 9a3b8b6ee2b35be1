"""A small PDF with real typography (headings larger and bold, body regular), built with fpdf2.

The format tests render whole seeds in one font; this one shows that the reader uses the PDF's
fonts and positions: heading styles, a running header at the same height on every page, list
entries spaced wider than the lines of one wrapped entry.
"""

from __future__ import annotations

from fpdf import FPDF

BODY = 10.0
HEADING = 13.0
TITLE = 16.0


class _Pdf(FPDF):
    def __init__(self, running: str) -> None:
        super().__init__(format="A4")
        self.running = running

    def header(self) -> None:
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, self.running, new_x="LMARGIN", new_y="NEXT")
        self.ln(4)


def styled_pdf(pages: list[list[tuple[str, str]]], running: str = "Byrådet 12. maj 2022") -> bytes:
    """Pages of (style, text) lines; style is `title`, `heading`, `body`, `entry` (a list entry), `wrap`."""
    pdf = _Pdf(running)
    pdf.set_auto_page_break(auto=True, margin=15)
    for lines in pages:
        pdf.add_page()
        for style, text in lines:
            if style == "title":
                pdf.set_font("Helvetica", "B", TITLE)
                pdf.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
            elif style == "heading":
                pdf.ln(2)
                pdf.set_font("Helvetica", "B", HEADING)
                pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
            elif style == "entry":
                pdf.ln(3)  # list entries are spaced wider than the lines of one entry
                pdf.set_font("Helvetica", size=BODY)
                pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
            else:  # body, or `wrap`: the next line of the same entry, set tight under it
                pdf.set_font("Helvetica", size=BODY)
                pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())

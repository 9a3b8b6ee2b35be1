"""A layout no known family has: an SBSYS publication of a Word-generated minutes of an administrative
working group, built both as a PDF and as a DOCX.

Items are printed `1 Title` (a number without a dot) in a larger bold font, sub-items `1.1 Title` in
bold body size, participants as `Deltagere:` followed by one name per line, page numbers at the foot.
The content is written for these tests; nothing is taken from a real document.
"""

from __future__ import annotations

from io import BytesIO

import docx
from docx.shared import Pt
from fpdf import FPDF

BODY = 10.0
ITEM = 13.0
TITLE = 16.0

# (style, text): `title`, `item` (larger bold), `sub` (bold, body size), `body`, `break` (new page).
_FILLER = (
    "Arbejdsgruppen gennemgik materialet punkt for punkt, og der var enighed om, at de foreslåede "
    "ændringer skal indarbejdes i den næste version af notatet, før det sendes til direktionen."
)
CONTENT: list[tuple[str, str]] = [
    ("title", "Referat"),
    ("body", "Administrativ arbejdsgruppe for klimatilpasning"),
    ("body", "Mødedato: 14. marts 2024 kl. 10.00 - 12.00"),
    ("body", "Mødested: Mødelokale 3, Rådhuset"),
    ("body", "Deltagere:"),
    ("body", "Mette Lund"),
    ("body", "Jonas Krogh"),
    ("body", "Pia Sørensen"),
    ("body", "Karsten Bæk"),
    ("body", "Referent: Lise Holm"),
    ("item", "1 Godkendelse af dagsorden"),
    ("body", "Dagsordenen blev godkendt uden bemærkninger."),
    ("item", "2 Status på kortlægning af oversvømmelsesrisiko"),
    ("body", "Kortlægningen af de lavtliggende områder er færdig, og resultaterne er lagt i det fælles drev."),
    ("sub", "2.1 Resultater fra kystområderne"),
    ("body", "Der er fundet 14 områder med høj risiko. Tre af dem ligger tæt på eksisterende boliger."),
    ("body", _FILLER),
    ("sub", "2.2 Næste skridt"),
    ("body", "Forvaltningen udarbejder et notat om prioritering af indsatsen til næste møde."),
    ("body", "Konklusion: Arbejdsgruppen tog orienteringen til efterretning."),
    ("break", ""),
    ("item", "3 Budget for klimatilpasning 2025"),
    ("body", "Budgettet er foreløbigt sat til 2,5 mio. kr. Der er usikkerhed om statens medfinansiering."),
    ("sub", "3.1 Fordeling på projekter"),
    ("body", "Midlerne fordeles mellem regnvandsbassiner, kystsikring og rådgivning af grundejere."),
    ("body", _FILLER),
    ("sub", "3.2 Tidsplan"),
    ("body", "Budgetforslaget sendes til økonomiafdelingen senest 1. maj 2024."),
    ("body", "Konklusion: Fordelingen blev godkendt med de rettelser, der blev aftalt på mødet."),
    ("break", ""),
    ("item", "4 Samarbejde med forsyningsselskabet"),
    ("body", "Forsyningsselskabet ønsker et fælles projekt om separatkloakering i to bydele."),
    ("sub", "4.1 Aftaleudkast"),
    ("body", "Et udkast til samarbejdsaftale blev gennemgået. " + _FILLER),
    ("body", "Konklusion: Udkastet blev drøftet. Juridisk afdeling ser på det inden næste møde."),
    ("break", ""),
    ("item", "5 Eventuelt"),
    ("body", "Intet."),
    ("item", "6 Næste møde"),
    ("body", "Næste møde holdes den 11. april 2024 kl. 10.00."),
]

# What a reader of the document sees: items, their titles and their sub-items.
ITEMS: list[tuple[int, str, list[str]]] = [
    (1, "Godkendelse af dagsorden", []),
    (2, "Status på kortlægning af oversvømmelsesrisiko", ["2.1 Resultater fra kystområderne", "2.2 Næste skridt"]),
    (3, "Budget for klimatilpasning 2025", ["3.1 Fordeling på projekter", "3.2 Tidsplan"]),
    (4, "Samarbejde med forsyningsselskabet", ["4.1 Aftaleudkast"]),
    (5, "Eventuelt", []),
    (6, "Næste møde", []),
]


class _Pdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, f"Side {self.page_no()} af {{nb}}", align="C")


def unknown_layout_pdf() -> bytes:
    pdf = _Pdf(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    for style, text in CONTENT:
        if style == "break":
            pdf.add_page()
        elif style == "title":
            pdf.set_font("Helvetica", "B", TITLE)
            pdf.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        elif style == "item":
            pdf.ln(3)
            pdf.set_font("Helvetica", "B", ITEM)
            pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        elif style == "sub":
            pdf.ln(1)
            pdf.set_font("Helvetica", "B", BODY)
            pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("Helvetica", size=BODY)
            pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def unknown_layout_docx() -> bytes:
    """The same minutes as Word writes them by hand: Normal paragraphs with direct bold and sizes."""
    document = docx.Document()
    for style, text in CONTENT:
        if style == "break":
            document.add_page_break()
            continue
        run = document.add_paragraph().add_run(text)
        size = {"title": TITLE, "item": ITEM}.get(style, BODY)
        run.font.size = Pt(size)
        run.bold = style in ("title", "item", "sub")
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()

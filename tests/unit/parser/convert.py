"""Turn a plain-text seed into the other formats a portal or an office would publish it in."""

from __future__ import annotations

import html
import re
from io import BytesIO

import docx

from bench.corpus_pdf import text_to_pdf

_LABEL = re.compile(r"^(Mødedato|Mødested|Mødedeltagere)\s+(.*)$")


def running_header(text: str) -> str:
    """A page header like exported minutes print on every page: committee, date, `Åbent referat`."""
    first = next(line for line in text.splitlines() if line.strip())
    return first.replace("REFERAT ", "").strip() + " - Åbent referat"


def to_pdf(text: str) -> bytes:
    """PDF with a running header and `Side N af M` footers on every page."""
    return text_to_pdf(text, running_header(text))


def to_html(text: str) -> bytes:
    """A saved agenda-portal page: navigation, buttons, label/value header table, paragraphs."""
    body: list[str] = []
    table: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _LABEL.match(line)
        if m:
            table.append(f"<tr><th>{html.escape(m.group(1))}</th><td>{html.escape(m.group(2))}</td></tr>")
            continue
        if table:
            body.append("<table class='meta'>" + "".join(table) + "</table>")
            table = []
        if line.startswith("Punkt "):
            body.append(f"<h2 class='item'><span class='nr'>{html.escape(line)}</span></h2>"
                        "<div class='tools'><a href='#'>Hent som PDF</a> <a href='#'>Kopier link</a></div>")
        elif line.startswith("REFERAT"):
            body.append(f"<h1>{html.escape(line)}</h1>")
        else:
            body.append(f"<p>{html.escape(line)}</p>")
    page = (
        "<!DOCTYPE html><html lang='da'><head><meta charset='utf-8'><title>Referat</title>"
        "<script>var x = '<p>Punkt 99: script</p>';</script><style>p{margin:0}</style></head><body>"
        "<nav><ul><li><a href='/'>Forside</a></li><li><a href='/politik'>Politik</a></li>"
        "<li><a href='/moeder'>Dagsordener og referater</a></li></ul></nav>"
        "<div class='actions'><button>Udskriv</button><a href='#'>Hent som PDF</a></div>"
        "<main><article>" + "\n".join(body) + "</article></main>"
        "<footer><p>Kontakt · Cookies · Tilgængelighedserklæring</p></footer></body></html>"
    )
    return page.encode("utf-8")


def to_docx(text: str) -> bytes:
    """A Word document: header fields in a two-column table, every other line a paragraph."""
    document = docx.Document()
    rows: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        m = _LABEL.match(line)
        if m:
            rows.append((m.group(1), m.group(2)))
            continue
        if rows:
            table = document.add_table(rows=len(rows), cols=2)
            for row, (label, value) in zip(table.rows, rows, strict=True):
                row.cells[0].text, row.cells[1].text = label, value
            rows = []
        if line:
            document.add_paragraph(line)
    out = BytesIO()
    document.save(out)
    return out.getvalue()


def to_cp1252(text: str) -> bytes:
    """Windows-1252 bytes, characters it lacks replaced."""
    return text.encode("cp1252", errors="replace")


def to_utf8_bom(text: str) -> bytes:
    """UTF-8 with a byte-order mark and Windows line ends."""
    return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")

"""Headings of a Word document written without heading styles: by direct formatting.

Case systems (SBSYS, Word templates filled in by hand) set item titles in a larger bold font with
`Normal` paragraphs. The reader's blocks carry no fonts, so the paragraphs are read again here, in
document order, and matched to the blocks by their text; reading fonts only for such documents keeps
styled documents as fast as before.
"""

from __future__ import annotations

from typing import Any, Final

from docx.oxml.ns import qn

from services.parser.core.blocks import Block, style_by_font

_P: Final = qn("w:p")
_R: Final = qn("w:r")
_T: Final = qn("w:t")
# What python-docx prints for a run's children other than text: a line break and a tab.
_BREAKS: Final = {qn("w:br"): "\n", qn("w:cr"): "\n", qn("w:tab"): "\t"}
_RPR: Final = qn("w:rPr")
_B: Final = qn("w:b")
_SZ: Final = qn("w:sz")
_VAL: Final = qn("w:val")
# How far ahead a block's paragraph is looked for (table rows join cells and match no paragraph).
_LOOKAHEAD: Final = 60


def style_by_direct_font(document: Any, blocks: list[Block]) -> list[Block]:
    """The blocks styled by font (`blocks.style_by_font`), or unstyled when fonts tell nothing."""
    fonts = _paragraph_fonts(document)
    fonted: list[Block] = []
    at = 0
    for block in blocks:
        size, bold = 0.0, False
        text = block.text.strip()
        if text:
            for j in range(at, min(len(fonts), at + _LOOKAHEAD)):
                if fonts[j][0] == text:
                    _, size, bold = fonts[j]
                    at = j + 1
                    break
        fonted.append(Block(block.text, block.page, block.style, block.level, block.kind, block.top, size, bold)
                      if size or bold else block)
    styled = style_by_font(fonted)
    if styled is fonted:
        return [Block(b.text, kind=b.kind) for b in blocks]
    return styled


def _paragraph_fonts(document: Any) -> list[tuple[str, float, bool]]:
    """(text, largest run size in points, all text bold) of every paragraph line, in document order.

    Sizes and bold are read from the runs' own properties (`w:sz` in half-points, `w:b`); a paragraph
    whose runs inherit them from a style reads as size 0, not bold: such a style is a heading style,
    which the reader has already seen.
    """
    out: list[tuple[str, float, bool]] = []
    for p in document.element.body.iter(_P):
        parts: list[str] = []
        size, bold, any_text = 0.0, True, False
        for r in p.iter(_R):
            text = "".join((c.text or "") if c.tag == _T else _BREAKS.get(c.tag, "") for c in r)
            if not text.strip():
                parts.append(text)
                continue
            any_text = True
            parts.append(text)
            rpr = r.find(_RPR)
            b = rpr.find(_B) if rpr is not None else None
            if b is None or b.get(_VAL) in ("0", "false"):
                bold = False
            sz = rpr.find(_SZ) if rpr is not None else None
            if sz is not None and (sz.get(_VAL) or "").isdigit():
                size = max(size, int(sz.get(_VAL)) / 2)
        if any_text:
            for line in "".join(parts).split("\n"):
                if line.strip():
                    out.append((line.strip(), size, bold))
    return out

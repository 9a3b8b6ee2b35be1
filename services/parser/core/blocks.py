"""The intermediate form every format reader produces: blocks of text with what the format knows.

A PDF knows pages, font sizes and positions; an HTML page knows headings, key/value table rows and
attachment links; a DOCX knows paragraph styles and tables; plain text knows nothing but its lines.
The layout rules run on blocks, so they can use that structure where it exists and fall back to
the text where it does not. One block is one line of text as the rules see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# What a block is, when the format says so.
TEXT: Final = "text"
FIELD: Final = "field"  # a complete `Label: value` row of a key/value table (the value may be empty)
ATTACHMENT: Final = "attachment"  # an entry the format marks as an attachment (a portal's bilag link)

# How a block is styled, when the format says so.
UNKNOWN: Final = ""  # plain text, or a format without styles
HEADING: Final = "heading"  # a heading by markup (h1-h6, Heading styles) or by font (larger or bolder)
PLAIN: Final = "plain"  # body text of a styled format: never a section heading


@dataclass(frozen=True, slots=True)
class Block:
    """One line of a document and what its format tells about it."""

    text: str
    page: int = 0  # 1-based page of a PDF (or form-feed page of text); 0 when unknown
    style: str = UNKNOWN
    level: int = 0  # heading level when style is HEADING: 1 is the largest
    kind: str = TEXT
    top: float = -1.0  # distance from the top of the page in points (PDF); -1 when unknown
    size: float = 0.0  # font size (PDF); 0 when unknown

    def with_text(self, text: str) -> Block:
        """The same block with other text (after clean-up); itself when the text is unchanged."""
        if text == self.text:
            return self
        # The constructor, not dataclasses.replace: this runs for every line and replace is slow.
        return Block(text, self.page, self.style, self.level, self.kind, self.top, self.size)


def text_blocks(text: str) -> list[Block]:
    """Plain text: one block per line, pages counted at form feeds (PDF text saved as .txt)."""
    blocks: list[Block] = []
    for page_no, page in enumerate(text.split("\f"), start=1):
        blocks.extend(Block(line, page=page_no) for line in page.split("\n"))
    return blocks


def is_styled(blocks: list[Block]) -> bool:
    """Whether the format told headings from body text (then an unstyled line is never a heading)."""
    return any(b.style == HEADING for b in blocks) and any(b.style == PLAIN for b in blocks)

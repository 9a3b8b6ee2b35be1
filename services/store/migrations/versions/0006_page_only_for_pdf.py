"""page only for PDF: agenda_items.page NULL for items of documents that are not PDFs

Revision ID: 0006_page_only_for_pdf
Revises: 0005_subscriptions
Create Date: 2026-12-02 04:45:00

The parser numbered the form-feed pages of plain text (1 for a text without form feeds) and stored them
as the item's page; a page is a PDF page or nothing. A document is a PDF when ingest sniffed it as
`application/pdf`; a row without a content type (its event carried none) keeps its page only when its
name ends in `.pdf`. No downgrade of the data: the numbers removed were never pages.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0006_page_only_for_pdf"
down_revision: Union[str, Sequence[str], None] = "0005_subscriptions"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# Copied from services/ingest/files.py at this revision: a migration must not change later.
_PDF = "application/pdf"


def upgrade() -> None:
    """Set the page NULL on every item whose document is not a PDF."""
    documents = sa.table(
        "documents",
        sa.column("document_id", sa.String),
        sa.column("content_type", sa.String),
        sa.column("original_name", sa.String),
    )
    items = sa.table("agenda_items", sa.column("document_id", sa.String), sa.column("page", sa.Integer))
    is_pdf = sa.or_(
        documents.c.content_type == _PDF,
        sa.and_(documents.c.content_type.is_(None), sa.func.lower(documents.c.original_name).like("%.pdf")),
    )
    pdfs = sa.select(documents.c.document_id).where(is_pdf)
    # One UPDATE over the set: a store may hold years of items.
    op.get_bind().execute(
        sa.update(items).where(items.c.page.is_not(None), items.c.document_id.not_in(pdfs)).values(page=None)
    )


def downgrade() -> None:
    """Nothing to undo in the schema; the removed numbers are not restored (they were never pages)."""

"""attachment refs: agenda_items.attachment_refs, each attachment with the publisher's reference and link

Revision ID: 0012_attachment_refs
Revises: 0011_sources
Create Date: 2026-12-09 10:00:00

The parser now keeps, per attachment, the publisher's reference to its file (a FirstAgenda portal's `Bilag`
id, an XML export's file name); the store keeps it with the item, with the attachment's address on the
portal when the document came from a followed source (services/store/attachments.py). Items stored before
this revision were parsed without references: NULL, shown as attachment names as before.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0012_attachment_refs"
down_revision: Union[str, Sequence[str], None] = "0011_sources"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the nullable column (a plain ALTER TABLE ADD COLUMN: no table rebuild on SQLite)."""
    op.add_column("agenda_items", sa.Column("attachment_refs", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop the column (the references are lost; a re-parse of the document gives them again)."""
    # A plain ALTER TABLE DROP COLUMN, not a batch: a batch recreates `agenda_items` on SQLite, and dropping
    # the old table fails the foreign keys of the decisions that point at its rows.
    op.drop_column("agenda_items", "attachment_refs")

"""meeting warnings: meetings.warnings, what the parser doubted about the document, as a JSON list

Revision ID: 0009_meeting_warnings
Revises: 0008_decision_page_keys
Create Date: 2026-12-07 05:45:00

The parser now says what it could not do or doubts (`minutes without any decision`); the store keeps that
with the meeting so the read API and the web page show it. Meetings stored before this revision were
parsed without warnings: they get the empty list (the server default), which is what they carried.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0009_meeting_warnings"
down_revision: Union[str, Sequence[str], None] = "0008_decision_page_keys"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the column; its server default fills the rows already stored."""
    # A plain ALTER TABLE ADD COLUMN (a constant default is allowed on SQLite too), not a batch: a batch
    # recreates `meetings` on SQLite, and dropping the old table fails its foreign keys once rows exist.
    op.add_column("meetings", sa.Column("warnings", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    """Drop the column (the warnings are lost; the parser would give them again on a re-parse)."""
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_column("warnings")

"""blob faults: documents.blob_fault, what `minutes check` last found wrong with a document's original file

Revision ID: 0015_blob_faults
Revises: 0014_subscription_language
Create Date: 2026-12-07 18:00:00

`minutes check` reads every stored document's blob (or a sample) and compares its sha256 with the document
id. A blob it finds missing or corrupt gets the reason here, and the read API and the web page stop
offering the original file; a blob that is sound again (restored) is cleared. NULL: nothing found wrong.
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0015_blob_faults"
down_revision: Union[str, Sequence[str], None] = "0014_subscription_language"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the nullable column (a plain ALTER TABLE ADD COLUMN: no table rebuild on SQLite)."""
    op.add_column("documents", sa.Column("blob_fault", sa.String(), nullable=True))


def downgrade() -> None:
    """Drop the column (the next `minutes check` finds the faults again)."""
    op.drop_column("documents", "blob_fault")

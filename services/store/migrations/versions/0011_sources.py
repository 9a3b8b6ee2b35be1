"""sources: the agenda portals ingest follows, and what it fetched from each

Revision ID: 0011_sources
Revises: 0010_search_queue
Create Date: 2026-12-07 06:00:00

A source (services/ingest/sources/) is a followed portal with its state; source_meetings remembers each
meeting id fetched (publication version, validators, document id) so nothing is fetched twice for one
publication, across restarts; source_documents says which portal page a document came from, and
documents.source_url keeps it with the stored document (DecisionMade.source_url).
"""

from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011_sources"
down_revision: Union[str, Sequence[str], None] = "0010_search_queue"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create both tables."""
    op.create_table(
        "sources",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("municipality", sa.String(100), nullable=True),
        sa.Column("committees", sa.JSON(), nullable=False),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("last_poll_at", _TZ, nullable=True),
        sa.Column("last_ok_at", _TZ, nullable=True),
        sa.Column("next_poll_at", _TZ, nullable=True),
        sa.Column("meetings_seen", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_since", _TZ, nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("list_etag", sa.Text(), nullable=True),
        sa.Column("list_last_modified", sa.Text(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", _TZ, nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "source_meetings",
        sa.Column("source_name", sa.String(100), nullable=False),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("committee", sa.Text(), nullable=True),
        sa.Column("meeting_date", sa.Date(), nullable=True),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("released", sa.Text(), nullable=True),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("document_id", sa.String(64), nullable=True),
        sa.Column("page_url", sa.Text(), nullable=False),
        sa.Column("api_url", sa.Text(), nullable=False),
        sa.Column("fetched_at", _TZ, nullable=False),
        sa.ForeignKeyConstraint(["source_name"], ["sources.name"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("source_name", "meeting_id"),
    )
    with op.batch_alter_table("source_meetings", schema=None) as batch_op:
        batch_op.create_index("ix_source_meetings_document_id", ["document_id"], unique=False)
    op.create_table(
        "source_documents",
        sa.Column("document_id", sa.String(64), nullable=False),
        sa.Column("source_name", sa.String(100), nullable=False),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("page_url", sa.Text(), nullable=False),
        sa.Column("api_url", sa.Text(), nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )
    # Documents stored before this revision came from files: no portal page. A plain ADD COLUMN (no batch
    # copy of the table): other tables' rows point at documents, and SQLite adds a nullable column in place.
    op.add_column("documents", sa.Column("source_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    """Drop the tables and the column (what was followed and fetched is forgotten; the documents stay)."""
    op.drop_column("documents", "source_url")
    op.drop_table("source_documents")
    with op.batch_alter_table("source_meetings", schema=None) as batch_op:
        batch_op.drop_index("ix_source_meetings_document_id")
    op.drop_table("source_meetings")
    op.drop_table("sources")

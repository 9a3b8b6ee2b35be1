"""Tables of the sources ingest follows, on the store's database (revision 0011_sources).

`sources`: one row per followed portal, with its state (last poll, meetings seen, the error it is in and
since when, when it is next due, who holds it). `source_meetings`: one row per meeting id a source has
fetched and handed to the pipeline — its publication version, the server's validators and the document
id — so a restart, or a kill in the middle of a backfill, fetches only what is not stored yet.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import SQLModel

_TZ = sa.DateTime(timezone=True)

sources: sa.Table = sa.Table(
    "sources",
    SQLModel.metadata,
    sa.Column("name", sa.String(100), primary_key=True),
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
)

# Where a fetched document came from: written before its DocumentReceived is published, so the store finds
# it when it stores the document (documents.source_url, DecisionMade.source_url). First source wins.
source_documents: sa.Table = sa.Table(
    "source_documents",
    SQLModel.metadata,
    sa.Column("document_id", sa.String(64), primary_key=True),
    sa.Column("source_name", sa.String(100), nullable=False),
    sa.Column("meeting_id", sa.String(100), nullable=False),
    sa.Column("page_url", sa.Text(), nullable=False),
    sa.Column("api_url", sa.Text(), nullable=False),
    sa.Column("created_at", _TZ, nullable=False),
)

source_meetings: sa.Table = sa.Table(
    "source_meetings",
    SQLModel.metadata,
    sa.Column("source_name", sa.String(100), sa.ForeignKey("sources.name", ondelete="CASCADE"), primary_key=True),
    sa.Column("meeting_id", sa.String(100), primary_key=True),
    sa.Column("committee", sa.Text(), nullable=True),
    sa.Column("meeting_date", sa.Date(), nullable=True),
    sa.Column("version", sa.Text(), nullable=False),
    sa.Column("released", sa.Text(), nullable=True),
    sa.Column("closed", sa.Boolean(), nullable=False),
    sa.Column("etag", sa.Text(), nullable=True),
    sa.Column("last_modified", sa.Text(), nullable=True),
    sa.Column("document_id", sa.String(64), nullable=True, index=True),
    sa.Column("page_url", sa.Text(), nullable=False),
    sa.Column("api_url", sa.Text(), nullable=False),
    sa.Column("fetched_at", _TZ, nullable=False),
)

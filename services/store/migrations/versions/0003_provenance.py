"""provenance: documents.blob_ref/received_at/size/content_type, meetings.region, agenda_items.page/history/kle

Revision ID: 0003_provenance
Revises: 0002
Create Date: 2026-12-02 00:45:00

Rows stored before this revision get NULL for what only the events carried (blob reference, arrival time,
page, history, region) and their KLE subject derived from the case number, with the rule of
services/store/kle.py as it is at this revision (copied: a migration must not change later).
"""

import re
from typing import Sequence, Union

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003_provenance"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_KLE = re.compile(r"\s*(\d{2}\.\d{2}\.\d{2})(?![\d.])")


def upgrade() -> None:
    """Add the nullable columns, then derive the KLE subject of the items already stored."""
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blob_ref", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("received_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_index(batch_op.f("ix_meetings_region"), ["region"], unique=False)
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kle", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))
        batch_op.add_column(sa.Column("page", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("history", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_agenda_items_kle"), ["kle"], unique=False)

    items = sa.table("agenda_items", sa.column("id", sa.String), sa.column("case_number", sa.String),
                     sa.column("kle", sa.String))
    bind = op.get_bind()
    rows = bind.execute(sa.select(items.c.id, items.c.case_number).where(items.c.case_number.is_not(None))).all()
    params = []
    for row in rows:
        match = _KLE.match(row.case_number)
        if match:
            params.append({"item": row.id, "value": match.group(1)})
    if params:
        # One executemany, not a round trip per item: a store may hold years of items.
        stmt = sa.update(items).where(items.c.id == sa.bindparam("item")).values(kle=sa.bindparam("value"))
        bind.execute(stmt, params)


def downgrade() -> None:
    """Drop the provenance columns."""
    with op.batch_alter_table("agenda_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agenda_items_kle"))
        batch_op.drop_column("history")
        batch_op.drop_column("page")
        batch_op.drop_column("kle")
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_region"))
        batch_op.drop_column("region")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("content_type")
        batch_op.drop_column("size")
        batch_op.drop_column("received_at")
        batch_op.drop_column("blob_ref")

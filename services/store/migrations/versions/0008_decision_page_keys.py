"""decision page keys: decisions.position, date_order, listed, case_number, kle and the indexes of the read layer's page order

Revision ID: 0008_decision_page_keys
Revises: 0007_alerts_leases
Create Date: 2026-12-02 04:40:00

The read layer pages decisions newest meeting first; until now every page joined decisions with their items
and meetings and sorted the whole visible set before its LIMIT. The keys of that order now live on the
decision row (copied by the store: services/store/repository.py `sync_decisions`), with composite indexes in
that order, so a page walks an index and stops. The rows already stored are filled here with the rule of
`sync_decisions` as it is at this revision (copied: a migration must not change later): `date_order` is
minus the meeting date's proleptic ordinal (0 without a date), `listed` is complete and not superseded.
"""

import datetime as dt
from typing import Any, Sequence, Union

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0008_decision_page_keys"
down_revision: Union[str, Sequence[str], None] = "0007_alerts_leases"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _order(value: Any) -> int:
    if value is None:
        return 0
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    return -day.toordinal()


def upgrade() -> None:
    """Add the columns (with defaults, so existing rows are valid), fill them, then index them."""
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("date_order", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("listed", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("case_number", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column("kle", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True))

    bind = op.get_bind()
    for column in ("position", "case_number", "kle"):
        op.execute(
            f"UPDATE decisions SET {column} = (SELECT agenda_items.{column} FROM agenda_items "
            "WHERE agenda_items.id = decisions.item_id)"
        )
    meetings = sa.table(
        "meetings",
        sa.column("document_id", sa.String),
        sa.column("meeting_date", sa.Date),
        sa.column("complete", sa.Boolean),
        sa.column("superseded_by", sa.String),
    )
    decisions = sa.table(
        "decisions", sa.column("document_id", sa.String), sa.column("date_order", sa.Integer),
        sa.column("listed", sa.Boolean),
    )  # fmt: skip
    rows = bind.execute(
        sa.select(meetings.c.document_id, meetings.c.meeting_date, meetings.c.complete, meetings.c.superseded_by)
    ).all()
    params = [
        {"doc": r.document_id, "new_order": _order(r.meeting_date),
         "new_listed": bool(r.complete) and r.superseded_by is None}
        for r in rows
    ]  # fmt: skip
    if params:
        # One executemany, not a round trip per meeting: a store may hold years of meetings.
        stmt = (
            sa.update(decisions)
            .where(decisions.c.document_id == sa.bindparam("doc"))
            .values(date_order=sa.bindparam("new_order"), listed=sa.bindparam("new_listed"))
        )
        bind.execute(stmt, params)
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index("ix_decisions_page", ["listed", "date_order", "document_id", "position"], unique=False)
        for name, column in (("outcome", "outcome"), ("case", "case_number"), ("kle", "kle")):
            batch_op.create_index(
                f"ix_decisions_{name}_page", ["listed", column, "date_order", "document_id", "position"], unique=False
            )


def downgrade() -> None:
    """Drop the indexes and the columns."""
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        for name in ("kle", "case", "outcome"):
            batch_op.drop_index(f"ix_decisions_{name}_page")
        batch_op.drop_index("ix_decisions_page")
        batch_op.drop_column("kle")
        batch_op.drop_column("case_number")
        batch_op.drop_column("listed")
        batch_op.drop_column("date_order")
        batch_op.drop_column("position")

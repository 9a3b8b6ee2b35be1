"""alerts_leases: several alerts workers per database (subscription leases), deliveries in stream order,
and a version counter of the subscriptions (services/alerts/models.py)

Revision ID: 0007_alerts_leases
Revises: 0006_page_only_for_pdf
Create Date: 2026-12-02 04:45:00

Adds subscriptions.leased_by / leased_until, deliveries.stream_ms / stream_seq (the entry's position,
filled here from stream_id for the deliveries still waiting) with the index of a subscription's queue
(replacing ix_deliveries_due), and the one-row table alerts_state.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = "0007_alerts_leases"
down_revision: Union[str, Sequence[str], None] = "0006_page_only_for_pdf"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the columns, the index and the state row; give waiting deliveries their stream position."""
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leased_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column("leased_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stream_ms", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("stream_seq", sa.BigInteger(), nullable=False, server_default="0"))
        batch_op.create_index(
            "ix_deliveries_queue", ["subscription_id", "status", "stream_ms", "stream_seq", "id"], unique=False
        )
        # The sender finds due work per subscription (the queue index) now: one index less per delivery row.
        batch_op.drop_index("ix_deliveries_due")
    state = op.create_table(
        "alerts_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriptions_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(state, [{"id": 1, "subscriptions_version": 0}])
    # Only what still waits needs its position (delivered rows are history); replays (no stream id) keep
    # 0: they were enqueued before anything newer waiting here.
    conn = op.get_bind()
    waiting = conn.execute(
        sa.text("SELECT id, stream_id FROM deliveries WHERE status IN ('pending', 'digest') AND stream_id IS NOT NULL")
    ).all()
    update = sa.text("UPDATE deliveries SET stream_ms = :ms, stream_seq = :seq WHERE id = :id")
    rows = []
    for row_id, stream_id in waiting:
        ms, _, seq = str(stream_id).partition("-")
        if ms.isdigit() and seq.isdigit():
            rows.append({"id": row_id, "ms": int(ms), "seq": int(seq)})
    if rows:
        conn.execute(update, rows)


def downgrade() -> None:
    """Drop them."""
    op.drop_table("alerts_state")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_due", ["status", "next_attempt_at"], unique=False)
        batch_op.drop_index("ix_deliveries_queue")
        batch_op.drop_column("stream_seq")
        batch_op.drop_column("stream_ms")
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_column("leased_until")
        batch_op.drop_column("leased_by")

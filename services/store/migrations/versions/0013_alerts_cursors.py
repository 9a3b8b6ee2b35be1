"""alerts_cursors: each subscription keeps its position in the public stream; deliveries get a row only
where they keep state of their own (services/alerts/models.py)

Revision ID: 0013_alerts_cursors
Revises: 0012_attachment_refs
Create Date: 2026-12-07 15:00:00

Adds subscriptions.next_ms / next_seq (the cursor: the first public-stream entry the subscription has not
handled), subscriptions.delivered (a counter: a delivery straight from the stream leaves no row) and
subscriptions.last_delivered_at.

Existing deliveries: the waiting ones ("pending", "digest") are exactly what rows are for now, and are
kept as they are (with their stream positions, revision 0007): the worker sends them first, in stream order,
before anything from the stream. Delivered rows stay as history with their attempts, and are counted into
`delivered`. The cursor cannot be known here (it is the alerts consumer group's position in Redis): it is
left empty, and the worker's start gives every subscription without one the position the old group had
reached (its oldest unacknowledged entry, else the one after the last it read; services/alerts/positions.py),
so nothing the group had not enqueued is skipped.

Downgrade drops the columns: the old worker then reads the stream in a new group from its start (what the
stream still holds is delivered again, with the same `webhook-id`).
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = "0013_alerts_cursors"
down_revision: Union[str, Sequence[str], None] = "0012_attachment_refs"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the cursor and the counters; count what was delivered into them."""
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("next_seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("delivered", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    conn = op.get_bind()
    counts = conn.execute(
        sa.text(
            "SELECT subscription_id, COUNT(*), MAX(delivered_at) FROM deliveries "
            "WHERE status = 'delivered' GROUP BY subscription_id"
        )
    ).all()
    if counts:
        conn.execute(
            sa.text("UPDATE subscriptions SET delivered = :n, last_delivered_at = :at WHERE id = :id"),
            [{"id": sub, "n": int(n), "at": at} for sub, n, at in counts],
        )


def downgrade() -> None:
    """Drop them (see the module's docstring for what the old worker does then). ALTER TABLE … DROP COLUMN
    itself, not a batch copy: on SQLite a copy would drop `subscriptions`, which the deliveries reference."""
    for column in ("last_delivered_at", "delivered", "next_seq", "next_ms"):
        op.drop_column("subscriptions", column)

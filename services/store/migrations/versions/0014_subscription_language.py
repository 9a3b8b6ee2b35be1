"""subscription_language: each subscription says the language of the messages a person reads

Revision ID: 0014_subscription_language
Revises: 0013_alerts_cursors
Create Date: 2026-12-07 18:00:00

Adds subscriptions.language ("da" or "en"; services/alerts/messages.py). Existing subscriptions get "da", the
default: their notifications were in English before, and are in Danish from now on, like the web page.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel.sql.sqltypes


revision: str = "0014_subscription_language"
down_revision: Union[str, Sequence[str], None] = "0013_alerts_cursors"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Add the column, Danish for every existing subscription."""
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False, server_default="da")
        )


def downgrade() -> None:
    """Drop it (ALTER TABLE … DROP COLUMN itself: on SQLite a batch copy would drop `subscriptions`, which the
    deliveries reference)."""
    op.drop_column("subscriptions", "language")

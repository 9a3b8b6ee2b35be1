"""Tables of the alerts: subscriptions (each with its position in the public stream), the deliveries that
must keep state of their own, and their attempts.

A subscription's cursor (`next_ms`, `next_seq`: the first public-stream entry it has not handled yet) is all
a healthy subscription keeps: matching events are read from the stream and sent, and the cursor moves on in
one UPDATE per run of them. A delivery gets a row only where state must outlive the run: a failed one being
retried (and those that arrive behind it meanwhile, so the stream's retention never drops them), a replay,
a decision waiting for a digest. Those rows stay as history once delivered, with their attempts.

The alerts own them; they live in the store's database and its Alembic history (revisions
0005_subscriptions, 0007_alerts_leases, 0013_alerts_cursors and 0014_subscription_language), which sees
them through services/store/schema.py.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class SubscriptionRow(SQLModel, table=True):
    """subscriptions: a filter (all given fields must hold) and a channel (webhook or Apprise URL)."""

    __tablename__ = "subscriptions"

    id: str = Field(primary_key=True, max_length=32)
    name: str = ""
    created_at: dt.datetime
    # The filter (None: any).
    municipality: str | None = None
    region: str | None = None
    committee: str | None = None
    outcome: str | None = Field(default=None, max_length=16)
    case_number: str | None = Field(default=None, index=True)
    phrase: str | None = None
    # The channel.
    channel: str = Field(max_length=16)  # "webhook" | "apprise"
    url: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    secret: str | None = Field(default=None, description="whsec_… of a webhook; never logged or listed.")
    digest: str = Field(default="none", max_length=8)  # "none" | "hourly" | "daily"
    # The language of the messages a person reads (Apprise notifications and digests): "da" or "en".
    language: str = Field(default="da", max_length=8, sa_column_kwargs={"server_default": "da"})
    last_digest_at: dt.datetime | None = None
    # State.
    enabled: bool = True
    disabled_at: dt.datetime | None = None
    disabled_reason: str | None = None
    consecutive_failures: int = 0
    # The worker serving this subscription now (several workers share a database): its id and until when
    # the claim holds; an expired lease (a worker that died) is free for another worker.
    leased_by: str | None = Field(default=None, max_length=64)
    leased_until: dt.datetime | None = None
    # The cursor: the first public-stream entry (its id's milliseconds and sequence) not handled yet;
    # every matching event before it was sent or is kept as a row. None: not adopted yet (a subscription of
    # before revision 0013, given a position by the worker's start, services/alerts/positions.py).
    next_ms: int | None = Field(default=None, sa_type=sa.BigInteger)
    next_seq: int | None = Field(default=None, sa_type=sa.BigInteger)
    # Deliveries that went (a counter: a delivery from the stream leaves no row) and when the last one did.
    delivered: int = 0
    last_delivered_at: dt.datetime | None = None


class AlertsStateRow(SQLModel, table=True):
    """alerts_state: one row; `subscriptions_version` grows with every change of the subscriptions, so a
    worker's cache of the compiled filters is checked with one read per batch of events."""

    __tablename__ = "alerts_state"

    id: int = Field(primary_key=True)
    subscriptions_version: int = 0


class DeliveryRow(SQLModel, table=True):
    """deliveries: one event to one subscription that keeps state of its own: a failed delivery being retried
    (and the later ones queued behind it while it waits), a replay, a decision waiting for a digest. Sent in
    stream order before anything newer from the stream; kept as history once delivered."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # Once per subscription and stream entry, even when two handlers take one entry at once (a reclaim
        # of a slow handler's entry): replays have no stream id, and NULLs never conflict.
        sa.Index("ux_deliveries_once", "subscription_id", "event_id", "stream_id", unique=True),
        # A subscription's queue in stream order (the sender reads it from the head).
        sa.Index("ix_deliveries_queue", "subscription_id", "status", "stream_ms", "stream_seq", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: str = Field(foreign_key="subscriptions.id", max_length=32)
    event_id: str = Field(max_length=36)
    stream_id: str | None = Field(default=None, description="The public-stream entry; None for a replay.")
    # The entry's position (its id's milliseconds and sequence; a replay's too): the order deliveries are
    # sent in. Not the row id: two workers enqueue batches concurrently, and a later batch may commit first.
    stream_ms: int = Field(default=0, sa_type=sa.BigInteger)
    stream_seq: int = Field(default=0, sa_type=sa.BigInteger)
    payload: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    # "pending" (to send), "digest" (waiting for the subscription's digest), "delivered".
    status: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: dt.datetime
    created_at: dt.datetime
    delivered_at: dt.datetime | None = None
    last_error: str | None = None
    replay: bool = False


class AttemptRow(SQLModel, table=True):
    """delivery_attempts: every attempt of a delivery row (failures, their retries, replays, digests), with the
    receiver's status code or the error, and its duration. A delivery straight from the stream that succeeds
    at once is counted on its subscription (`delivered`, `last_delivered_at`), not logged here."""

    __tablename__ = "delivery_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="deliveries.id", index=True)
    subscription_id: str = Field(max_length=32, index=True)
    attempted_at: dt.datetime
    ok: bool
    status_code: int | None = None
    error: str | None = None
    duration_ms: float


subscriptions: sa.Table = SQLModel.metadata.tables["subscriptions"]
deliveries: sa.Table = SQLModel.metadata.tables["deliveries"]
attempts: sa.Table = SQLModel.metadata.tables["delivery_attempts"]
alerts_state: sa.Table = SQLModel.metadata.tables["alerts_state"]

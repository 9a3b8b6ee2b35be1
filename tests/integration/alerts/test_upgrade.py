"""Revision 0013_alerts_cursors on a database and a Redis the old worker left (both databases): the waiting
rows are kept and sent first, each subscription starts where the old consumer group had got to (nothing it
had not enqueued is skipped, nothing it delivered is sent again), and the downgrade drops only the columns."""

from __future__ import annotations

import datetime as dt

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection

from services.alerts.subscriptions import get_subscription, new_secret
from services.alerts.window import position
from services.store.db import alembic_config, create_engine, migrate
from shared import streams
from shared.contracts.events import DecisionMade, utcnow
from shared.contracts.examples import decision_made
from shared.settings import Settings
from tests.integration.alerts.conftest import Receiver, caught_up, running_stack, wait_for

pytestmark = pytest.mark.integration


def _event(n: int) -> DecisionMade:
    return decision_made(n, document_id="e" * 64, item_number=n)


def _columns(connection: Connection) -> set[str]:
    return {c["name"] for c in sa.inspect(connection).get_columns("subscriptions")}


def _downgrade(connection: Connection, url: str, revision: str) -> None:
    cfg = alembic_config(url)
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


async def test_0013_keeps_waiting_rows_and_starts_where_the_old_group_was(
    alerts_settings: Settings, database_url: str, redis_client: aioredis.Redis, receiver: Receiver
) -> None:
    await migrate(database_url, "0012_attachment_refs")
    engine = create_engine(database_url)
    try:
        created = utcnow() - dt.timedelta(minutes=5)
        events = [_event(n) for n in range(5)]
        ids = [
            (await redis_client.xadd(streams.DECISIONS, {streams.PUBLIC_FIELD: e.model_dump_json()})).decode()
            for e in events
        ]
        # The old worker's group: it read four entries and acknowledged the first three (enqueued: 0 was
        # delivered, 1 and 2 wait as rows); it died holding the fourth; the fifth was never read.
        await redis_client.xgroup_create(streams.DECISIONS, streams.ALERTS_GROUP, id="0")
        await redis_client.xreadgroup(streams.ALERTS_GROUP, "old", {streams.DECISIONS: ">"}, count=4)
        await redis_client.xack(streams.DECISIONS, streams.ALERTS_GROUP, *ids[:3])
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO subscriptions (id, name, created_at, channel, url, secret, digest, enabled, "
                    "consecutive_failures) VALUES ('old', '', :at, 'webhook', :url, :secret, 'none', true, 0)"
                ),
                {"at": created, "url": receiver.url("/old"), "secret": new_secret()},
            )
            row = sa.text(
                "INSERT INTO deliveries (subscription_id, event_id, stream_id, stream_ms, stream_seq, payload, "
                "status, attempts, next_attempt_at, created_at, delivered_at, replay) "
                "VALUES ('old', :event, :sid, :ms, :seq, :payload, :status, :tries, :at, :at, :done, false)"
            )
            for n, status in ((0, "delivered"), (1, "pending"), (2, "pending")):
                ms, seq = position(ids[n])
                await conn.execute(row, {
                    "event": events[n].event_id, "sid": ids[n], "ms": ms, "seq": seq,
                    "payload": events[n].model_dump_json(), "status": status, "tries": int(status == "delivered"),
                    "at": created, "done": created if status == "delivered" else None,
                })

        await migrate(database_url, "0013_alerts_cursors")
        async with engine.connect() as conn:
            assert {"next_ms", "next_seq", "delivered", "last_delivered_at"} <= await conn.run_sync(_columns)
        await migrate(database_url)  # and on to the head (0014: the subscription's language, Danish)
        shown = await get_subscription(engine, "old")
        assert shown is not None and shown.language == "da"
        # What was delivered is counted; what waited still waits; no position until the worker gives one.
        assert (shown.delivered, shown.pending, shown.position) == (1, 2, None)

        async with running_stack(alerts_settings, engine, redis_client):
            await wait_for(lambda: len(receiver.on("/old")) >= 4, what="the waiting rows and the unread entries")
            await wait_for(lambda: caught_up(engine, redis_client), what="the subscription past the last entry")
        got = [r.headers["webhook-id"] for r in receiver.on("/old")]
        # The rows first, then the stream from the oldest entry the group had not acknowledged: each once, in
        # order; the one delivered before the upgrade not again.
        assert got == [e.event_id for e in events[1:]]
        shown = await get_subscription(engine, "old")
        assert shown is not None and (shown.delivered, shown.pending) == (5, 0)
        assert shown.position is not None and position(shown.position) > position(ids[-1])
        assert await redis_client.xinfo_groups(streams.DECISIONS) == []  # the old group is gone

        async with engine.begin() as conn:
            await conn.run_sync(_downgrade, database_url, "0012_attachment_refs")
        async with engine.connect() as conn:
            assert "next_ms" not in await conn.run_sync(_columns)
            kept = (await conn.execute(sa.text("SELECT COUNT(*) FROM deliveries"))).scalar_one()
        assert kept == 3  # the rows (history) survive the downgrade
    finally:
        await engine.dispose()

"""Two alerts workers on one database, as real processes (`minutes service alerts`), against a real
receiver: every delivery arrives once, each subscription's in stream order, through a restart of one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.models import attempts, deliveries, subscriptions
from services.alerts.subscriptions import SubscriptionSpec, add_subscription
from services.store import bootstrap as store_bootstrap
from services.store.repository import store_events
from shared import streams
from shared.contracts.events import AgendaItemParsed, MeetingParsed, utcnow
from shared.settings import Settings
from tests.integration.alerts.conftest import BASE, Receiver, wait_for
from tests.unit.store.factories import meeting

pytestmark = pytest.mark.integration

SUBSCRIPTIONS = 12


class Worker:
    """One `minutes service alerts` process with its own data dir (heartbeat, lock)."""

    def __init__(self, settings: Settings, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.env = {
            **os.environ,
            "MINUTES_REDIS_URL": str(settings.redis_url),
            "MINUTES_DATABASE_URL": str(settings.database_url),
            "MINUTES_DATA_DIR": str(data_dir),
            "MINUTES_ALLOW_PRIVATE_URLS": "true",
            "MINUTES_ALERTS_POLL_S": "0.1",
            # Small batches and few subscriptions at once, so both workers read entries and serve some.
            "MINUTES_BATCH_SIZE": "3",
            "MINUTES_ALERTS_CONCURRENCY": "4",
            "MINUTES_CLAIM_IDLE_MS": "2000",
            "MINUTES_LOG_FORMAT": "json",
            **env,
        }
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "alerts.log"
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "minutes_cli.main", "service", "alerts"],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def ready(self) -> bool:
        """The worker reported ready since its last start (its heartbeat's log line)."""
        return self.log.exists() and self.log.read_text().count('"event": "ready"') >= self.starts

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, its leases left to expire."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None


@pytest.fixture
def workers(alerts_settings: Settings, tmp_path: Path) -> Iterator[tuple[Worker, Worker]]:
    pair = (Worker(alerts_settings, tmp_path / "w1"), Worker(alerts_settings, tmp_path / "w2"))
    yield pair
    for w in pair:
        w.stop()


async def test_two_workers_deliver_each_event_once_in_order_through_a_restart(
    alerts_settings: Settings,
    engine: AsyncEngine,
    redis_client: aioredis.Redis,
    receiver: Receiver,
    workers: tuple[Worker, Worker],
) -> None:
    store = store_bootstrap.bootstrap(alerts_settings, engine=engine, redis=redis_client)
    await store_bootstrap.prepare(store)
    subs = [
        await add_subscription(
            engine, SubscriptionSpec(channel="webhook", url=receiver.url(f"/s{i}")), allow_private=True
        )
        for i in range(SUBSCRIPTIONS)
    ]
    first, second = workers
    first.start()
    second.start()
    await wait_for(
        lambda: first.ready() and second.ready(), limit_s=180, what="both workers ready (slow on a loaded host)"
    )

    async def publish(seed: str, n: int) -> None:
        async with engine.begin() as conn:
            await store_events(conn, list(_events(seed, n)), now=utcnow(), public_base_url=BASE)
        await store.relay.run_once()

    for n in range(4):
        await publish(f"two-{n}", 5)
        await asyncio.sleep(0.05)
    await wait_for(lambda: len(receiver.requests) >= 20 * SUBSCRIPTIONS // 2, limit_s=60, what="deliveries")
    # One worker stops (cleanly: it finishes what it holds and releases its leases) and starts again
    # while events keep coming; the other carries on meanwhile.
    await asyncio.to_thread(first.stop)
    for n in range(4, 7):
        await publish(f"two-{n}", 5)
    first.start()
    for n in range(7, 10):
        await publish(f"two-{n}", 5)
        await asyncio.sleep(0.05)
    expected = 50
    await wait_for(
        lambda: all(len(receiver.on(f"/s{i}")) >= expected for i in range(SUBSCRIPTIONS)),
        limit_s=120,
        what="every event at every subscription",
    )
    await asyncio.sleep(1.0)  # a duplicate sent late would arrive now

    entries: list[Any] = list(await redis_client.xrange(streams.DECISIONS, min="-", max="+") or [])
    order = [_event_id(fields) for _, fields in entries]
    assert len(order) == expected
    for i, sub in enumerate(subs):
        got = [r.headers["webhook-id"] for r in receiver.on(f"/s{i}")]
        assert got == order, f"subscription {sub.id}: each event once, in stream order"
    # Every send counted once on its subscription; no delivery needed a row of its own (none failed), so no
    # row and no attempt was written; nothing left leased.
    async with engine.connect() as conn:
        counted = (await conn.execute(sa.select(subscriptions.c.delivered))).scalars().all()
        rows = (await conn.execute(sa.select(sa.func.count()).select_from(deliveries))).scalar()
        tried = (await conn.execute(sa.select(sa.func.count()).select_from(attempts))).scalar()
        leased = (await conn.execute(sa.select(sa.func.count()).where(subscriptions.c.leased_by.is_not(None)))).scalar()
    assert counted == [expected] * SUBSCRIPTIONS
    assert rows == 0 and tried == 0 and leased == 0


async def test_kill_9_of_a_worker_mid_delivery_loses_nothing_and_keeps_each_order(
    alerts_settings: Settings, engine: AsyncEngine, redis_client: aioredis.Redis, receiver: Receiver, tmp_path: Path
) -> None:
    store = store_bootstrap.bootstrap(alerts_settings, engine=engine, redis=redis_client)
    await store_bootstrap.prepare(store)
    subs = 4
    for i in range(subs):
        spec = SubscriptionSpec(channel="webhook", url=receiver.url(f"/k{i}"))
        await add_subscription(engine, spec, allow_private=True)
    receiver.delay_s = 0.02  # sends in flight when the worker dies
    # A short lease (at least three deadlines), so the restarted worker takes the subscriptions over soon.
    short = {"MINUTES_ALERTS_LEASE_S": "2", "MINUTES_WEBHOOK_TIMEOUT_S": "0.5"}
    worker = Worker(alerts_settings, tmp_path / "k", **short)
    worker.start()
    try:
        await wait_for(worker.ready, limit_s=180, what="the worker ready (slow on a loaded host)")
        for n in range(10):
            async with engine.begin() as conn:
                await store_events(conn, _events(f"kill-{n}", 5), now=utcnow(), public_base_url=BASE)
        await store.relay.run_once()
        total = 50 * subs
        await wait_for(lambda: len(receiver.requests) >= total // 3, limit_s=60, what="a third delivered")
        worker.kill()
        killed_at = len(receiver.requests)
        assert killed_at < total  # it died with work left
        worker.start()
        await wait_for(
            lambda: all(len({r.headers["webhook-id"] for r in receiver.on(f"/k{i}")}) == 50 for i in range(subs)),
            limit_s=120,
            what="every event at every subscription after the restart",
        )
    finally:
        worker.stop()
    entries: list[Any] = list(await redis_client.xrange(streams.DECISIONS, min="-", max="+") or [])
    order = [_event_id(fields) for _, fields in entries]
    for i in range(subs):
        got = [r.headers["webhook-id"] for r in receiver.on(f"/k{i}")]
        # At least once, in order: what went before the kill, then again from the subscription's recorded
        # cursor (at most the run in flight sent twice), then the rest in order.
        twice = len(got) - len(order)
        assert 0 <= twice <= 50, f"/k{i}: {twice} sent twice"
        resent_from = next((n for n, (a, b) in enumerate(zip(got, order, strict=False)) if a != b), len(order))
        assert got == order[:resent_from] + order[resent_from - twice :], f"/k{i}: in order, at least once"


def _events(seed: str, n: int) -> list[MeetingParsed | AgendaItemParsed]:
    parsed, items = meeting(seed, n)
    return [parsed, *items]


def _event_id(fields: dict[Any, Any]) -> str:
    raw = fields.get(streams.PUBLIC_FIELD.encode()) or fields.get(streams.PUBLIC_FIELD)
    assert isinstance(raw, (bytes, str))
    return str(orjson.loads(raw)["event_id"])

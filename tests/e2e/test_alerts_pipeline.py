"""End to end: seeds dropped into the inbox of the real `minutes up` topology (ingest, parser, store, alerts
as processes); a loopback webhook receiver gets exactly the matching decisions, signed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from bench.alerts import ReceiverThread
from services.alerts.subscriptions import CreatedSubscription, SubscriptionSpec, add_subscription
from services.store.db import create_engine
from tests.e2e.harness import drop_seeds, expected_decisions, make_stack, read_decisions, wait_for

pytestmark = pytest.mark.e2e


async def _subscribe(database_url: str, url: str) -> CreatedSubscription:
    engine = create_engine(database_url)
    try:
        spec = SubscriptionSpec(channel="webhook", url=url, outcome="approved")
        return await add_subscription(engine, spec, allow_private=True)
    finally:
        await engine.dispose()


def test_dropped_seeds_reach_the_webhook(tmp_path: Path, database_url: str) -> None:
    stack = make_stack(tmp_path, database_url, MINUTES_ALLOW_PRIVATE_URLS="true", MINUTES_ALERTS_POLL_S="0.2")
    with ReceiverThread() as receiver:
        url = stack.start()
        try:
            assert stack.ingest_ready.wait(120)
            assert "alerts-1" in stack.children
            sub = asyncio.run(_subscribe(database_url, receiver.url))
            drop_seeds(tmp_path / "inbox")
            total = len(expected_decisions())
            wait_for(lambda: len(read_decisions(url)) >= total, 120, "every decision on the public stream")
            approved = {e.event_id for e in read_decisions(url) if e.outcome == "approved"}
            assert 0 < len(approved) < total  # the filter has something to leave out
            wait_for(lambda: len(receiver.got) >= len(approved), 60, "the approved decisions at the receiver")
        finally:
            stack.stop()
    assert sub.secret is not None
    check = Webhook(sub.secret)
    ids = []
    for _at, body in receiver.got:
        event = json.loads(body)
        ids.append(event["event_id"])
    assert len(ids) == len(set(ids)) == len(approved)
    assert set(ids) == approved
    assert receiver.headers and all(check.verify(b, h) for b, h in receiver.headers)

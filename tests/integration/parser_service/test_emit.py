"""The parser's outbox on a real Redis: a document's events reach a waiting store all at once."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from services.parser.bootstrap import BrokerOutbox
from services.parser.core import parse_document
from services.parser.events import meeting_events
from shared import streams
from shared.blobs import sha256_hex
from shared.broker import ensure_groups, make_broker
from shared.contracts.events import DocumentReceived
from tests.conftest import SEEDS

pytestmark = pytest.mark.integration


async def test_a_blocked_reader_gets_every_event_of_a_document_in_one_read(
    redis_url: str, redis_client: aioredis.Redis
) -> None:
    seed = sorted(SEEDS.glob("*.txt"))[0]
    data = seed.read_bytes()
    received = DocumentReceived(
        document_id=sha256_hex(data),
        original_name=seed.name,
        size=len(data),
        content_type="text/plain",
        blob_ref="file:///nowhere",
    )
    events = meeting_events(received, parse_document(data, seed.name))
    assert len(events) > 2
    await ensure_groups(redis_client)
    # The store's read: one XREADGROUP blocked before the parser writes anything.
    reader = asyncio.create_task(
        redis_client.xreadgroup(streams.STORE_GROUP, "store-test", {streams.ITEMS: ">"}, count=100, block=10_000)
    )
    broker = make_broker(redis_url, "parser")
    await broker.connect()
    try:
        async with asyncio.timeout(10):
            while not await _blocked_reader(redis_client):  # noqa: ASYNC110 - Redis has no event for it
                await asyncio.sleep(0.01)
        await BrokerOutbox(broker).emit([event.model_dump_json().encode() for event in events])
    finally:
        await broker.stop()
    reply = await asyncio.wait_for(reader, 10)
    [(_, entries)] = reply
    # Without MULTI/EXEC Redis answered the blocked read after the first XADD: the header event alone.
    assert len(entries) == len(events)


async def _blocked_reader(client: aioredis.Redis) -> bool:
    return any(c.get("cmd") == "xreadgroup" for c in await client.client_list(_type="normal"))

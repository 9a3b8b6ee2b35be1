"""For the live tests: an API on a real Redis and database, the store's own write + relay path, an SSE reader."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.parser.events import meeting_events
from services.store.outbox import OutboxRelay
from services.store.repository import ItemsEvent
from shared import streams
from shared.settings import Settings
from tests.integration.api.server import running_api
from tests.integration.store.corpus_store import StoredDoc, store

MAXLEN = 10_000


def live_settings(database_url: str, redis_url: str, data_dir: Path, **extra: object) -> Settings:
    """Settings of an API that reads the test Redis; links start with the served address (set later)."""
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=data_dir,
        _env_file=None,  # type: ignore[call-arg]
        **extra,  # type: ignore[arg-type]
    )


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The API under uvicorn; yields its base URL."""
    with running_api(settings) as base:
        yield base


async def publish(engine: AsyncEngine, redis: aioredis.Redis, events: list[ItemsEvent]) -> int:
    """One store transaction (as the store handler runs it), then the relay publishes its outbox rows."""
    await store(engine, events)
    relay = OutboxRelay(engine, redis, maxlen=MAXLEN)
    return await relay.run_once()


async def publish_doc(engine: AsyncEngine, redis: aioredis.Redis, doc: StoredDoc) -> int:
    """Store a corpus document and publish what it announces."""
    return await publish(engine, redis, list(meeting_events(doc.received, doc.meeting)))


async def stream_entries(redis: aioredis.Redis, after: str = "-") -> list[tuple[str, dict[str, object]]]:
    """Every entry of the public stream after `after` (exclusive unless '-'): (entry id, event JSON)."""
    start = after if after == "-" else f"({after}"
    rows = await redis.xrange(streams.DECISIONS, min=start)
    return [(rid.decode(), orjson.loads(fields[streams.PUBLIC_FIELD.encode()])) for rid, fields in rows]


@dataclass
class Message:
    """One SSE message: its fields (id, event, data) and comment lines."""

    id: str | None = None
    event: str | None = None
    data: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    def json(self) -> dict[str, object]:
        out: dict[str, object] = orjson.loads("\n".join(self.data))
        return out


class SseReader:
    """Reads messages off a streaming httpx response (text/event-stream, as a browser's EventSource does)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def message(self, wait_s: float = 15.0) -> Message:
        """The next message (a comment-only one too)."""
        return await asyncio.wait_for(self._message(), wait_s)

    async def _message(self) -> Message:
        msg, seen = Message(), False
        async for line in self._lines:
            if line == "":
                if seen:
                    return msg
                continue
            seen = True
            if line.startswith(":"):
                msg.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "id":
                msg.id = value
            elif name == "event":
                msg.event = value
            elif name == "data":
                msg.data.append(value)
        raise EOFError("the server closed the event stream")

    async def listening(self) -> str:
        """Wait for the server's `listening` event: the stream id it reads after."""
        while True:
            msg = await self.message()
            if msg.event == "listening":
                return str(msg.json()["after"])

    async def events(self, n: int, wait_s: float = 15.0) -> list[Message]:
        """The next `n` decision events (pings and the `listening` event are passed over)."""
        out: list[Message] = []
        while len(out) < n:
            msg = await self.message(wait_s)
            if msg.data and msg.id is not None:
                out.append(msg)
        return out


@asynccontextmanager
async def sse(client: httpx.AsyncClient, url: str, headers: dict[str, str] | None = None) -> AsyncIterator[SseReader]:
    """An open event stream; leaving the block closes the connection (a client that goes away)."""
    async with client.stream("GET", url, headers={"Accept": "text/event-stream", **(headers or {})}) as response:
        assert response.status_code == 200, (response.status_code, await response.aread())
        assert response.headers["content-type"].startswith("text/event-stream")
        yield SseReader(response)

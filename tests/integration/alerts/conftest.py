"""Fixtures of the alerts tests: a real HTTP receiver and mail catcher on loopback, the store and the
alerts app on real Redis and both databases."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import sqlalchemy as sa
import uvicorn
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from services.alerts import bootstrap as alerts_bootstrap
from services.alerts.app import create_app
from services.alerts.models import deliveries, subscriptions
from services.alerts.urls import Resolver, system_resolver
from services.alerts.window import position
from services.alerts.worker import AlertsDeps
from services.store import bootstrap as store_bootstrap
from services.store.bootstrap import StoreDeps
from services.store.db import create_engine, migrate
from services.store.repository import store_events
from shared import streams
from shared.contracts.events import AgendaItemParsed, MeetingParsed, utcnow
from shared.redis_server import free_port
from shared.settings import Settings
from shared.stream_worker import newest_id

BASE = "https://minutes.test/items/"


async def wait_for(predicate: Callable[[], Any], limit_s: float = 15.0, what: str = "condition") -> None:
    """Await a condition (sync or async predicate), failing after `limit_s`."""
    deadline = asyncio.get_running_loop().time() + limit_s
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def caught_up(engine: AsyncEngine, redis: aioredis.Redis) -> bool:
    """Every enabled subscription has read past the newest entry of the public stream, and no delivery
    waits in a row: nothing more will be sent unless something new is published."""
    newest = await newest_id(redis, streams.DECISIONS)
    head = position(newest)
    async with engine.connect() as conn:
        cursors = (
            await conn.execute(
                sa.select(subscriptions.c.next_ms, subscriptions.c.next_seq).where(subscriptions.c.enabled.is_(True))
            )
        ).all()
        waiting = (
            await conn.execute(sa.select(sa.func.count()).where(deliveries.c.status == "pending"))
        ).scalar_one()
    return waiting == 0 and all(ms is not None and (ms, seq) > head for ms, seq in cursors)


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on loopback (uvicorn) that records every request; `answer` sets its reply."""

    port: int = field(default_factory=free_port)
    requests: list[Received] = field(default_factory=list)
    answer: int = 204
    location: str = ""
    delay_s: float = 0.0  # how long each answer takes (so sends are in flight when something happens)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def _handle(self, request: Request) -> Response:
        self.requests.append(Received(request.url.path, dict(request.headers), await request.body()))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        headers = {"location": self.location} if self.location else {}
        return Response(status_code=self.answer, headers=headers)

    async def start(self) -> None:
        app = Starlette(routes=[Route("/{path:path}", self._handle, methods=["POST", "GET"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        await wait_for(lambda: self._server is not None and self._server.started, 10, "the receiver to start")

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = None
        self._task = None

    def on(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    await r.stop()


class _Mails:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@dataclass
class MailCatcher:
    """aiosmtpd on loopback; `apprise_url` is an Apprise mailto:// URL that sends to it."""

    port: int
    mails: _Mails

    @property
    def apprise_url(self) -> str:
        return (
            f"mailto://127.0.0.1:{self.port}?mode=insecure&from=alerts@minutes.test&to=reader@minutes.test"
        )

    @property
    def messages(self) -> list[Any]:
        return self.mails.messages

    @staticmethod
    def text(message: Any) -> str:
        part = message.get_body(preferencelist=("plain",))
        return str(part.get_content()) if part is not None else ""


@pytest.fixture
def mail_catcher() -> AsyncIterator[MailCatcher] | Any:
    mails = _Mails()
    controller = Controller(mails, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield MailCatcher(controller.port, mails)
    controller.stop()


@pytest.fixture
def alerts_settings(redis_url: str, database_url: str, tmp_path: Path) -> Settings:
    """Loopback webhooks allowed; retries scaled down so the tests are quick (the schedule's shape is kept)."""
    return Settings(
        redis_url=redis_url,
        database_url=database_url,
        data_dir=tmp_path,
        public_base_url=BASE,
        allow_private_urls=True,
        webhook_timeout_s=2.0,
        alerts_backoff_initial_s=0.2,
        alerts_backoff_cap_s=2.0,
        alerts_poll_s=0.1,
        alerts_disable_after=5,
        claim_idle_ms=1000,
        _env_file=None,
    )


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    await migrate(database_url)
    eng = create_engine(database_url)
    yield eng
    await eng.dispose()


@dataclass
class Stack:
    """The store's repository and outbox relay (the real way events reach the public stream) and the
    running alerts app on the same Redis and database."""

    settings: Settings
    engine: AsyncEngine
    redis: aioredis.Redis
    store: StoreDeps
    alerts: AlertsDeps

    async def publish(self, *docs: tuple[MeetingParsed, Sequence[AgendaItemParsed]]) -> int:
        """Store meetings as the store does and relay their decisions to the public stream."""
        async with self.engine.begin() as conn:
            for parsed, items in docs:
                await store_events(conn, [parsed, *items], now=utcnow(), public_base_url=BASE)
        return await self.store.relay.run_once()


@contextlib.asynccontextmanager
async def running_stack(
    settings: Settings, engine: AsyncEngine, redis: aioredis.Redis, resolver: Resolver = system_resolver
) -> AsyncIterator[Stack]:
    store = store_bootstrap.bootstrap(settings, engine=engine, redis=redis)
    await store_bootstrap.prepare(store)
    alerts = alerts_bootstrap.bootstrap(settings, engine=engine, redis=redis, resolver=resolver)
    app = create_app(settings, deps=alerts)
    await app.start()
    try:
        yield Stack(settings, engine, redis, store, alerts)
    finally:
        await app.stop()
        await alerts.http.aclose()


@pytest.fixture
async def stack(alerts_settings: Settings, engine: AsyncEngine, redis_client: aioredis.Redis) -> AsyncIterator[Stack]:
    async with running_stack(alerts_settings, engine, redis_client) as s:
        yield s

"""FastStream Redis broker factory and consumer-group helpers used by every service."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.redis import RedisBroker
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared import streams
from shared.redis_server import read_address
from shared.settings import Settings


class RedisNotConfigured(RuntimeError):
    """Neither MINUTES_REDIS_URL nor a running `minutes up` on the data dir gives a Redis to talk to."""


def resolve_redis_url(settings: Settings) -> str:
    """The Redis URL to use: MINUTES_REDIS_URL, else the embedded Redis of `minutes up` on this data dir."""
    if settings.redis_url:
        return settings.redis_url
    url = read_address(settings.data_dir)
    if url is None:
        raise RedisNotConfigured(
            f"no MINUTES_REDIS_URL and no running `minutes up` on data dir {settings.data_dir}"
        )
    return url


def consumer_name(service: str) -> str:
    """A consumer name unique per process: dead consumers' pending entries stay attributable."""
    return f"{service}-{socket.gethostname()}-{os.getpid()}"


class LogContextMiddleware(BaseMiddleware):
    """Binds the stream and message id to every log line written while a message is handled."""

    async def consume_scope(self, call_next: Any, msg: Any) -> Any:
        """Run the handler inside a structlog context naming the message."""
        raw = getattr(msg, "raw_message", {}) or {}
        ids = raw.get("message_ids") or []
        first = ids[0].decode() if ids and isinstance(ids[0], bytes) else ""
        with structlog.contextvars.bound_contextvars(
            stream=raw.get("channel", ""), message_id=first, batch=len(ids) if len(ids) > 1 else None
        ):
            return await call_next(msg)


def make_broker(
    redis_url: str,
    service: str,
    middlewares: Sequence[type[BaseMiddleware]] = (),
    graceful_timeout: float = 8.0,
) -> RedisBroker:
    """A RedisBroker that logs through structlog and binds message context; nothing connects yet."""
    return RedisBroker(
        redis_url,
        logger=logging.getLogger(f"minutes.{service}.broker"),
        # FastStream's own "Received"/"Processed" line per message: DEBUG, or it dominates logs and CPU.
        log_level=logging.DEBUG,
        middlewares=(LogContextMiddleware, *middlewares),
        graceful_timeout=graceful_timeout,
        # redis-py retries a command once on a dropped connection; our own backoff handles longer outages.
        retry_on_timeout=True,
        health_check_interval=10,
        socket_keepalive=True,
    )


async def ensure_groups(client: Redis, groups: dict[str, tuple[str, ...]] | None = None) -> None:
    """Create every consumer group at id 0 (FastStream would create it at `$` and skip earlier entries).

    Waits for Redis when it is away (a restart of the embedded one): a service started meanwhile waits
    with backoff instead of exiting and being restarted in a loop.
    """
    from shared.consume import OutageGate, redis_outage

    gate = OutageGate("startup")
    while True:
        try:
            await _create_groups(client, groups)
        except Exception as exc:
            if not redis_outage(exc):
                raise
            await gate.wait(exc)
            continue
        gate.up()
        return


async def _create_groups(client: Redis, groups: dict[str, tuple[str, ...]] | None) -> None:
    for stream, names in (groups or streams.GROUPS_BY_STREAM).items():
        for group in names:
            try:
                await client.xgroup_create(stream, group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

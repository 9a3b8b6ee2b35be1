"""FastStream Redis broker factory and consumer-group helpers used by every service."""

from __future__ import annotations

import logging
import os
import socket
import struct
import uuid
from collections.abc import Sequence
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.redis import RedisBroker, StreamSub
from faststream.redis.message import DATA_KEY
from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis

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


# FastStream's stream entry: one field holding its binary envelope (identity, version, headers, body).
ENVELOPE_FIELD = DATA_KEY
_JSON_TYPE = b"\x00\x0ccontent-type\x00\x10application/json"


def correlation_id() -> str:
    """A fresh correlation id, as FastStream makes one."""
    return str(uuid.uuid4())


def stream_envelope(body: bytes, correlation: str | None = None) -> bytes:
    """`body` (JSON) in FastStream's binary envelope, as `broker.publish` writes it, without its per-message
    machinery (a serializer pass, a dict of headers, a byte-by-byte writer: most of a publish's CPU).

    Headers as FastStream sets them: `correlation_id` (fresh unless given: events published together may
    share one), then `content-type: application/json`; a test checks that FastStream's own parser reads
    body and headers back.
    """
    correlation_bytes = (correlation or correlation_id()).encode()
    headers = struct.pack(">H", 14) + b"correlation_id" + struct.pack(">H", len(correlation_bytes)) + correlation_bytes
    headers += _JSON_TYPE
    identity = BinaryMessageFormatV1.IDENTITY_HEADER
    headers_start = len(identity) + 2 + 8
    data_start = headers_start + 2 + len(headers)
    return b"".join((identity, struct.pack(">HIIH", 1, headers_start, data_start, 2), headers, body))


async def ensure_groups(client: Redis, groups: dict[str, tuple[str, ...]] | None = None) -> None:
    """Create every consumer group at id 0 (FastStream would create it at `$` and skip earlier entries).

    Waits for Redis when it is away (a restart of the embedded one): a service started meanwhile waits
    with backoff instead of exiting and being restarted in a loop.
    """
    from shared.consume import OutageGate, redis_outage

    await OutageGate("startup").through(lambda: _create_groups(client, groups), redis_outage)


async def _create_groups(client: Redis, groups: dict[str, tuple[str, ...]] | None) -> None:
    from shared.stream_worker import ensure_group  # the worker imports the consume rule, which imports this

    for stream, names in (groups or streams.GROUPS_BY_STREAM).items():
        for group in names:
            await ensure_group(client, stream, group, "0")


def document_reader(
    docs: RedisBroker, stream: str, group: str | None, consumer: str, *, batch: int, title: str, description: str,
    one_at_a_time: bool = False,
) -> None:
    """Declare, on a broker used only for the AsyncAPI document (never started), a stream the service reads
    with shared.stream_worker: the document shows the channel, its group (None: read without one, XREAD)
    and what it carries."""

    async def reads(body: Any) -> None:  # never called: the stream worker reads this stream
        return None

    sub = StreamSub(
        stream, group=group, consumer=consumer if group else None, batch=not one_at_a_time, max_records=batch
    )
    docs.subscriber(stream=sub, title=title, description=description)(reads)

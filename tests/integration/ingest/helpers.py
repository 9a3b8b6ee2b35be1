"""Helpers for the ingest integration tests: settings on a tmp inbox, reading the streams back."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

from faststream.redis.parser import BinaryMessageFormatV1
from redis.asyncio import Redis

from shared import streams
from shared.contracts.events import DeadLettered, DocumentReceived
from shared.settings import Settings

Rows = list[tuple[bytes, dict[bytes, bytes]]]


def make_settings(tmp_path: Path, redis_url: str, **overrides: Any) -> Settings:
    """Settings on a private inbox and data dir, ignoring the environment's .env."""
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "data_dir": tmp_path / "data",
        "inbox": tmp_path / "inbox",
        "settle_s": 0.3,
        "rescan_interval_s": 30.0,
        **overrides,
    }
    return Settings(_env_file=None, **values)


async def documents(client: Redis) -> list[DocumentReceived]:
    """Every DocumentReceived on the documents stream, decoded from FastStream's binary format."""
    out = []
    rows = cast(Rows, await client.xrange(streams.DOCUMENTS))
    for _, fields in rows:
        body, _headers = BinaryMessageFormatV1.parse(fields[b"__data__"])
        out.append(DocumentReceived.model_validate(json.loads(body)))
    return out


async def dead_letters(client: Redis) -> list[DeadLettered]:
    """Every DeadLettered on the dead-letter stream (plain JSON)."""
    rows = cast(Rows, await client.xrange(streams.DEAD_LETTER))
    return [DeadLettered.model_validate_json(fields[streams.PUBLIC_FIELD.encode()]) for _, fields in rows]


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    """Wait until `check()` is true, or fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.05)


async def count_is(client: Redis, n: int) -> bool:
    """True when the documents stream holds exactly n entries (waiting until it does)."""
    return int(await client.xlen(streams.DOCUMENTS)) == n

"""Live decisions over HTTP: `GET /api/v1/decisions/stream` as Server-Sent Events (sse-starlette).

Each SSE event is one entry of the public stream `minutes:decisions` that matches the request's filter;
its `id:` is the Redis stream entry id, so a client that reconnects with `Last-Event-ID` resumes with the
entry right after it (shared.stream_worker.StreamReader: XREAD from that id): nothing lost, nothing
repeated, as long as the stream still holds it (`MINUTES_STREAM_MAXLEN`). Without it the stream starts
at the newest entry (`$`), or after `since` (a stream id, or a time: entries added after it).

Every connection has its own Redis connection (a blocking XREAD holds one anyway), closed when the client
goes: sse-starlette cancels the generator on disconnect and the `finally` frees it. Each XREAD blocks for
BLOCK_MS, well under the client's socket timeout (redis-py 8's 5 s default turns a longer BLOCK on an idle
stream into a TimeoutError; see minutes_cli/follow.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from pydantic import TypeAdapter, ValidationError
from redis import exceptions as redis_errors
from redis.asyncio import Redis
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.api.bootstrap import ApiDeps, deps_of
from services.api.errors import ApiError
from services.api.filters import api_filter
from services.readmodel.filter import Matcher, ReadFilter, event_facts
from services.store.search import SearchSyntaxError
from shared import streams
from shared.broker import RedisNotConfigured, resolve_redis_url
from shared.contracts.events import PublicEvent
from shared.logging import get_logger
from shared.stream_worker import Entry, StreamReader

log = get_logger(__name__)
router = APIRouter()

BLOCK_MS = 2000
SOCKET_TIMEOUT_S = 10.0
PING_S = 15
BATCH = 100
# Browsers wait this long before reconnecting (the `retry:` field).
RETRY_MS = 3000
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
_PUBLIC = TypeAdapter(PublicEvent)


def start_id(last_event_id: str | None, since: str | None) -> str | None:
    """The id to XREAD after: Last-Event-ID, else `since` (stream id or time), else None (the newest)."""
    if last_event_id:
        if not _STREAM_ID.match(last_event_id.strip()):
            raise ApiError(400, "Last-Event-ID: not an id this stream sent (expected <ms>-<seq>)")
        return last_event_id.strip()
    if not since:
        return None
    since = since.strip()
    if _STREAM_ID.match(since):
        return since
    try:
        moment = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"since: {since[:40]!r} is neither a stream id (<ms>-<seq>) nor an ISO time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    ms = int(moment.timestamp() * 1000)
    # XREAD returns ids strictly greater: the last possible id of the millisecond before.
    return f"{max(ms - 1, 0)}-18446744073709551615"


async def public_events(
    deps: ApiDeps, client: Redis, matcher: Matcher, after: str | None, is_gone: Any
) -> AsyncIterator[ServerSentEvent]:
    """The matching entries after `after`, forever; stops when `is_gone()` (the client left)."""
    # Without `after`: after the newest entry as of now, so the first read misses nothing added later.
    reader = StreamReader(client, streams.DECISIONS, after=after, batch=BATCH, block_ms=BLOCK_MS)
    cursor = await reader.position()
    # First a `listening` event (no id: a client's Last-Event-ID stays as it was) naming where it starts;
    # a client (the web page, a test) knows from it that nothing published from now on can be missed.
    yield ServerSentEvent(data=f'{{"after": "{cursor}"}}', event="listening", retry=RETRY_MS)
    while not await is_gone():
        # A Redis outage raises here: the client reconnects (retry:) with its Last-Event-ID.
        for entry in await reader.read():
            sse = await _to_sse(deps, matcher, entry)
            if sse is not None:
                yield sse


async def _to_sse(deps: ApiDeps, matcher: Matcher, entry: Entry) -> Any:
    entry_id = entry.id
    if not entry.known:
        log.warning("public stream entry without its field; skipped", entry_id=entry_id)
        return None
    try:
        event = _PUBLIC.validate_json(entry.payload)
    except ValidationError as exc:
        # An event type this server does not know yet (a newer store): skip it, as the contract asks.
        log.info("public stream entry not understood; skipped", entry_id=entry_id, error=str(exc)[:200])
        return None
    facts = await event_facts(deps.engine, event.item_id) if matcher.needs_facts else None
    if not matcher.accepts(event, facts):
        return None
    return ServerSentEvent(data=entry.text, event=event.event, id=entry_id)


@router.get(
    "/api/v1/decisions/stream",
    tags=["decisions"],
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Matching public events, live"}},
)
async def decision_stream(
    request: Request,
    flt: Annotated[ReadFilter, Depends(api_filter)],
    since: Annotated[
        str | None, Query(max_length=64, description="Start after this stream id, or after this ISO time.")
    ] = None,
    last_event_id: Annotated[str | None, Header(max_length=64, include_in_schema=False)] = None,
) -> EventSourceResponse:
    """Server-Sent Events: each `DecisionMade` / `DecisionRevised` that matches the filter (the filters of
    `/api/v1/decisions`; `q` with the same Danish stemming) as it is published. `id:` is the stream entry
    id: reconnect with `Last-Event-ID` to resume right after it. Without it: from now on, or after `since`.
    A comment line (`: ping`) every 15 s keeps proxies from closing an idle stream."""
    deps = deps_of(request)
    try:
        matcher = Matcher(flt)
    except SearchSyntaxError as exc:
        raise ApiError(400, f"q: {exc}") from None
    after = start_id(last_event_id, since)
    try:
        url = resolve_redis_url(deps.settings)
    except RedisNotConfigured as exc:
        raise ApiError(503, f"live decisions are unavailable: {exc}") from None
    client = Redis.from_url(url, socket_timeout=SOCKET_TIMEOUT_S, socket_connect_timeout=5)
    try:
        await client.ping()
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError):
        await client.aclose()
        raise ApiError(503, "live decisions are unavailable: Redis does not answer; try again shortly") from None

    async def body() -> AsyncIterator[ServerSentEvent]:
        try:
            async for sse in public_events(deps, client, matcher, after, request.is_disconnected):
                yield sse
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
            # The client reconnects (retry:) with its Last-Event-ID and loses nothing.
            log.warning("live stream lost Redis; the client will reconnect", error=str(exc)[:200])
        finally:
            await asyncio.shield(client.aclose())

    return EventSourceResponse(body(), ping=PING_S, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

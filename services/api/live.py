"""Live decisions over HTTP: `GET /api/v1/decisions/stream` as Server-Sent Events (sse-starlette).

Each SSE event is one entry of the public stream `minutes:decisions` that matches the request's filter;
its `id:` is the Redis stream entry id, so a client that reconnects with `Last-Event-ID` resumes with the
entry right after it: nothing lost, nothing repeated, as long as the stream still holds it
(`MINUTES_STREAM_MAXLEN`). Without it the stream starts at the newest entry, or after `since` (a stream id,
or a time: entries added after it).

One reader per API process feeds every client (services/api/hub.py): the number of Redis connections does
not grow with the clients, and a client that goes leaves nothing behind. At most `MINUTES_API_MAX_STREAMS`
streams are open at once; beyond that a request gets 429 with `Retry-After`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from sse_starlette import EventSourceResponse, ServerSentEvent

from services.api.bootstrap import ApiDeps, deps_of
from services.api.errors import ApiError
from services.api.filters import api_filter
from services.api.hub import Dropped, Hub, Subscriber, is_redis_down
from services.readmodel.filter import Matcher, ReadFilter, event_facts
from services.store.search import SearchSyntaxError
from shared.broker import RedisNotConfigured, resolve_redis_url
from shared.logging import get_logger
from shared.stream_worker import OutOfStreamTime, millis_at

log = get_logger(__name__)
router = APIRouter()

PING_S = 15
# Browsers wait this long before reconnecting (the `retry:` field).
RETRY_MS = 3000
_STREAM_ID = re.compile(r"^(\d{1,20})-(\d{1,20})$")
# Both halves of a Redis stream id are unsigned 64-bit integers.
_U64_MAX = 2**64 - 1


def _stream_id(text: str) -> str | None:
    """`text` if it is a stream id Redis accepts (<ms>-<seq>, each at most 2**64 - 1), else None."""
    m = _STREAM_ID.match(text)
    if m is None or int(m.group(1)) > _U64_MAX or int(m.group(2)) > _U64_MAX:
        return None
    return text


def start_id(last_event_id: str | None, since: str | None) -> str | None:
    """The id to XREAD after: Last-Event-ID, else `since` (stream id or time), else None (the newest)."""
    if last_event_id:
        found = _stream_id(last_event_id.strip())
        if found is None:
            raise ApiError(400, "Last-Event-ID: not an id this stream sent (expected <ms>-<seq>, each < 2^64)")
        return found
    if not since:
        return None
    since = since.strip()
    if _STREAM_ID.match(since):
        found = _stream_id(since)
        if found is None:
            raise ApiError(400, "since: not a stream id (each half of <ms>-<seq> must be < 2^64)")
        return found
    try:
        moment = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"since: {since[:40]!r} is neither a stream id (<ms>-<seq>) nor an ISO time") from None
    ms = stream_ms(moment, "since")
    # Entries strictly after the last possible id of the millisecond before.
    return f"{max(ms - 1, 0)}-{_U64_MAX}"


def stream_ms(moment: dt.datetime, name: str) -> int:
    """`moment` as stream milliseconds; ApiError(400) for a time no stream id can have."""
    try:
        return millis_at(moment)
    except OutOfStreamTime as exc:
        raise ApiError(400, f"{name}: {exc}") from None


async def public_events(
    deps: ApiDeps, hub: Hub, sub: Subscriber, matcher: Matcher
) -> AsyncIterator[ServerSentEvent]:
    """The matching entries after the subscriber's position, forever (the hub's follower feeds them)."""
    # First a `listening` event (no id: a client's Last-Event-ID stays as it was) naming where it starts;
    # a client (the web page, a test) knows from it that nothing published from now on can be missed.
    yield ServerSentEvent(data=f'{{"after": "{sub.after}"}}', event="listening", retry=RETRY_MS)
    async for live in hub.entries(sub):
        event = live.event
        if event is None:
            continue
        facts = await event_facts(deps.engine, event.item_id) if matcher.needs_facts else None
        if matcher.accepts(event, facts):
            yield ServerSentEvent(data=live.entry.text, event=event.event, id=live.entry.id)


class _LiveResponse(EventSourceResponse):
    """Gives the stream's slot back and forgets its subscriber however the response ends, even when the
    client left before the body started (its generator then never runs its own `finally`)."""

    def __init__(self, body: AsyncIterator[ServerSentEvent], done: Callable[[], None], **kw: Any) -> None:
        super().__init__(body, **kw)
        self._done = done

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._done()


async def hub_of(deps: ApiDeps) -> Hub:
    """The process's hub, started (503 when Redis is not configured or does not answer)."""
    if deps.hub is None:
        try:
            deps.hub = Hub(resolve_redis_url(deps.settings))
        except RedisNotConfigured as exc:
            raise ApiError(503, f"live decisions are unavailable: {exc}") from None
    try:
        await deps.hub.start()
    except Exception as exc:
        if not is_redis_down(exc):
            raise
        raise ApiError(503, "live decisions are unavailable: Redis does not answer; try again shortly") from None
    return deps.hub


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
    slot = deps.stream_slots.take()  # 429 beyond MINUTES_API_MAX_STREAMS
    try:
        hub = await hub_of(deps)
    except BaseException:
        slot.release()
        raise
    sub = hub.subscriber(after)

    async def body() -> AsyncIterator[ServerSentEvent]:
        try:
            async for sse in public_events(deps, hub, sub, matcher):
                yield sse
        except Dropped:
            pass  # fell behind, or the follower stopped: the client reconnects (retry:) with its Last-Event-ID
        except Exception as exc:
            if not is_redis_down(exc):
                raise
            # A catch-up read failed on a Redis outage: the client reconnects and loses nothing.
            log.warning("live stream lost Redis; the client will reconnect", error=str(exc)[:200])
        finally:
            hub.remove(sub)

    def done() -> None:
        hub.remove(sub)
        slot.release()

    return _LiveResponse(
        body(), done, ping=PING_S, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )

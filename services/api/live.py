"""Live decisions over HTTP: `GET /api/v1/decisions/stream` as Server-Sent Events.

Each SSE event is one entry of the public stream `minutes:decisions` that matches the request's filter;
its `id:` is the Redis stream entry id, so a client that reconnects with `Last-Event-ID` resumes with the
entry right after it: nothing lost, nothing repeated, as long as the stream still holds it
(`MINUTES_STREAM_MAXLEN`). Without it the stream starts at the newest entry, or after `since` (a stream id,
or a time: entries added after it).

One reader per API process feeds every client (services/api/hub.py): the number of Redis connections does
not grow with the clients, and a client that goes leaves nothing behind. At most `MINUTES_API_MAX_STREAMS`
streams are open at once; beyond that a request gets 429 with `Retry-After`.

Each client is one coroutine, `LiveStream` (a plain ASGI response): it waits on its queue in the hub, and a
timeout of that same wait is when it pings; a small task awaiting `receive` ends that wait when the client
goes. sse-starlette's response ran four tasks per client (pings, disconnect, shutdown, the body) in a task
group with their events, queues and cancel scopes, ~55 KB a client at peak. Once a burst of clients is over,
the API gives what they used back to the system, once (`AfterBurst`, services/api/limits.py; issue 22).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from services.api.bootstrap import ApiDeps, deps_of
from services.api.errors import ApiError
from services.api.filters import api_filter
from services.api.hub import Dropped, Hub, Live, Subscriber, is_redis_down
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


def sse(data: str, event: str, id: str | None = None, retry: int | None = None) -> bytes:
    """One SSE message (the field order and CRLF line ends sse-starlette wrote)."""
    lines = [f"id: {id}"] if id is not None else []
    lines.append(f"event: {event}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    if retry is not None:
        lines.append(f"retry: {retry}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def ping() -> bytes:
    """A comment line: keeps proxies from closing an idle stream; EventSource ignores it."""
    return f": ping - {dt.datetime.now(dt.UTC).isoformat(sep=' ')}\r\n\r\n".encode()


async def until_gone(receive: Receive, sub: Subscriber) -> None:
    """Ends the subscriber's wait once the client disconnects. uvicorn's `send` to a closed connection does
    not fail (it drops the bytes), and only `receive` tells; awaiting it is the one small task a client has,
    so that its slot comes free at once rather than at the next ping."""
    while (await receive())["type"] != "http.disconnect":
        pass
    sub.queue.put_nowait(None)


class LiveStream(Response):
    """The response of one live client: one coroutine from its `listening` event to its end. Gives the
    stream's slot back and forgets its subscriber however it ends (`done`), even when the client left
    before the body started."""

    media_type = "text/event-stream"

    def __init__(self, deps: ApiDeps, hub: Hub, sub: Subscriber, matcher: Matcher, done: Callable[[], None]) -> None:
        # Proxies must neither cache nor buffer the stream (nginx: X-Accel-Buffering).
        # As starlette's StreamingResponse: no `body`, so no Content-Length.
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Connection": "keep-alive"})
        self.deps, self.hub, self.sub, self.matcher, self.done = deps, hub, sub, matcher, done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            watch = asyncio.create_task(until_gone(receive, self.sub), name="live client")
            try:
                await self._stream(send)
            finally:
                watch.cancel()
        except Dropped:
            pass  # fell behind, or the follower stopped: the client reconnects (retry:) with its Last-Event-ID
        except Exception as exc:
            if not is_redis_down(exc):
                raise
            # A catch-up read failed on a Redis outage: the client reconnects and loses nothing.
            log.warning("live stream lost Redis; the client will reconnect", error=str(exc)[:200])
        finally:
            self.done()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _stream(self, send: Send) -> None:
        sub = self.sub

        async def body(chunk: bytes) -> None:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})

        # First a `listening` event (no id: a client's Last-Event-ID stays as it was) naming where it starts;
        # a client (the web page, a test) knows from it that nothing published from now on can be missed.
        await body(sse(f'{{"after": "{sub.after}"}}', "listening", retry=RETRY_MS))
        async for live in self.hub.catch_up(sub):
            await self._send_if_matching(live, body)
        loop = asyncio.get_running_loop()
        next_ping = loop.time() + PING_S
        while True:
            # The ping is a timeout of the same wait: no task of its own.
            batch = await self.hub.wait(sub, max(0.0, next_ping - loop.time()))
            for live in batch:
                if await self._send_if_matching(live, body):
                    next_ping = loop.time() + PING_S  # an event keeps the connection busy as well as a ping
            if loop.time() >= next_ping:
                await body(ping())
                next_ping = loop.time() + PING_S

    async def _send_if_matching(self, live: Live, body: Callable[[bytes], Any]) -> bool:
        event = live.event
        if event is None:
            return False
        facts = await event_facts(self.deps.engine, event.item_id) if self.matcher.needs_facts else None
        if not self.matcher.accepts(event, facts):
            return False
        await body(sse(live.entry.text, event.event, id=live.entry.id))
        return True


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
    response_class=LiveStream,
    # Said here: FastAPI reads a response class's default status from its __init__, and LiveStream has none.
    status_code=200,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Matching public events, live"}},
)
async def decision_stream(
    request: Request,
    flt: Annotated[ReadFilter, Depends(api_filter)],
    since: Annotated[
        str | None, Query(max_length=64, description="Start after this stream id, or after this ISO time.")
    ] = None,
    last_event_id: Annotated[str | None, Header(max_length=64, include_in_schema=False)] = None,
) -> LiveStream:
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

    def done() -> None:
        hub.remove(sub)
        slot.release()

    return LiveStream(deps, hub, sub, matcher, done)

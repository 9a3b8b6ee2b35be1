"""The web page of refused documents: what the parser could not read, with its reason, newest first.

A document whose layout no rule knows is refused (`layout not recognised: …`) and dead-lettered, never
stored as an empty meeting; without this page a reader of the site would only see that it is missing.
Only the parser's bad-input refusals are shown: their reasons are written for people (a `DocumentError`
says what was found), while other dead letters (a service's crash, a database error) are for operators
and `minutes dlq list`.
"""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from redis import exceptions as redis_errors
from redis.asyncio import Redis

from services.api.bootstrap import deps_of
from services.api.errors import ApiError
from services.api.web import render
from shared import streams
from shared.broker import RedisNotConfigured, resolve_redis_url
from shared.contracts.events import DeadLettered
from shared.stream_worker import Entry, page

router = APIRouter(include_in_schema=False)

# Newest dead letters read per page view: a bounded XREVRANGE, never the whole stream.
_SCAN: Final = 500
_SHOWN: Final = 100


def refusals(entries: list[Entry]) -> list[DeadLettered]:
    """The parser's bad-input refusals among dead-letter stream entries (newest first, as read)."""
    out: list[DeadLettered] = []
    for entry in entries:
        if not entry.known:
            continue
        event = DeadLettered.model_validate_json(entry.payload)
        if event.service == "parser" and not event.retryable:
            out.append(event)
    return out[:_SHOWN]


@router.get("/rejected", response_class=HTMLResponse)
async def rejected_page(request: Request) -> Response:
    """Documents the parser refused (unknown layout, no text layer, not minutes …), newest first."""
    try:
        url = resolve_redis_url(deps_of(request).settings)
    except RedisNotConfigured:
        raise ApiError(503, "the pipeline's Redis is not configured") from None
    client = Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        rows = [e async for e in page(client, streams.DEAD_LETTER, reverse=True, limit=_SCAN)]
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError):
        raise ApiError(503, "Redis does not answer; try again shortly") from None
    finally:
        await client.aclose()
    return render(request, "rejected.html", refused=refusals(rows))

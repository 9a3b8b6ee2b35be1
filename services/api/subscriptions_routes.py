"""Subscriptions over HTTP: `/api/v1/subscriptions` (list, add, show, remove, attempts, enable, replay).

Every request here needs `Authorization: Bearer <MINUTES_API_TOKEN>` — also reads, because a subscription
names someone's endpoint. The token is compared in constant time (`hmac.compare_digest`). With no token
configured the endpoints refuse (403) and say how to enable them: the rest of the API stays read-only.
A webhook's signing secret is in the answer to the POST that creates it, and never again.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated

import redis.asyncio as aioredis
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import BaseModel

from services.alerts import subscriptions as subs
from services.alerts.subscriptions import (
    Attempt,
    CreatedSubscription,
    Subscription,
    SubscriptionError,
    SubscriptionSpec,
)
from services.alerts.worker import replay as replay_events
from services.api.bootstrap import ApiDeps, deps_of
from services.api.errors import ApiError
from shared.broker import RedisNotConfigured, resolve_redis_url
from shared.stream_worker import OutOfStreamTime, millis_at

router = APIRouter(prefix="/api/v1/subscriptions", tags=["subscriptions"])


class Replayed(BaseModel):
    """How many deliveries a replay enqueued (the alerts worker sends them)."""

    enqueued: int
    since: dt.datetime


async def require_token(request: Request, authorization: Annotated[str | None, Header()] = None) -> ApiDeps:
    """The bearer token of `MINUTES_API_TOKEN`, or 403 (none configured) / 401 (missing or wrong)."""
    deps = deps_of(request)
    configured = deps.settings.api_token
    if configured is None or not configured.get_secret_value():
        raise ApiError(403, "subscriptions are disabled: set MINUTES_API_TOKEN on the server to enable them")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ApiError(401, "missing bearer token: send Authorization: Bearer <MINUTES_API_TOKEN>")
    if not hmac.compare_digest(given.strip().encode(), configured.get_secret_value().encode()):
        raise ApiError(401, "wrong bearer token")
    return deps


Authorized = Annotated[ApiDeps, Depends(require_token)]
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"description": "Bad subscription (the message says why)"},
    401: {"description": "Missing or wrong bearer token"},
    403: {"description": "No MINUTES_API_TOKEN configured"},
    404: {"description": "No such subscription"},
}


async def _get(deps: ApiDeps, subscription_id: str) -> Subscription:
    found = await subs.get_subscription(deps.engine, subscription_id)
    if found is None:
        raise ApiError(404, "no subscription with this id")
    return found


@router.get("", response_model=list[Subscription], responses=ERRORS)
async def list_subscriptions(deps: Authorized) -> list[Subscription]:
    """Every subscription (secrets never shown; Apprise URLs redacted)."""
    return await subs.list_subscriptions(deps.engine)


@router.post("", status_code=201, response_model=CreatedSubscription, responses=ERRORS)
async def add_subscription(spec: SubscriptionSpec, deps: Authorized) -> CreatedSubscription:
    """Follow a filter by webhook (Standard Webhooks, signed) or Apprise; the answer holds the webhook's
    signing secret — the only time it is shown. It receives events published from now on."""
    try:
        return await subs.add_subscription(deps.engine, spec, allow_private=deps.settings.allow_private_urls)
    except SubscriptionError as exc:
        raise ApiError(400, str(exc)) from None


@router.get("/{subscription_id}", response_model=Subscription, responses=ERRORS)
async def get_subscription(subscription_id: str, deps: Authorized) -> Subscription:
    """One subscription, with its delivery counts and whether (and why) it is disabled."""
    return await _get(deps, subscription_id)


@router.delete("/{subscription_id}", status_code=204, response_class=Response, responses=ERRORS)
async def remove_subscription(subscription_id: str, deps: Authorized) -> Response:
    """Remove a subscription and its pending deliveries."""
    if not await subs.remove_subscription(deps.engine, subscription_id):
        raise ApiError(404, "no subscription with this id")
    return Response(status_code=204)


@router.get("/{subscription_id}/attempts", response_model=list[Attempt], responses=ERRORS)
async def list_attempts(
    subscription_id: str, deps: Authorized, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[Attempt]:
    """The latest attempts of deliveries that kept state (failures and their retries, replays, digests),
    newest first: status code, error, duration. A delivery that succeeded at once is counted on the
    subscription (`delivered`, `last_delivered_at`) instead."""
    await _get(deps, subscription_id)
    return await subs.list_attempts(deps.engine, subscription_id, limit=limit)


@router.post("/{subscription_id}/enable", response_model=Subscription, responses=ERRORS)
async def enable_subscription(subscription_id: str, deps: Authorized) -> Subscription:
    """Enable a subscription that was disabled after repeated failures (its failure count starts again)."""
    found = await subs.enable_subscription(deps.engine, subscription_id)
    if found is None:
        raise ApiError(404, "no subscription with this id")
    return found


@router.post("/{subscription_id}/replay", response_model=Replayed, responses={**ERRORS, 503: {}})
async def replay(
    subscription_id: str,
    deps: Authorized,
    since: Annotated[dt.datetime, Query(description="Deliver again the events published from this time on.")],
) -> Replayed:
    """Enqueue again the matching events the stream still holds from `since` on (same webhook-id: a
    receiver that deduplicates sees no double)."""
    await _get(deps, subscription_id)
    when = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
    try:
        millis_at(when)  # a time no stream id can have (before 1970) is the request's mistake: 400
    except OutOfStreamTime as exc:
        raise ApiError(400, f"since: {exc}") from None
    try:
        url = resolve_redis_url(deps.settings)
    except RedisNotConfigured as exc:
        raise ApiError(503, f"replay is unavailable: {exc}") from None
    client = aioredis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
    try:
        added = await replay_events(deps.engine, client, when, subscription_id=subscription_id)
    finally:
        await client.aclose()
    return Replayed(enqueued=added, since=when)

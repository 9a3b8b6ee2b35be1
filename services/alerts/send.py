"""Sending one delivery: a signed webhook POST (Standard Webhooks) or an Apprise notification.

Each send returns a `Sent` (ok, status code, error, duration) and never raises for the receiver's
failures: the worker records every attempt, whatever happened.

A webhook POST has one deadline for all of it (the lookup, connect, sending the request and the whole
response), so a receiver that answers and then drips its body a byte at a time fails at the deadline like
one that never answers (httpx's own timeouts are per read: a drip never trips them). Only the first
`BODY_CAP` bytes of a response are read (nothing needs more: the status decides), so a huge body costs no
memory; the connection is then closed instead of kept alive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import dataclass

import httpx
from standardwebhooks import Webhook

from services.alerts.pinned import PinnedTransport
from services.alerts.urls import Resolver, UrlRefused, check_webhook_shape, system_resolver
from shared import connect_guard
from shared.contracts.events import utcnow

# Bytes of a response read at most (the status decides; the rest is never read).
BODY_CAP = 16 * 1024


@dataclass(frozen=True)
class Sent:
    """The result of one attempt."""

    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: float


def signed_headers(secret: str, event_id: str, body: str, at: dt.datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers: `webhook-id` is the event id, so a receiver dedupes retries and replays."""
    at = at or utcnow()
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }


async def post_webhook(
    client: httpx.AsyncClient, url: str, secret: str, event_id: str, body: str, *, deadline_s: float
) -> Sent:
    """POST the event; a 2xx is success. All of it — connect, send, the whole response (up to `BODY_CAP`
    bytes) — within `deadline_s`. Redirects are not followed (a 3xx is a failure: the receiver must give its
    final URL). The client of `webhook_client` checks the host's addresses again as it connects and connects
    to a checked one (DNS may point the name inward since registration): a refusal is recorded."""
    start = time.perf_counter()

    def took() -> float:
        return round((time.perf_counter() - start) * 1000, 2)

    try:
        check_webhook_shape(url)
        async with asyncio.timeout(deadline_s):
            headers = signed_headers(secret, event_id, body)
            async with client.stream("POST", url, content=body.encode(), headers=headers) as response:
                await read_capped(response, BODY_CAP)
    except TimeoutError:
        return Sent(False, None, f"no complete answer within the {deadline_s:g} s deadline", took())
    except UrlRefused as exc:
        return Sent(False, None, f"refused: {exc}", took())
    except httpx.HTTPError as exc:
        return Sent(False, None, f"{type(exc).__name__}: {str(exc)[:300]}", took())
    code = response.status_code
    if 200 <= code < 300:
        return Sent(True, code, None, took())
    if 300 <= code < 400:
        where = response.headers.get("location", "")
        return Sent(False, code, f"redirect to {where[:200]!r} not followed", took())
    return Sent(False, code, f"HTTP {code}", took())


async def read_capped(response: httpx.Response, cap: int) -> int:
    """Read a streamed response's body as it came (no decompression) until it ends or `cap` bytes were
    read; returns how many. Leaving the stream unread closes the connection (never reused half-read)."""
    got = 0
    async for chunk in response.aiter_raw():
        got += len(chunk)
        if got >= cap:
            break
    return got


def webhook_client(
    timeout_s: float, *, allow_private: bool, resolver: Resolver = system_resolver, concurrency: int = 16
) -> httpx.AsyncClient:
    """One client per worker: connections kept alive per host (as many as subscriptions served at once, so
    many subscriptions on one receiver reuse theirs); never follows redirects; every connection pinned to an
    address of the host that was checked (non-global ones refused unless `allow_private`). No proxy from the
    environment: a proxy would resolve the name itself, after the check."""
    limits = httpx.Limits(max_connections=max(100, concurrency), max_keepalive_connections=max(20, concurrency))
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=httpx.Timeout(timeout_s),
        transport=PinnedTransport(allow_private=allow_private, resolver=resolver, limits=limits, what="webhook host"),
        trust_env=False,
    )


async def notify(url: str, title: str, body: str, *, allow_private: bool) -> Sent:
    """One Apprise notification; Apprise reports failure as False (its reasons go to its own log). Every
    connection it opens is checked as it connects (shared/connect_guard.py): a refused one is the error."""
    import apprise

    start = time.perf_counter()
    sender = apprise.Apprise()
    if not sender.add(url):
        return Sent(False, None, "Apprise does not understand the URL", 0.0)
    with connect_guard.guarded(allow_private=allow_private, what="notification") as scope:
        try:
            ok = bool(await sender.async_notify(body=body, title=title))
        except Exception as exc:  # a plugin's bug must not stop the worker: it is recorded as the attempt's error
            took = round((time.perf_counter() - start) * 1000, 2)
            return Sent(False, None, f"{type(exc).__name__}: {str(exc)[:300]}", took)
    took = round((time.perf_counter() - start) * 1000, 2)
    if scope.refused:
        return Sent(False, None, f"refused: {scope.refused[0]}", took)
    return Sent(ok, None, None if ok else "Apprise could not deliver the notification (see the log)", took)

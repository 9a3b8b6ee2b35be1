"""Serving one leased subscription: its waiting rows first, then the stream from its cursor, in order.

- Waiting rows (a failed delivery and what queued behind it, replays) go first, in stream order, from the
  oldest while due: nothing overtakes a delivery waiting for its retry.
- While the oldest row waits for its retry, what arrives on the stream for the subscription is kept as
  rows behind it (so the stream's retention never drops what a failing endpoint has not had yet).
- Otherwise the subscription reads the stream from its cursor (services/alerts/window.py), sends the
  matching events one after another, and records the run with one UPDATE (cursor, counters). A send that
  fails becomes a row with its retry scheduled; the matching events after it in the run are kept behind it.
- A digest subscription keeps its matching events as rows for the next summary (services/alerts/worker.py).

A crash between a send and its record sends it again once the lease expired, with the same `webhook-id`
(at least once, as the receiver's dedupe expects).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from services.alerts import messages, send
from services.alerts.delivery import RUN, lease_s, record_rows, record_stream, release, renew
from services.alerts.deps import AlertsDeps
from services.alerts.handlers import PUBLIC
from services.alerts.matching import Filter, compiled
from services.alerts.window import Item, fill_regions, following, matching, trimmed_past
from shared.contracts.events import utcnow
from shared.logging import get_logger

log = get_logger(__name__)

# Entries examined per run from the stream (a subscription that matches few of them moves its cursor
# over many at once); at most RUN of the matching ones are sent per run.
READ = 500


class Served(NamedTuple):
    """What serving a subscription once did: deliveries that went, whether more may wait (the lease is
    kept: serve it again), and whether it found nothing where the stream's head said there was something
    (entries gone from Redis: the dispatcher lets it rest rather than claim it again at once)."""

    went: int
    more: bool
    idle: bool = False


async def send_one(deps: AlertsDeps, sub: Any, event_id: str, payload: str) -> send.Sent:
    """One attempt of one delivery over the subscription's channel."""
    if sub.channel == "webhook":
        # deps.http checks the host as it connects (send.webhook_client), under MINUTES_ALLOW_PRIVATE_URLS.
        deadline = deps.settings.webhook_timeout_s
        return await send.post_webhook(deps.http, sub.url, sub.secret, event_id, payload, deadline_s=deadline)
    title, body = messages.notification(PUBLIC.validate_json(payload), deps.settings.page_url, sub.language)
    return await send.notify(sub.url, title, body, allow_private=deps.settings.allow_private_urls)


class _Lease:
    """The lease of the subscription being served, renewed when half of it is used up."""

    def __init__(self, deps: AlertsDeps, subscription_id: str, until: dt.datetime) -> None:
        self.deps = deps
        self.subscription_id = subscription_id
        self.until = until
        self.half = dt.timedelta(seconds=lease_s(deps) / 2)

    async def held(self) -> bool:
        """Whether it is still ours (renewed if need be)."""
        if self.until - utcnow() >= self.half:
            return True
        renewed = await renew(self.deps, self.subscription_id)
        if renewed is None:
            log.warning("subscription lease lost", subscription=self.subscription_id)
            return False
        self.until = renewed
        return True


def filter_of(sub: Any) -> Filter:
    """The subscription's compiled filter (shared by every subscription with the same fields)."""
    return compiled(sub.municipality, sub.region, sub.committee, sub.outcome, sub.case_number, sub.phrase)


async def _read(deps: AlertsDeps, sub: Any, flt: Filter, limit: int) -> list[Item]:
    start = (sub.next_ms, sub.next_seq)
    items = await deps.window.read(deps.redis, start, limit, deps.on_invalid)
    if not deps.window.holds(start) and (not items or items[0].pos > start):
        # Read from Redis, and the first entry is not the cursor's: said when the retention may have dropped
        # entries this subscription had not read (it fell that far behind; a failing one keeps rows instead).
        resume = await trimmed_past(deps.redis, start)
        if resume is not None:
            log.warning(
                "subscription fell behind the public stream's retention: entries it had not read may be trimmed",
                subscription=sub.id,
                cursor=f"{start[0]}-{start[1]}",
                stream_holds_from=f"{resume[0]}-{resume[1]}",
            )
            if not items:  # nothing left to read: the cursor moves to where the stream starts again
                await record_stream(deps, sub, resume, release=False)
    if flt.region:
        await fill_regions(deps.engine, items)
    return items


async def _nothing(deps: AlertsDeps, sub: Any) -> Served:
    """Nothing to read from the cursor: released; idle when the stream's head said otherwise."""
    await release(deps, [sub.id])
    return Served(0, False, idle=not deps.window.holds((sub.next_ms, sub.next_seq)))


async def serve(deps: AlertsDeps, sub: Any, rows: Sequence[Any], lease_until: dt.datetime) -> Served:
    """Serve a leased subscription once (see the module's docstring)."""
    lease = _Lease(deps, sub.id, lease_until)
    went = 0
    if rows:
        if rows[0].next_attempt_at > utcnow():
            return await _keep_new(deps, sub, "pending")  # blocked behind a retry
        went, finished = await _send_rows(deps, sub, rows, lease)
        if not finished or len(rows) >= RUN:
            return Served(went, finished)  # a failure or a lost lease: released; a full run: more may wait
    if sub.next_ms is None:  # not given a position yet (services/alerts/positions.py)
        await release(deps, [sub.id])
        return Served(went, False)
    if sub.channel == "apprise" and sub.digest != "none":
        kept = await _keep_new(deps, sub, "digest")
        return Served(went, kept.more, kept.idle)
    served = await _send_stream(deps, sub, lease)
    return Served(went + served.went, served.more, served.idle)


async def _send_rows(deps: AlertsDeps, sub: Any, rows: Sequence[Any], lease: _Lease) -> tuple[int, bool]:
    """Send waiting rows in order while due, until one fails; returns how many went and whether all the due
    ones did (the lease then still held, to go on with the stream)."""
    done: list[tuple[int, send.Sent]] = []
    now = utcnow()
    for row in rows:
        if row.next_attempt_at > now or deps.stopping.is_set():
            await record_rows(deps, sub, done, release=True)
            return len(done), False
        if not await lease.held():
            await record_rows(deps, sub, done, release=False)
            return len(done), False
        result = await send_one(deps, sub, row.event_id, row.payload)
        if not result.ok:
            await record_rows(deps, sub, done, ([row.id], result), release=True)
            return len(done), False
        done.append((row.id, result))
    await record_rows(deps, sub, done, release=False)
    return len(done), True


async def _keep_new(deps: AlertsDeps, sub: Any, status: str) -> Served:
    """Keep what matched on the stream since the cursor as rows (`status`)."""
    if sub.next_ms is None:
        await release(deps, [sub.id])
        return Served(0, False)
    flt = filter_of(sub)
    items = await _read(deps, sub, flt, READ)
    if not items:
        return await _nothing(deps, sub)
    more = len(items) >= READ
    kept = matching(flt, items)
    recorded = await record_stream(deps, sub, following(items[-1].pos), kept=kept, status=status, release=not more)
    return Served(0, more and recorded)


async def _send_stream(deps: AlertsDeps, sub: Any, lease: _Lease) -> Served:
    """Send the matching events after the cursor, in order, and record the run."""
    flt = filter_of(sub)
    items = await _read(deps, sub, flt, READ)
    if not items:
        return await _nothing(deps, sub)
    chosen = matching(flt, items)
    if len(chosen) > RUN:  # the cursor stops after the last one sent: the rest in the next run
        chosen = chosen[:RUN]
        until = following(chosen[-1].pos)
        more = True
    else:
        until = following(items[-1].pos)
        more = len(items) >= READ
    sent = 0
    for at, item in enumerate(chosen):
        if deps.stopping.is_set() or not await lease.held():
            # Record what went (the cursor right after it); the rest is read again by whoever serves next.
            if sent:
                await record_stream(deps, sub, following(chosen[at - 1].pos), sent=sent, release=True)
            else:
                await release(deps, [sub.id])
            return Served(sent, False)
        assert item.event is not None
        result = await send_one(deps, sub, item.event.event_id, item.text)
        if not result.ok:
            await record_stream(deps, sub, until, sent=sent, kept=chosen[at:], failed=result, release=True)
            return Served(sent, False)
        sent += 1
    recorded = await record_stream(deps, sub, until, sent=sent, release=not more)
    return Served(sent, more and recorded)

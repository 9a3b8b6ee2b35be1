"""The dispatcher: up to `MINUTES_ALERTS_CONCURRENCY` subscriptions served at once, each on its own.

There are no passes: whenever a slot is free and there may be work (entries arrived, a served subscription
finished, or `MINUTES_ALERTS_POLL_S` passed: retries come due, another worker's changes), the dispatcher
claims subscriptions with work (services/alerts/delivery.py) and starts one task per subscription
(services/alerts/serve.py). A slow or failing endpoint holds its own slot for at most one delivery's deadline
at a time and delays nobody else; its retries follow its own backoff whatever the others do. A task that
raises (the database or Redis away) leaves its subscription resting for `MINUTES_ALERTS_BACKOFF_INITIAL_S`
before it is claimed again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from services.alerts.delivery import any_enabled, claim, lease_s, release, waiting_runs
from services.alerts.deps import AlertsDeps
from services.alerts.serve import Served, serve
from services.alerts.window import Position, follow, position
from services.store.db import is_db_unavailable
from shared import streams
from shared.consume import OutageGate, redis_outage
from shared.contracts.events import utcnow
from shared.logging import get_logger
from shared.stream_worker import newest_id

log = get_logger(__name__)


async def _head(deps: AlertsDeps) -> Position | None:
    """The newest entry of the public stream: the follower's, or Redis's before the follower started."""
    head = deps.window.head
    if head is not None:
        return head
    newest = await newest_id(deps.redis, streams.DECISIONS)
    return position(newest) if newest else None


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:300]}"


class Dispatcher:
    """The running subscriptions of one worker, and those resting after an error."""

    def __init__(self, deps: AlertsDeps) -> None:
        self.deps = deps
        self.running: dict[asyncio.Task[Served], str] = {}
        self.again: list[str] = []  # leased, served a full run: serve again at once
        self.resting: dict[str, float] = {}  # subscription -> monotonic time it may be claimed again
        self.gate = OutageGate("alerts-deliveries")
        self.sent = 0
        # No enabled subscription at the last look (then the entries that wake the dispatcher are not worth
        # a claim each; a subscription added meanwhile is seen at the next look, within `alerts_poll_s`, and
        # loses nothing: it reads from when it was created).
        self.none_enabled = False
        self.looked_at = 0.0

    async def start_some(self) -> None:
        """Claim subscriptions with work for the free slots, and start serving them."""
        deps = self.deps
        now = time.monotonic()
        self.resting = {sid: t for sid, t in self.resting.items() if t > now}
        free = deps.settings.alerts_concurrency - len(self.running)
        ids, self.again = self.again[:free], self.again[free:]
        wanted = free - len(ids)
        look = now - self.looked_at >= deps.settings.alerts_poll_s
        if wanted > 0 and (look or not self.none_enabled):
            busy = [*self.running.values(), *self.resting, *ids, *self.again]
            claimed = await claim(deps, wanted, await _head(deps), busy)
            if claimed:
                self.none_enabled = False
            elif look:
                self.none_enabled = not await any_enabled(deps)
                self.looked_at = now
            ids += claimed
        if not ids:
            return
        lease_until = utcnow() + dt.timedelta(seconds=lease_s(deps))
        runs = await waiting_runs(deps, ids)
        await release(deps, [i for i in ids if i not in runs])  # disabled or removed meanwhile
        for sid, (sub, rows) in runs.items():
            task = asyncio.create_task(serve(deps, sub, rows, lease_until), name=f"alerts-{sid}")
            self.running[task] = sid

    def finished(self, task: asyncio.Task[Served]) -> None:
        sid = self.running.pop(task)
        try:
            served = task.result()
        except Exception as exc:
            # Its lease expires (or is taken again by this worker after the rest); its rows and cursor wait.
            self.resting[sid] = time.monotonic() + self.deps.settings.alerts_backoff_initial_s
            log.warning("serving a subscription failed; retrying later", subscription=sid, error=_short(exc))
            return
        self.sent += served.went
        if served.more:
            self.again.append(sid)
        elif served.idle:  # the head said there was more than it found: not claimed again at once
            self.resting[sid] = time.monotonic() + self.deps.settings.alerts_poll_s

    async def run(self) -> None:
        """Serve until `deps.stopping` is set, then let the subscriptions in flight finish their send."""
        deps = self.deps
        while True:
            if deps.stopping.is_set():
                await release(deps, self.again)
                self.again = []
                if not self.running:
                    return
            else:
                deps.work.clear()  # set again by anything that arrives while claiming: not missed
                try:
                    await self.start_some()
                    self.gate.up()
                except Exception as exc:
                    if not (is_db_unavailable(exc) or redis_outage(exc)):
                        raise
                    await self.gate.wait(exc, deps.stopping)
                    continue
            waker = asyncio.ensure_future(deps.work.wait())
            try:
                done, _ = await asyncio.wait(
                    [*self.running, waker], timeout=deps.settings.alerts_poll_s, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                waker.cancel()
            for task in done:
                if task is not waker:
                    self.finished(task)  # type: ignore[arg-type]

    async def cancel(self) -> None:
        for task in self.running:
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
        self.running.clear()


async def _follow(deps: AlertsDeps) -> None:
    """The follower, started again after a failure that is not an outage (a bug: said); meanwhile the
    window holds nothing, so subscriptions read from Redis and none waits on entries it never got."""
    while not deps.stopping.is_set():
        try:
            await follow(deps.redis, deps.window, deps.work, deps.stopping, deps.on_invalid)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            deps.window.reset(None)
            log.exception("following the public stream failed; starting again", error=_short(exc))
            await asyncio.sleep(deps.settings.alerts_poll_s)


async def delivery_loop(deps: AlertsDeps) -> None:
    """The worker's deliveries: the follower of the public stream and the dispatcher, until `deps.stopping`
    is set (then each subscription in flight finishes its send and records it)."""
    follower = asyncio.create_task(_follow(deps), name="alerts-follow")
    dispatcher = Dispatcher(deps)
    try:
        while True:
            try:
                await dispatcher.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug must not end the deliveries: said, and the loop goes on
                log.exception("alerts dispatcher failed; going on", error=_short(exc))
                await asyncio.sleep(deps.settings.alerts_poll_s)
    finally:
        await dispatcher.cancel()
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)

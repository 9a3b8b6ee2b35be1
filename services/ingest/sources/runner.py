"""Polling the sources: once (`minutes sources poll`), or on an interval inside the ingest service.

Each source is due at its `next_poll_at`: after a good poll the interval (MINUTES_SOURCES_POLL_S) plus up to
10% jitter, so many followers do not hit a portal in step; after a failed one a backoff that starts at
MINUTES_SOURCES_RETRY_S, doubles, is capped at the interval and is never shorter than the server's
Retry-After. A source's state changes (failing, failing differently, recovered) are logged once each, not
on every retry; `sources list` and `minutes check` show the state in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from services.ingest.handlers import IngestDeps
from services.ingest.sources import state
from services.ingest.sources.client import PoliteClient
from services.ingest.sources.poller import PollResult, Progress, poll_source
from shared.contracts.events import utcnow
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

JITTER = 0.1


def next_values(source: state.Source, result: PollResult, settings: Settings, now: dt.datetime) -> dict[str, Any]:
    """The source's stored state after a poll: when it is next due, and its error (kept with its start time)."""
    jitter = 1 + random.uniform(0, JITTER)
    if result.error is None:
        return {
            "last_poll_at": now, "last_ok_at": now, "error": None, "error_since": None, "failures": 0,
            "next_poll_at": now + dt.timedelta(seconds=settings.sources_poll_s * jitter),
        }
    failures = source.failures + 1
    delay = min(settings.sources_poll_s, settings.sources_retry_s * 2 ** min(failures - 1, 20))
    if result.retry_after_s is not None:
        delay = max(delay, result.retry_after_s)
    return {
        "last_poll_at": now, "error": result.error, "failures": failures,
        "error_since": source.error_since if source.error else now,
        "next_poll_at": now + dt.timedelta(seconds=delay * jitter),
        # Listed again in full next time: the meetings this poll did not reach must not hide behind a 304.
        "list_etag": None, "list_last_modified": None,
    }


def _say_state_change(source: state.Source, result: PollResult) -> None:
    if result.error is not None and result.error != source.error:
        log.warning("source failing; will retry", source=source.name, url=source.url, error=result.error,
                    before=source.error)
    elif result.error is None and source.error is not None:
        log.info("source recovered", source=source.name, url=source.url, was=source.error)


async def poll_sources(
    settings: Settings,
    engine: AsyncEngine,
    deps: IngestDeps,
    client: PoliteClient,
    *,
    name: str | None = None,
    due_only: bool = True,
    since: dt.date | None = None,
    progress: Progress | None = None,
    on_busy: Callable[[str], None] | None = None,
) -> dict[str, PollResult]:
    """Poll every source (or the named one) this process can take the lease of; the result of each polled."""
    out: dict[str, PollResult] = {}
    targets = [await state.get_source(engine, name)] if name else await state.list_sources(engine)
    for source in targets:
        if not await state.claim(engine, source.name, due_only=due_only):
            if on_busy and not due_only:
                on_busy(source.name)
            continue
        try:
            # Re-read under the lease: another poller may have just finished it.
            source = await state.get_source(engine, source.name)
            result = await poll_source(source, client, deps, engine, since=since, progress=progress)
            _say_state_change(source, result)
            await state.release(engine, source.name, **next_values(source, result, settings, utcnow()))
        except BaseException:
            with contextlib.suppress(Exception):
                await state.release(engine, source.name)
            raise
        out[source.name] = result
        if result.fetched:
            log.info("source polled", source=source.name, listed=result.listed, fetched=result.fetched,
                     published=result.published, not_modified=result.not_modified)
    return out


class SourcesLoop:
    """The ingest service's background polling: looks for due sources every few seconds."""

    def __init__(self, settings: Settings, deps: IngestDeps) -> None:
        self.settings = settings
        self.deps = deps
        self.stopped = asyncio.Event()
        self.check_s = min(5.0, settings.sources_poll_s)
        self._problem: str | None = None

    def _database_exists(self) -> bool:
        """An ingest run without a store has no SQLite file: then there are no sources, and none is created."""
        return bool(self.settings.database_url) or self.settings.sqlite_path.is_file()

    def stop(self) -> None:
        """Stop after the request in hand."""
        self.stopped.set()

    async def run(self) -> None:
        """Poll due sources until stopped; a database or Redis that fails is said once and retried."""
        from services.store.db import create_engine

        engine = create_engine(self.settings.effective_database_url)
        backoff = self.check_s
        try:
            async with PoliteClient(self.settings) as client:
                while not self.stopped.is_set():
                    try:
                        if self._database_exists():
                            await poll_sources(self.settings, engine, self.deps, client)
                    except Exception as exc:
                        problem = f"{type(exc).__name__}: {str(exc)[:300]}"
                        if problem != self._problem:
                            log.warning("sources not polled; will retry", error=problem)
                        self._problem = problem
                        backoff = min(backoff * 2, 60.0)
                    else:
                        if self._problem is not None:
                            log.info("sources polled again")
                        self._problem = None
                        backoff = self.check_s
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.stopped.wait(), backoff)
        finally:
            await engine.dispose()

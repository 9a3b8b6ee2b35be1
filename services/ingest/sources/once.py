"""A poll outside the ingest service (`minutes sources poll` and `backfill`): same deps, same events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from redis.asyncio import Redis

from services.ingest.bootstrap import bootstrap, build_broker
from services.ingest.sources import state
from services.ingest.sources.client import PoliteClient
from services.ingest.sources.poller import PollResult, Progress
from services.ingest.sources.runner import poll_sources
from shared.blobs import BlobStore
from shared.broker import ensure_groups, resolve_redis_url
from shared.settings import Settings


async def poll_now(
    settings: Settings,
    name: str | None = None,
    *,
    since: dt.date | None = None,
    progress: Progress | None = None,
    on_busy: Callable[[str], None] | None = None,
    blobs: BlobStore | None = None,
) -> dict[str, PollResult]:
    """Poll the named source (or every one) now, due or not; `since` first moves the source's since-date."""
    from services.store.db import create_engine

    engine = create_engine(settings.effective_database_url)
    redis_url = resolve_redis_url(settings)
    broker, publisher = build_broker(redis_url)
    client = Redis.from_url(redis_url)
    try:
        if name is not None:
            await state.get_source(engine, name)  # SourceError before anything connects
            if since is not None:
                await state.update_source(engine, name, since=since)
        async with broker:
            await ensure_groups(client)
            deps = bootstrap(settings, redis=client, publisher=publisher, blobs=blobs, watch_inbox=False)
            async with PoliteClient(settings) as http:
                return await poll_sources(
                    settings, engine, deps, http, name=name, due_only=False, progress=progress, on_busy=on_busy
                )
    finally:
        await client.aclose()
        await engine.dispose()

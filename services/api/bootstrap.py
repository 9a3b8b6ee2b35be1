"""The API's one bootstrap shape (docs/services.md): `bootstrap` wires the dependencies (engine, blob store; no
I/O, tests pass their own through it), `start` has nothing to start (the engine connects on the first
request, the live hub on the first stream), `close` releases what `bootstrap` created.

Exports read through an engine of their own (`export_engine`, a pool of `MINUTES_API_MAX_EXPORTS`
connections, one per running export, bounded by `export_slots`), so a list or a search never waits for a
connection an export holds."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api.hub import Hub
from services.api.limits import AfterBurst, Slots
from services.store.db import create_engine
from shared.blobs import BlobStore, open_blob_store
from shared.settings import Settings


@dataclass
class ApiDeps:
    """Everything a request handler needs."""

    settings: Settings
    engine: AsyncEngine
    blobs: BlobStore
    owns_engine: bool = True
    # Exports only: as many connections as exports may run, so a running export never waits for one.
    export_engine: AsyncEngine | None = None
    export_slots: Slots = field(default_factory=lambda: Slots("exports", 1, 10))
    stream_slots: Slots = field(default_factory=lambda: Slots("live streams", 1, 10))
    # The live streams' one Redis reader, made on the first stream (services/api/hub.py).
    hub: Hub | None = None

    @property
    def exports(self) -> AsyncEngine:
        """The engine exports read through."""
        return self.export_engine or self.engine


def bootstrap(settings: Settings, *, engine: AsyncEngine | None = None, blobs: BlobStore | None = None) -> ApiDeps:
    """Create (or adopt) the engine and blob store; nothing connects until the first request. An adopted
    engine serves exports too (the caller owns its pool)."""
    limit = settings.api_max_exports
    return ApiDeps(
        settings=settings,
        engine=engine or create_engine(settings.effective_database_url),
        blobs=blobs or open_blob_store(settings),
        owns_engine=engine is None,
        # pool_timeout is a safety net only: the slots keep demand within the pool.
        export_engine=None if engine is not None else _export_engine(settings.effective_database_url, limit),
        export_slots=Slots("exports", limit, settings.api_retry_after_s),
        stream_slots=Slots(
            "live streams", settings.api_max_streams, settings.api_retry_after_s, after_burst=AfterBurst("live streams")
        ),
    )


def _export_engine(url: str, limit: int) -> AsyncEngine | None:
    """A pool of `limit` connections for exports; None for an in-memory SQLite (one shared connection)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return None
    # pool_timeout is a safety net only: the export slots keep demand within the pool.
    return create_engine(url, pool_size=limit, max_overflow=0, pool_timeout=5)


def deps_of(request: Request) -> ApiDeps:
    """The dependencies the app started with (`create_app` keeps them on `app.state`)."""
    deps: ApiDeps = request.app.state.deps
    return deps


async def app_deps(request: Request) -> ApiDeps:
    """`deps_of` as a FastAPI dependency. Dependencies are `async` even when they never await: FastAPI runs
    a plain `def` one in a worker thread, so every request paid a thread hop and a burst of 1,000 SSE clients
    left anyio's 40 worker threads (each with a malloc arena of its own) idle in the process for good."""
    return deps_of(request)


async def start(deps: ApiDeps) -> None:
    """Nothing to start: the engine connects on the first request (readiness, /readyz, says when it cannot),
    so the page answers even while the database is away."""


async def close(deps: ApiDeps) -> None:
    """Release what `bootstrap` created."""
    if deps.hub is not None:
        await deps.hub.close()
        deps.hub = None
    if deps.export_engine is not None:
        await deps.export_engine.dispose()
    if deps.owns_engine:
        await deps.engine.dispose()

"""The API's one bootstrap shape (docs/services.md): `bootstrap` wires the dependencies (engine, blob store; no
I/O, tests pass their own through it), `start` has nothing to start (the engine connects on the first
request), `close` releases what `bootstrap` created."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

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


def bootstrap(settings: Settings, *, engine: AsyncEngine | None = None, blobs: BlobStore | None = None) -> ApiDeps:
    """Create (or adopt) the engine and blob store; nothing connects until the first request."""
    return ApiDeps(
        settings=settings,
        engine=engine or create_engine(settings.effective_database_url),
        blobs=blobs or open_blob_store(settings),
        owns_engine=engine is None,
    )


def deps_of(request: Request) -> ApiDeps:
    """The dependencies the app started with (`create_app` keeps them on `app.state`)."""
    deps: ApiDeps = request.app.state.deps
    return deps


async def start(deps: ApiDeps) -> None:
    """Nothing to start: the engine connects on the first request (readiness, /readyz, says when it cannot),
    so the page answers even while the database is away."""


async def close(deps: ApiDeps) -> None:
    """Release what `bootstrap` created."""
    if deps.owns_engine:
        await deps.engine.dispose()

"""The ingest service as a FastStream app: the inbox watcher runs as a background task of the broker's app."""

from __future__ import annotations

import logging

from faststream import FastStream
from faststream.specification import AsyncAPI

from services.ingest import bootstrap
from services.ingest.handlers import IngestDeps
from shared.settings import Settings, get_settings


def create_app(settings: Settings | None = None, deps: IngestDeps | None = None) -> FastStream:
    """The ingest app; nothing connects until it starts (`faststream run --factory ...:create_app`). Pass
    `deps` (from `bootstrap.bootstrap`, with its broker) to use your own client or blob store (tests)."""
    settings = settings or get_settings()
    deps = deps or bootstrap.bootstrap(settings)
    assert deps.broker is not None, "the app runs the broker its deps publish with"

    async def start() -> None:
        await bootstrap.start(deps)

    async def close() -> None:
        await bootstrap.close(deps)

    return FastStream(
        deps.broker,
        logger=logging.getLogger("minutes.ingest"),
        after_startup=[start],
        on_shutdown=[close],
        specification=AsyncAPI(
            title="minutes ingest",
            version="1.0.0",
            description="Watches the inbox and publishes one DocumentReceived per new document (sha256).",
        ),
    )

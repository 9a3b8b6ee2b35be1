"""The alerts worker: reads the public decisions stream (a cursor per subscription), delivers matching events.

Run: `minutes service alerts`, or `faststream run services.alerts.app:create_app --factory`.
"""

from __future__ import annotations

import logging

from faststream import FastStream
from faststream.specification import AsyncAPI

from services.alerts import bootstrap
from services.alerts.worker import AlertsDeps
from shared import streams
from shared.broker import document_reader, make_broker, resolve_redis_url
from shared.dead_letter import declare_dead_letter_publisher
from shared.settings import Settings, get_settings

VERSION = "0.1.0"


def create_app(settings: Settings | None = None, deps: AlertsDeps | None = None) -> FastStream:
    """The alerts app; pass `deps` (from `bootstrap.bootstrap`) to use your own engine / Redis client (tests)."""
    settings = settings or get_settings()
    deps = deps or bootstrap.bootstrap(settings)
    broker = make_broker(resolve_redis_url(settings), "alerts")

    # The AsyncAPI document: what the worker reads (with the stream worker) and writes.
    docs = make_broker(resolve_redis_url(settings), "alerts")
    document_reader(
        docs, streams.DECISIONS, None, deps.consumer, batch=settings.batch_size,
        title="alerts/decisions",
        description="Public DecisionMade and DecisionRevised events, matched against the subscriptions; "
        "read without a group: each subscription keeps its own cursor (services/alerts/window.py).",
    )
    declare_dead_letter_publisher(docs)

    async def start() -> None:
        await bootstrap.start(deps)

    async def close() -> None:
        await bootstrap.close(deps)

    return FastStream(
        broker,
        logger=logging.getLogger("minutes.alerts"),
        after_startup=[start],
        on_shutdown=[close],
        specification=AsyncAPI(
            docs,
            title="minutes alerts",
            version=VERSION,
            description=f"Reads {streams.DECISIONS} (a cursor per subscription) and delivers matching "
            "decisions to webhooks (Standard Webhooks) and Apprise notifications.",
        ),
    )

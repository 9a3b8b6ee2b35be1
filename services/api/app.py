"""The read API and web page as an ASGI app (FastAPI); `minutes service api` serves it with uvicorn.

Run: `minutes service api`, or `uvicorn services.api.app:factory --factory`. Nothing connects at import or
when the app is built: `bootstrap` wires the engine and blob store without I/O (tests pass their own through
it), the lifespan runs `start` and `close`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.api import (
    apidocs,
    bootstrap,
    errors,
    feeds,
    live,
    oparl_routes,
    overview_web,
    rejections,
    routes_api,
    sources_routes,
    subscriptions_routes,
    web,
)
from services.api.guard import Guard
from shared.settings import Settings, get_settings

VERSION = "1.0.0"
TITLE = "minutes read API"
OPENAPI_URL = "/openapi.json"


def create_app(settings: Settings | None = None, deps: bootstrap.ApiDeps | None = None) -> FastAPI:
    """The app; pass `deps` (from `bootstrap.bootstrap`) to use your own engine or blob store (tests).
    Read-only: GET and HEAD only."""
    settings = settings or get_settings()
    deps = deps or bootstrap.bootstrap(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.deps = deps
        await bootstrap.start(deps)
        try:
            yield
        finally:
            await bootstrap.close(deps)

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description="Decisions of Danish municipal and regional committees, parsed from their minutes: search, "
        "meetings, cases, and the original documents with their provenance. Read-only. "
        "The web page is at `/`.",
        lifespan=lifespan,
        docs_url=None,  # /docs is services/api/apidocs.py: Swagger UI vendored, not from a CDN
        redoc_url=None,
        openapi_url=OPENAPI_URL,
    )
    errors.install(app, web.render_error)
    app.include_router(live.router)  # before routes_api: /api/v1/decisions/stream is not a decision
    app.include_router(routes_api.router)
    app.include_router(feeds.router)
    app.include_router(oparl_routes.router)
    app.include_router(subscriptions_routes.router)
    app.include_router(sources_routes.router)
    app.include_router(rejections.router)
    app.include_router(overview_web.router)
    app.include_router(web.router)
    app.include_router(apidocs.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")

    # Outermost: oversized or writing requests are refused before anything else runs.
    app.add_middleware(Guard, max_bytes=settings.api_max_request_bytes, render_error=web.render_error)
    return app


def factory() -> FastAPI:
    """For `uvicorn --factory`: the app on the process's settings."""
    return create_app(get_settings())

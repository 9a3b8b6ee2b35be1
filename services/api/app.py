"""The read API and web page as an ASGI app (FastAPI); `minutes service api` serves it with uvicorn.

Run: `minutes service api`, or `uvicorn services.api.app:factory --factory`. Nothing connects at import or
when the app is built: the engine and blob store are created on start-up (lifespan), or passed in (tests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine

from services.api import bootstrap, errors, routes_api, web
from services.api.limits import RequestLimits
from shared.blobs import BlobStore
from shared.settings import Settings, get_settings

VERSION = "1.0.0"

# The page loads only its own scripts and styles (htmx is vendored); nothing may frame it.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# Swagger UI at /docs loads its assets from a CDN and runs an inline script: only there is that allowed.
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'"
)


def create_app(
    settings: Settings | None = None, *, engine: AsyncEngine | None = None, blobs: BlobStore | None = None
) -> FastAPI:
    """The app; pass `engine` / `blobs` to use your own (tests). Read-only: GET and HEAD only."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        deps = bootstrap.build_deps(settings, engine=engine, blobs=blobs)
        app.state.deps = deps
        try:
            yield
        finally:
            await bootstrap.close(deps)

    app = FastAPI(
        title="minutes read API",
        version=VERSION,
        description="Decisions of Danish municipal and regional committees, parsed from their minutes: search, "
        "meetings, cases, and the original documents with their provenance. Read-only. "
        "The web page is at `/`.",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    errors.install(app, web.render_error)
    app.include_router(routes_api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next: object) -> Response:
        response: Response = await call_next(request)  # type: ignore[operator]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.headers.get("content-type", "").startswith("text/html"):
            docs = request.url.path.startswith("/docs")
            response.headers.setdefault("Content-Security-Policy", _DOCS_CSP if docs else _CSP)
        return response

    # Outermost: oversized or writing requests are refused before anything else runs.
    app.add_middleware(RequestLimits, max_bytes=settings.api_max_request_bytes)
    return app


def factory() -> FastAPI:
    """For `uvicorn --factory`: the app on the process's settings."""
    return create_app(get_settings())

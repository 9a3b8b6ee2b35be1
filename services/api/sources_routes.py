"""Sources over HTTP: `/api/v1/sources` — the agenda portals ingest follows (`minutes sources`).

Reads are open (a source is a public portal's address and its state); writes need the bearer token of
`MINUTES_API_TOKEN`, checked as for subscriptions. A poll asked for here is done by the ingest service: the
source is made due now and ingest's loop takes it within a few seconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from services.api.bootstrap import ApiDeps, app_deps
from services.api.errors import ApiError
from services.api.subscriptions_routes import require_token
from services.ingest.sources import state
from services.ingest.sources.poller import check_source_url
from services.ingest.sources.types import TYPES
from shared.contracts.events import utcnow
from shared.urlsafety import UrlRefused

router = APIRouter(prefix="/api/v1/sources", tags=["sources"])
Authorized = Annotated[ApiDeps, Depends(require_token)]
ERRORS: dict[int | str, dict[str, object]] = {
    400: {"description": "Bad source (the message says why)"},
    401: {"description": "Missing or wrong bearer token"},
    403: {"description": "No MINUTES_API_TOKEN configured"},
    404: {"description": "No such source"},
}


class SourceSpec(BaseModel):
    """A portal to follow."""

    type: str = Field(description="Portal system: firstagenda.")
    url: str = Field(description="The portal's address, e.g. https://dagsordener.greve.dk")
    name: str | None = Field(default=None, max_length=100, description="Default: the portal's host.")
    municipality: str | None = Field(default=None, max_length=100)
    committees: list[str] = Field(default_factory=list, description="Follow only committees whose name contains one.")
    since: dt.date | None = Field(default=None, description="Only meetings on or after this date.")


@router.get("", responses=ERRORS)
async def list_sources(deps: Annotated[ApiDeps, Depends(app_deps)]) -> list[dict[str, Any]]:
    """Every source with its state: last poll, meetings seen, the error it is in and since when."""
    return [source.as_json() for source in await state.list_sources(deps.engine)]


@router.post("", status_code=201, responses=ERRORS)
async def add_source(spec: SourceSpec, deps: Authorized) -> dict[str, Any]:
    """Follow a portal; ingest polls it within seconds and then every MINUTES_SOURCES_POLL_S."""
    if spec.type not in TYPES:
        raise ApiError(400, f"unknown source type {spec.type!r}; known: {', '.join(TYPES)}")
    try:
        await check_source_url(spec.url, allow_private=deps.settings.allow_private_urls)
    except UrlRefused as exc:
        raise ApiError(400, f"source refused: {exc}") from None
    source = state.Source(
        name=spec.name or urlsplit(spec.url).netloc, type=spec.type, url=spec.url.rstrip("/"),
        municipality=spec.municipality, committees=tuple(spec.committees), since=spec.since,
    )
    try:
        await state.add_source(deps.engine, source)
    except state.SourceError as exc:
        raise ApiError(400, str(exc)) from None
    return (await state.get_source(deps.engine, source.name)).as_json()


@router.delete("/{name}", status_code=204, response_class=Response, responses=ERRORS)
async def remove_source(name: str, deps: Authorized) -> Response:
    """Stop following a source (what it brought stays stored)."""
    try:
        await state.remove_source(deps.engine, name)
    except state.SourceError:
        raise ApiError(404, "no source with this name") from None
    return Response(status_code=204)


@router.post("/{name}/poll", status_code=202, responses=ERRORS)
async def poll_source(name: str, deps: Authorized) -> dict[str, Any]:
    """Make the source due now: the ingest service polls it within a few seconds."""
    try:
        await state.get_source(deps.engine, name)
    except state.SourceError:
        raise ApiError(404, "no source with this name") from None
    await state.update_source(deps.engine, name, next_poll_at=utcnow())
    return {"name": name, "due": "now"}

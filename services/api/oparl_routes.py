"""OParl 1.1 endpoints under /oparl/v1: every object id the `oparl` export prints is served here, read-only.

The objects are built by the export's own mapping (services/store/exports/oparl.py), so an id fetched here is
the object the export embedded; standalone objects add only their back-reference (an AgendaItem's `meeting`,
a File's and a Location's meetings). Lists follow OParl's object lists: `data`, `pagination` and `links`
with `next` until the last page (keyset cursors, so no meeting is lost or repeated while new ones arrive).
Unknown ids are 404s as JSON, like the rest of the API.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.api.bootstrap import ApiDeps
from services.api.errors import ApiError
from services.api.routes_api import ERRORS, Cursor, Deps, Limit, page_limit
from services.readmodel import meetings, oparl
from services.readmodel.cursor import CursorError
from services.readmodel.results import MeetingDetail
from services.store.exports.oparl import (
    MeetingHead,
    OParlUrls,
    agenda_item_object,
    body_object,
    file_object,
    location_object,
    meeting_object,
    organization_object,
    slug,
    system_object,
)

router = APIRouter(prefix="/oparl/v1", tags=["oparl"])
_DOCUMENT_ID = re.compile(r"^[0-9a-f]{64}$")
_ITEM_ID = re.compile(r"^(?P<doc>[0-9a-f]{64})-(?P<pos>\d{1,6})$")
_MEDIA = "application/json"


def _urls(deps: ApiDeps) -> OParlUrls:
    return OParlUrls(deps.settings.public_api_url)


def _json(obj: dict[str, Any]) -> JSONResponse:
    return JSONResponse(obj, media_type=_MEDIA)


def _list(data: list[dict[str, Any]], *, total: int, per_page: int, self_url: str, next_url: str | None,
          first_url: str) -> JSONResponse:  # fmt: skip
    links = {"first": first_url, "self": self_url}
    if next_url is not None:
        links["next"] = next_url
    pagination = {"totalElements": total, "elementsPerPage": per_page}
    return _json({"data": data, "pagination": pagination, "links": links})


def _one_page(data: list[dict[str, Any]], url: str) -> JSONResponse:
    """A list that is always one page (bodies, committees, and the empty person and paper lists)."""
    return _list(data, total=len(data), per_page=max(len(data), 1), self_url=url, next_url=None, first_url=url)


async def _body(deps: ApiDeps, body: str) -> oparl.Body:
    found = await oparl.body(deps.engine, body)
    if found is None:
        raise ApiError(404, "no OParl body with this id")
    return found


async def _meeting(deps: ApiDeps, document_id: str) -> MeetingDetail:
    # Any other id is simply not one of ours: a 404, not a 400 (OParl clients follow ids, they do not build them).
    found = await meetings.get_meeting(deps.engine, document_id) if _DOCUMENT_ID.match(document_id) else None
    if found is None or not found.complete:  # an incomplete meeting is in no export yet
        raise ApiError(404, "no OParl meeting with this id")
    return found


def _meeting_object(urls: OParlUrls, meeting: MeetingDetail) -> dict[str, Any]:
    return meeting_object(urls, MeetingHead.of_detail(meeting), meeting.items)


@router.get("/system", responses=ERRORS)
async def get_system(deps: Deps) -> JSONResponse:
    """The OParl System: the entry point, naming the list of bodies (municipalities and regions)."""
    return _json(system_object(_urls(deps)))


@router.get("/body", responses=ERRORS)
async def list_bodies(deps: Deps) -> JSONResponse:
    """Every municipality or region with a stored meeting, as OParl Bodies (one page)."""
    urls = _urls(deps)
    data = [
        body_object(urls, b.first.municipality, b.first.region, b.first.municipality_code)
        for b in await oparl.bodies(deps.engine)
    ]
    return _one_page(data, urls.bodies())


@router.get("/body/{body}", responses=ERRORS)
async def get_body(body: str, deps: Deps) -> JSONResponse:
    """One municipality or region as an OParl Body, with the URLs of its lists."""
    found = await _body(deps, body)
    return _json(body_object(_urls(deps), found.first.municipality, found.first.region, found.first.municipality_code))


@router.get("/body/{body}/organization", responses=ERRORS)
async def list_organizations(body: str, deps: Deps) -> JSONResponse:
    """The body's committees as OParl Organizations (one page)."""
    found = await _body(deps, body)
    urls = _urls(deps)
    name = found.first
    data = [
        organization_object(urls, name.municipality, name.region, committee)
        for committee in await oparl.committees(deps.engine, found)
    ]
    return _one_page(data, urls.body_list(name.municipality, name.region, "organization"))


@router.get("/body/{body}/organization/{organization}", responses=ERRORS)
async def get_organization(body: str, organization: str, deps: Deps) -> JSONResponse:
    """One committee of the body as an OParl Organization."""
    found = await _body(deps, body)
    committee = next((c for c in await oparl.committees(deps.engine, found) if slug(c) == organization), None)
    if committee is None:
        raise ApiError(404, "no OParl organization with this id")
    return _json(organization_object(_urls(deps), found.first.municipality, found.first.region, committee))


@router.get("/body/{body}/meeting", responses=ERRORS)
async def list_body_meetings(body: str, deps: Deps, cursor: Cursor = None, limit: Limit = None) -> JSONResponse:
    """The body's current meetings, newest first, each with its agenda items embedded; follow `links.next`."""
    found = await _body(deps, body)
    urls = _urls(deps)
    size = page_limit(deps, limit)
    try:
        ids, nxt = await oparl.meeting_ids(deps.engine, found, cursor=cursor, limit=size)
    except CursorError:
        raise ApiError(400, "cursor: not a cursor of this list (start again without it)") from None
    data = []
    for document_id in ids:
        meeting = await meetings.get_meeting(deps.engine, document_id)
        if meeting is not None:  # deleted between the two reads: nothing to describe it with
            data.append(_meeting_object(urls, meeting))
    base = urls.body_list(found.first.municipality, found.first.region, "meeting")

    def at(cur: str | None) -> str:
        return f"{base}?{urlencode({'limit': size, **({'cursor': cur} if cur else {})})}"

    total = await oparl.count_body_meetings(deps.engine, found)
    return _list(data, total=total, per_page=size, self_url=at(cursor), next_url=at(nxt) if nxt else None,
                 first_url=at(None))  # fmt: skip


@router.get("/body/{body}/person", responses=ERRORS)
async def list_persons(body: str, deps: Deps) -> JSONResponse:
    """Empty: the store keeps participants' names on the meetings (`minutes:participants`), not as Persons."""
    found = await _body(deps, body)
    return _one_page([], _urls(deps).body_list(found.first.municipality, found.first.region, "person"))


@router.get("/body/{body}/paper", responses=ERRORS)
async def list_papers(body: str, deps: Deps) -> JSONResponse:
    """Empty: the store has no papers (Drucksachen), only the meetings' documents (Files)."""
    found = await _body(deps, body)
    return _one_page([], _urls(deps).body_list(found.first.municipality, found.first.region, "paper"))


@router.get("/meeting/{document_id}", responses=ERRORS)
async def get_meeting(document_id: str, deps: Deps) -> JSONResponse:
    """One stored meeting (any version) as an OParl Meeting with its agenda items embedded."""
    return _json(_meeting_object(_urls(deps), await _meeting(deps, document_id)))


@router.get("/agendaitem/{item_id}", responses=ERRORS)
async def get_agenda_item(item_id: str, deps: Deps) -> JSONResponse:
    """One agenda item as an OParl AgendaItem, naming its meeting."""
    m = _ITEM_ID.match(item_id)
    if m is None:
        raise ApiError(404, "no OParl agenda item with this id")
    meeting = await _meeting(deps, m.group("doc"))
    position = int(m.group("pos"))
    item = next((i for i in meeting.items if i.position == position), None)
    if item is None:
        raise ApiError(404, "no OParl agenda item with this id")
    urls = _urls(deps)
    return _json({**agenda_item_object(urls, item), "meeting": urls.meeting(meeting.document_id)})


@router.get("/file/{document_id}", responses=ERRORS)
async def get_file(document_id: str, deps: Deps) -> JSONResponse:
    """A meeting's source document as an OParl File (404 when the store has no blob to download)."""
    meeting = await _meeting(deps, document_id)
    urls = _urls(deps)
    obj = file_object(urls, meeting.document, meeting_date=meeting.meeting_date)
    if obj is None:
        raise ApiError(404, "no OParl file with this id")
    return _json({**obj, "meeting": [urls.meeting(meeting.document_id)]})


@router.get("/location/{document_id}", responses=ERRORS)
async def get_location(document_id: str, deps: Deps) -> JSONResponse:
    """A meeting's place as an OParl Location (404 when the minutes print none)."""
    meeting = await _meeting(deps, document_id)
    urls = _urls(deps)
    obj = location_object(urls, MeetingHead.of_detail(meeting))
    if obj is None:
        raise ApiError(404, "no OParl location with this id")
    return _json({**obj, "meetings": [urls.meeting(meeting.document_id)]})

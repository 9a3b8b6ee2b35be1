"""Meetings, agenda items and decisions as OParl 1.1 objects (https://oparl.org, the German council-data standard).

The export is one JSON document shaped like an OParl *object list* — what an OParl server answers for
`…/body/1/meeting`: `{"data": [Meeting, …], "pagination": {…}, "links": {}}`, every Meeting with its
AgendaItems embedded (as OParl 1.1 embeds them), all in one page. It is written a meeting at a time.

Mapping (docs/exports.md has the table): a stored document is a `Meeting`; the committee is its
`Organization` (by URL); each item an embedded `AgendaItem` with `public` = not closed, `result` = the
outcome, `resolutionText` = the decision; the source document is the meeting's `resultsProtocol`
(minutes) or `invitation` (agenda), a `File` whose `accessUrl`/`downloadUrl` is the read API's download.
What OParl has no property for (case number, KLE, absent members, PDF page, participants' names) is kept
under the vendor prefix `minutes:`, which OParl allows for extensions.

Ids are URLs under `Settings.public_api_url` + `oparl/v1/`, built only from stored keys (document id,
position, names), so the same row always gets the same id. The read API serves every one of them
(services/api/oparl_routes.py) with the functions below: `system` -> bodies -> a body's committees and its
paginated meetings -> meetings, agenda items, files and places.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from services.readmodel.results import ItemOut, ItemWithMeeting, MeetingDetail, Provenance
from services.store.exports.columns import download_url, iso_datetime

SCHEMA = "https://schema.oparl.org/1.1/"
VENDOR = "minutes:"
# Meeting times are printed in local time; OParl wants an offset.
LOCAL_TZ = ZoneInfo("Europe/Copenhagen")

_DANISH = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "Æ": "ae", "Ø": "oe", "Å": "aa"})


def slug(text: str) -> str:
    """A stable URL path segment for a name: lower case, Danish letters spelled out, `-` between words."""
    folded = unicodedata.normalize("NFKD", text.translate(_DANISH)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-") or "unnamed"


class OParlUrls:
    """The URLs of the exported objects, under `{public_api_url}oparl/v1/`."""

    def __init__(self, public_api_url: str) -> None:
        self.api = public_api_url.rstrip("/") + "/"
        self.base = self.api + "oparl/v1/"

    def system(self) -> str:
        return f"{self.base}system"

    def bodies(self) -> str:
        return f"{self.base}body"

    def meeting(self, document_id: str) -> str:
        return f"{self.base}meeting/{document_id}"

    def agenda_item(self, document_id: str, position: int) -> str:
        return f"{self.base}agendaitem/{document_id}-{position}"

    def file(self, document_id: str) -> str:
        return f"{self.base}file/{document_id}"

    def location(self, document_id: str) -> str:
        return f"{self.base}location/{document_id}"

    def body(self, municipality: str | None, region: str | None) -> str:
        return f"{self.base}body/{slug(municipality or region or 'unknown')}"

    def organization(self, municipality: str | None, region: str | None, committee: str) -> str:
        return f"{self.body(municipality, region)}/organization/{slug(committee)}"

    def body_list(self, municipality: str | None, region: str | None, kind: str) -> str:
        """A body's object list of `kind` (`organization`, `meeting`, `person`, `paper`)."""
        return f"{self.body(municipality, region)}/{kind}"


@dataclass(frozen=True)
class MeetingExtras:
    """What a meeting's OParl object needs beyond its items' rows: the header fields only a meeting has."""

    start_time: str | None
    location: str | None
    participants: tuple[str, ...]


@dataclass(frozen=True)
class MeetingHead:
    """A meeting's header and source document: what `meeting_object` describes besides the items."""

    document_id: str
    kind: str
    municipality: str | None
    municipality_code: int | None
    region: str | None
    committee: str | None
    meeting_date: dt.date | None
    start_time: str | None
    location: str | None
    participants: tuple[str, ...]
    source: Provenance

    @classmethod
    def of_row(cls, row: ItemWithMeeting, extras: MeetingExtras) -> MeetingHead:
        """From an item row of the meeting (`iter_items`) and the meeting's extras."""
        return cls(
            document_id=row.item.document_id, kind=row.kind, municipality=row.municipality,
            municipality_code=row.municipality_code, region=row.region, committee=row.committee,
            meeting_date=row.meeting_date, start_time=extras.start_time, location=extras.location,
            participants=extras.participants, source=row.provenance,
        )

    @classmethod
    def of_detail(cls, meeting: MeetingDetail) -> MeetingHead:
        """From the read model's `get_meeting` (for an endpoint serving one meeting)."""
        return cls(
            document_id=meeting.document_id, kind=meeting.kind, municipality=meeting.municipality,
            municipality_code=meeting.municipality_code, region=meeting.region, committee=meeting.committee,
            meeting_date=meeting.meeting_date, start_time=meeting.start_time, location=meeting.location,
            participants=tuple(meeting.participants), source=meeting.document,
        )


def _start(meeting: MeetingHead) -> str | None:
    # Only with a printed time: a date alone is kept in minutes:meetingDate rather than invent 00:00.
    if meeting.meeting_date is None or not meeting.start_time:
        return None
    try:
        hour, minute = (int(part) for part in meeting.start_time.split(":", 1))
        local = dt.datetime.combine(meeting.meeting_date, dt.time(hour, minute), tzinfo=LOCAL_TZ)
    except ValueError:
        return None
    return local.isoformat()


def file_object(urls: OParlUrls, prov: Provenance, *, meeting_date: dt.date | None) -> dict[str, Any] | None:
    """The source document as an OParl `File`; None when the store has no blob to download."""
    link = download_url(urls.api, prov)
    if link is None:
        return None
    name = prov.original_name.rsplit("/", 1)[-1]
    obj: dict[str, Any] = {
        "id": urls.file(prov.document_id),
        "type": SCHEMA + "File",
        "name": name.rsplit(".", 1)[0] if "." in name else name,
        "fileName": name,
        "accessUrl": link,
        "downloadUrl": link,
        VENDOR + "sha256Checksum": prov.document_id,
    }
    if prov.content_type:
        obj["mimeType"] = prov.content_type
    if prov.size is not None:
        obj["size"] = prov.size
    if meeting_date is not None:
        obj["date"] = meeting_date.isoformat()
    if prov.received_at is not None:
        obj["created"] = iso_datetime(prov.received_at, seconds=True)
    return obj


def agenda_item_object(urls: OParlUrls, item: ItemOut) -> dict[str, Any]:
    """One item as an OParl `AgendaItem` (embedded in its meeting, so without the `meeting` back-reference)."""
    obj: dict[str, Any] = {
        "id": urls.agenda_item(item.document_id, item.position),
        "type": SCHEMA + "AgendaItem",
        "number": str(item.number),
        "name": item.title,
        "public": not item.is_closed,
    }
    if item.outcome is not None:
        obj["result"] = item.outcome.value
    if item.decision_text is not None:
        obj["resolutionText"] = item.decision_text
    vendor: dict[str, Any] = {
        "caseNumber": item.case_number,
        "kle": item.kle,
        "absent": list(item.absent) or None,
        # OParl records votes only as a free `result` text: who voted how is kept whole, as the read API has it.
        "votes": item.votes.model_dump(mode="json") if item.votes is not None else None,
        "attachments": list(item.attachments) or None,
        # The attachments' files on the agenda portal a followed source fetched the meeting from.
        "attachmentLinks": [{"name": r.name, "url": r.url} for r in item.attachment_refs if r.url] or None,
        "page": item.page,
        "decisionEventId": item.event_id,
    }
    obj.update({VENDOR + k: v for k, v in vendor.items() if v is not None})
    return obj


def location_object(urls: OParlUrls, meeting: MeetingHead) -> dict[str, Any] | None:
    """The meeting's place as an OParl `Location` (the text as printed); None when none is printed."""
    if not meeting.location:
        return None
    return {"id": urls.location(meeting.document_id), "type": SCHEMA + "Location", "description": meeting.location}


def meeting_object(urls: OParlUrls, meeting: MeetingHead, items: list[ItemOut]) -> dict[str, Any]:
    """A stored meeting (one document version) with `items` embedded, as an OParl `Meeting`."""
    name = " ".join(p for p in (meeting.committee, meeting.meeting_date and meeting.meeting_date.isoformat()) if p)
    obj: dict[str, Any] = {
        "id": urls.meeting(meeting.document_id),
        "type": SCHEMA + "Meeting",
        "name": name or meeting.source.original_name,
        # OParl's recommended states: minutes are of a held meeting, an agenda is an invitation.
        "meetingState": "durchgeführt" if meeting.kind == "minutes" else "eingeladen",
    }
    start = _start(meeting)
    if start:
        obj["start"] = start
    place = location_object(urls, meeting)
    if place is not None:
        obj["location"] = place
    if meeting.committee:
        obj["organization"] = [urls.organization(meeting.municipality, meeting.region, meeting.committee)]
    source = file_object(urls, meeting.source, meeting_date=meeting.meeting_date)
    if source is not None:
        obj["resultsProtocol" if meeting.kind == "minutes" else "invitation"] = source
    obj["agendaItem"] = [agenda_item_object(urls, item) for item in items]
    obj["created"] = iso_datetime(meeting.source.stored_at, seconds=True)
    vendor: dict[str, Any] = {
        "meetingDate": meeting.meeting_date.isoformat() if meeting.meeting_date else None,
        "municipality": meeting.municipality,
        "committee": meeting.committee,
        "municipalityCode": meeting.municipality_code,
        "region": meeting.region,
        "participants": list(meeting.participants) or None,
        "current": meeting.source.current,
        "supersededBy": urls.meeting(meeting.source.superseded_by) if meeting.source.superseded_by else None,
    }
    obj.update({VENDOR + k: v for k, v in vendor.items() if v is not None})
    return obj


def organization_object(
    urls: OParlUrls, municipality: str | None, region: str | None, committee: str
) -> dict[str, Any]:
    """A committee as an OParl `Organization` (what the meetings' `organization` URLs name)."""
    return {
        "id": urls.organization(municipality, region, committee),
        "type": SCHEMA + "Organization",
        "body": urls.body(municipality, region),
        "name": committee,
        "organizationType": "Gremium",
    }


def body_object(
    urls: OParlUrls, municipality: str | None, region: str | None, municipality_code: int | None
) -> dict[str, Any]:
    """A municipality or region as an OParl `Body`: what the organizations' `body` URLs name.

    OParl requires the person and paper lists and the legislative terms; the store has none of them, so the
    lists are served empty and the terms are an empty array rather than invented.
    """
    obj: dict[str, Any] = {
        "id": urls.body(municipality, region),
        "type": SCHEMA + "Body",
        "system": urls.system(),
        "name": municipality or region or "unknown",
        "organization": urls.body_list(municipality, region, "organization"),
        "person": urls.body_list(municipality, region, "person"),
        "meeting": urls.body_list(municipality, region, "meeting"),
        "paper": urls.body_list(municipality, region, "paper"),
        "legislativeTerm": [],
        "classification": "Region" if region and not municipality else "Kommune",
    }
    if municipality_code is not None:
        obj[VENDOR + "municipalityCode"] = municipality_code
    return obj


def system_object(urls: OParlUrls) -> dict[str, Any]:
    """The OParl `System`: the entry point, naming the list of bodies."""
    return {
        "id": urls.system(),
        "type": SCHEMA + "System",
        "oparlVersion": SCHEMA,
        "name": "minutes",
        "body": urls.bodies(),
    }


async def write_oparl(
    items: AsyncIterator[ItemWithMeeting],
    extras: Callable[[str], Awaitable[MeetingExtras | None]],
    public_api_url: str,
) -> AsyncIterator[bytes]:
    """The OParl object list of the meetings of `items` (grouped by document, in the order they come).

    `items` must come grouped by document (the read model's order is); `extras` is asked once per meeting.
    """
    urls = OParlUrls(public_api_url)
    yield b'{"data":['
    count = 0
    group: list[ItemWithMeeting] = []

    async def flush() -> bytes:
        more = await extras(group[0].item.document_id)
        if more is None:  # deleted between the two reads: nothing to describe it with
            return b""
        head = MeetingHead.of_row(group[0], more)
        return (b"," if count else b"") + orjson.dumps(meeting_object(urls, head, [r.item for r in group]))

    async for row in items:
        if group and row.item.document_id != group[0].item.document_id:
            chunk = await flush()
            count += bool(chunk)
            group = []
            if chunk:
                yield chunk
        group.append(row)
    if group:
        chunk = await flush()
        count += bool(chunk)
        if chunk:
            yield chunk
    tail = {"pagination": {"totalElements": count, "elementsPerPage": count, "currentPage": 1, "totalPages": 1}}
    yield b"]," + orjson.dumps(tail)[1:-1] + b',"links":{}}\n'

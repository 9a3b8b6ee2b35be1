"""FirstAgenda Publication portals (`dagsordener.<kommune>.dk`): the committee list and one meeting's JSON.

The API (corpus/portal/README.md): `GET /api/agenda/udvalgsliste` lists every committee, grouped by election
period or a label, with all its meetings inlined; `GET /api/agenda/dagsorden/{id}` is one meeting, the JSON
the parser reads (family E). A meeting is published more than once under different ids (agenda, then
minutes, a supplementary agenda); each id is a document, and the store joins them as versions of one
meeting by municipality, committee and date. One id is published anew when its `ReleasedDate` moves or
`Afsluttet` turns true: that is its version here.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import quote

from services.ingest.sources.types import Listed, PortalGarbage

NAME = "firstagenda"
LIST_PATH = "/api/agenda/udvalgsliste"
MEETING_PATH = "/api/agenda/dagsorden/"
ATTACHMENT_PATH = "/Vis/Pdf/bilag/"


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def list_url(base_url: str) -> str:
    """The committee list with every meeting inlined."""
    return _base(base_url) + LIST_PATH


def meeting_api_url(base_url: str, meeting_id: str) -> str:
    """One meeting's JSON."""
    return _base(base_url) + MEETING_PATH + meeting_id


def meeting_page_url(base_url: str, meeting_id: str) -> str:
    """The meeting's link for people. The portal's page path for one meeting is not documented in what we
    have (its pages are a single-page application), so the link is the API URL, which shows the meeting."""
    return meeting_api_url(base_url, meeting_id)


def attachment_url(base_url: str, ref: str) -> str:
    """Where the portal serves an attachment's PDF, from its `Bilag` id (the parser's `AttachmentRef.ref`).
    The id comes from the portal's answer: quoted whole, so it can only ever be one path segment."""
    return _base(base_url) + ATTACHMENT_PATH + quote(ref, safe="")


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        start = body[:40].decode("utf-8", "replace").strip()
        hint = "HTML" if start.lower().startswith(("<!doctype", "<html")) else "not JSON"
        raise PortalGarbage(f"{what}: {hint} ({exc.__class__.__name__}: {str(exc)[:120]})") from None


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PortalGarbage(f"{what} is not a text ({type(value).__name__})")
    return value.strip()


def _date(value: Any) -> dt.date | None:
    """The local date of an ISO timestamp with offset (`2026-05-04T14:00:00+02:00`); None when absent or bad."""
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value).date()
    except ValueError:
        return None


def parse_listing(body: bytes) -> list[Listed]:
    """Every meeting of every committee of the list, in list order."""
    data = _json(body, "the committee list")
    groups = data.get("Udvalg") if isinstance(data, dict) else None
    if not isinstance(groups, dict):
        raise PortalGarbage("the committee list has no `Udvalg` object")
    out: list[Listed] = []
    for label, committees in groups.items():
        if not isinstance(committees, list):
            raise PortalGarbage(f"committee group {label!r} is not a list")
        for committee in committees:
            if not isinstance(committee, dict) or not isinstance(committee.get("Moeder", []), list):
                raise PortalGarbage(f"a committee of group {label!r} is not an object with a `Moeder` list")
            name = _text(committee.get("Navn"), "a committee's `Navn`")
            for meeting in committee.get("Moeder") or []:
                if not isinstance(meeting, dict):
                    raise PortalGarbage(f"a meeting of {name!r} is not an object")
                out.append(_listed(name, meeting))
    return out


def _listed(committee: str, meeting: dict[str, Any]) -> Listed:
    meeting_id = _text(meeting.get("Id"), "a meeting's `Id`")
    if "/" in meeting_id or "?" in meeting_id or "#" in meeting_id:
        raise PortalGarbage(f"meeting id {meeting_id[:60]!r} is not an id")
    closed = meeting.get("Afsluttet")
    if not isinstance(closed, bool | None):
        raise PortalGarbage(f"`Afsluttet` of meeting {meeting_id} is not a boolean")
    released = meeting.get("ReleasedDate")
    if not isinstance(released, str | None):
        raise PortalGarbage(f"`ReleasedDate` of meeting {meeting_id} is not a text")
    supplementary = "supplementary" if meeting.get("IsSupplementaryAgenda") else ""
    parts = (released or "", "closed" if closed else "open", supplementary)
    title = meeting.get("Navn") if isinstance(meeting.get("Navn"), str) else ""
    return Listed(
        meeting_id=meeting_id,
        committee=committee,
        meeting_date=_date(meeting.get("Dato")) or _date(meeting.get("MeetingBeginUtc")),
        version="|".join(str(part) for part in parts),
        title=title or "",
        released=released,
        closed=bool(closed),
    )


def check_meeting(body: bytes) -> None:
    """A meeting answer has the shape the parser reads; what it says is the parser's to judge."""
    data = _json(body, "the meeting")
    if not isinstance(data, dict):
        raise PortalGarbage("the meeting is not a JSON object")
    if not isinstance(data.get("Moede"), dict):
        raise PortalGarbage("the meeting has no `Moede` object")
    items = data.get("Dagsordenpunkter")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise PortalGarbage("the meeting's `Dagsordenpunkter` is not a list of objects")

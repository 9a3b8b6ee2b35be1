"""The OParl routes over HTTP (uvicorn, real SQLite and PostgreSQL) on the seeds and the real corpus: every id
the `oparl` export prints dereferences to an object with that id, valid against the vendored OParl 1.1 schema,
the same object the export embedded; a body's meetings page by `links.next`; unknown ids are JSON 404s."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.api.conftest import Served
from tests.integration.store import oparl_schema

pytestmark = pytest.mark.integration

SCHEMA = "https://schema.oparl.org/1.1/"
# OParl 1.1's required properties of the two types the vendored schema files do not cover (System.json and
# Body.json of the specification).
REQUIRED = {
    "System": {"id", "type", "oparlVersion", "body"},
    "Body": {"id", "type", "name", "organization", "person", "meeting", "paper", "legislativeTerm"},
}


def fetch(served: Served, url: str) -> httpx.Response:
    """GET an OParl URL: ids start with the configured public address, the test server runs elsewhere."""
    public = served.settings.public_api_url
    assert url.startswith(public + "oparl/v1/"), url
    return httpx.get(served.base + url.removeprefix(public), timeout=30)


def obj(served: Served, url: str) -> dict[str, Any]:
    """The object an id names, checked to carry that id and to validate as its type."""
    response = fetch(served, url)
    assert response.status_code == 200, (url, response.text)
    assert response.headers["content-type"].startswith("application/json")
    found: dict[str, Any] = response.json()
    assert found["id"] == url
    kind = found["type"].removeprefix(SCHEMA)
    if kind in REQUIRED:
        assert REQUIRED[kind] <= set(found), (kind, found)
    else:
        assert oparl_schema.errors(kind, found) == [], (url, found)
    return found


def walk(served: Served, url: str) -> list[dict[str, Any]]:
    """Every object of an OParl list, following `links.next`."""
    out: list[dict[str, Any]] = []
    while True:
        response = fetch(served, url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"data", "pagination", "links"}
        assert len(page["data"]) <= page["pagination"]["elementsPerPage"]
        out += page["data"]
        if "next" not in page["links"]:
            assert len(out) == page["pagination"]["totalElements"]
            return out
        url = page["links"]["next"]


def export(served: Served) -> list[dict[str, Any]]:
    response = httpx.get(served.base + "api/v1/exports/oparl", timeout=60)
    assert response.status_code == 200
    meetings: list[dict[str, Any]] = response.json()["data"]
    assert len(meetings) == len(served.docs)
    return meetings


def test_every_id_of_the_export_dereferences_to_that_object(served: Served) -> None:
    meetings = export(served)
    seen: set[str] = set()
    for meeting in meetings:
        assert obj(served, meeting["id"]) == meeting  # the export's mapping, not a second one
        for item in meeting["agendaItem"]:
            assert obj(served, item["id"]) == {**item, "meeting": meeting["id"]}
        for key in ("resultsProtocol", "invitation", "location"):
            if key in meeting:
                embedded = meeting[key]
                back = "meetings" if key == "location" else "meeting"
                assert obj(served, embedded["id"]) == {**embedded, back: [meeting["id"]]}
                seen.add(key)
        for org_url in meeting.get("organization", []):
            org = obj(served, org_url)
            assert org["name"] == meeting["minutes:committee"]
            body = obj(served, org["body"])
            assert body["name"] in (meeting.get("minutes:municipality"), meeting.get("minutes:region"))
            seen.add("organization")
    # The corpus exercises every kind of embedded object, so none of the branches above is vacuous.
    assert seen == {"resultsProtocol", "invitation", "location", "organization"}


def test_from_the_system_to_every_meeting_by_the_lists(served: Served) -> None:
    meetings = {m["id"]: m for m in export(served)}
    system = obj(served, served.settings.public_api_url + "oparl/v1/system")
    assert system["oparlVersion"] == SCHEMA
    bodies = walk(served, system["body"])
    assert len(bodies) >= 3
    listed: list[str] = []
    most = 0
    for body in bodies:
        assert obj(served, body["id"]) == body
        for org in walk(served, body["organization"]):
            assert obj(served, org["id"]) == org and org["body"] == body["id"]
        assert walk(served, body["person"]) == [] and walk(served, body["paper"]) == []
        # Pages of 2 (the server caps at 7): a body with more meetings is walked over several pages.
        of_body = walk(served, body["meeting"] + "?limit=2")
        for meeting in of_body:
            assert meeting == meetings[meeting["id"]]
            listed.append(meeting["id"])
        most = max(most, len(of_body))
    assert most > 2, "no body's meetings needed a second page"
    assert sorted(listed) == sorted(meetings)  # each current meeting in exactly one body's list, once


def test_unknown_ids_are_json_404s(served: Served) -> None:
    meeting = export(served)[0]
    base = served.settings.public_api_url + "oparl/v1/"
    item = meeting["agendaItem"][0]["id"]
    org = meeting["organization"][0]
    for url in (
        base + "meeting/" + "0" * 64,
        base + "meeting/not-a-digest",
        base + "agendaitem/" + item.rsplit("/", 1)[1].rsplit("-", 1)[0] + "-9999",
        base + "agendaitem/nothing",
        base + "file/" + "f" * 64,
        base + "location/" + "e" * 64,
        base + "body/no-such-body",
        base + "body/no-such-body/meeting",
        org.rsplit("/", 1)[0] + "/no-such-committee",
        base + "person",
    ):
        response = fetch(served, url)
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["status"] == 404 and response.json()["error"]
    body_meetings = obj(served, meeting["organization"][0].rsplit("/organization/", 1)[0])["meeting"]
    bad = fetch(served, body_meetings + "?cursor=garbage")
    assert bad.status_code == 400 and bad.json()["error"].startswith("cursor: ")

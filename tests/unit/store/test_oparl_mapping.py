"""The OParl mapping on the awkward cases the corpus lacks: a region, no printed time, no committee, no stored
blob, a closed item, a meeting gone between two reads. Every object must still be valid OParl 1.1."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

from services.readmodel.results import ItemOut, ItemWithMeeting, Provenance
from services.store.exports.oparl import MeetingExtras, write_oparl
from shared.contracts.meeting import Outcome
from tests.integration.store import oparl_schema

API = "https://minutes.example.org/"
STORED = dt.datetime(2026, 1, 5, 9, 0, 12, 345_678, tzinfo=dt.UTC)


def provenance(doc: str, *, blob: bool, kind: str = "minutes") -> Provenance:
    return Provenance(
        document_id=doc, original_name=f"dir/{doc[:6]}.referat.pdf", blob_ref="file:///b" if blob else None,
        blob_available=blob, content_type="application/pdf", size=1234, received_at=None, stored_at=STORED,
        page=None, kind=kind, current=True, superseded_by=None,
    )


def rows(doc: str, n: int, *, blob: bool, kind: str = "minutes", committee: str | None = None,
         region: str | None = None) -> list[ItemWithMeeting]:
    out = []
    for pos in range(n):
        closed = pos == 1
        item = ItemOut(
            id=f"{doc}:{pos}", document_id=doc, position=pos, number=pos + 1, title=f"Punkt {pos + 1}",
            case_number=None, kle=None, is_closed=closed,
            decision_text=None if kind == "agenda" else "Godkendt.",
            outcome=None if kind == "agenda" else Outcome.APPROVED, page=pos + 2,
        )
        out.append(ItemWithMeeting(
            item=item, municipality=None if region else "Testkommune", municipality_code=None, region=region,
            committee=committee, meeting_date=dt.date(2025, 6, 2), kind=kind, provenance=provenance(doc, blob=blob,
                                                                                                   kind=kind),
        ))
    return out


async def export(items: list[ItemWithMeeting], extras: dict[str, MeetingExtras | None]) -> Any:
    async def source() -> AsyncIterator[ItemWithMeeting]:
        for row in items:
            yield row

    async def more(document_id: str) -> MeetingExtras | None:
        return extras[document_id]

    return json.loads(b"".join([c async for c in write_oparl(source(), more, API)]))


async def test_awkward_meetings_are_valid_oparl() -> None:
    region, agenda, gone = "a" * 64, "b" * 64, "c" * 64
    items = [
        *rows(region, 2, blob=False, region="Region Testland"),
        *rows(gone, 1, blob=True, committee="Byrådet"),
        *rows(agenda, 3, blob=True, kind="agenda", committee="Økonomi- og Erhvervsudvalget"),
    ]
    doc = await export(items, {
        region: MeetingExtras(start_time=None, location=None, participants=()),
        gone: None,
        agenda: MeetingExtras(start_time="16:30", location="Rådhuset", participants=("Anna", "Bo")),
    })
    assert doc["pagination"]["totalElements"] == len(doc["data"]) == 2  # the vanished meeting is left out
    first, second = doc["data"]
    for meeting in doc["data"]:
        assert oparl_schema.errors("Meeting", meeting) == []
    # No printed time: no invented 00:00; no committee: no organization; no blob: no File to download.
    assert "start" not in first and "organization" not in first and "resultsProtocol" not in first
    assert first["minutes:region"] == "Region Testland" and first["minutes:meetingDate"] == "2025-06-02"
    assert [i["public"] for i in first["agendaItem"]] == [True, False]
    assert first["created"] == "2026-01-05T09:00:12+00:00"  # OParl date-time: whole seconds, an offset
    # An agenda is an invitation; summer time in Copenhagen is +02:00.
    assert second["meetingState"] == "eingeladen" and second["start"] == "2025-06-02T16:30:00+02:00"
    assert second["invitation"]["fileName"] == f"{agenda[:6]}.referat.pdf"
    assert second["invitation"]["accessUrl"] == f"{API}api/v1/documents/{agenda}/file"
    assert second["organization"] == [f"{API}oparl/v1/body/testkommune/organization/oekonomi-og-erhvervsudvalget"]
    assert all("result" not in i and "resolutionText" not in i for i in second["agendaItem"])
    assert second["minutes:participants"] == ["Anna", "Bo"]


async def test_an_empty_export_is_an_empty_object_list() -> None:
    doc = await export([], {})
    assert doc == {
        "data": [],
        "pagination": {"totalElements": 0, "elementsPerPage": 0, "currentPage": 1, "totalPages": 1},
        "links": {},
    }

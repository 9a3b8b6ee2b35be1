"""A stand-in FirstAgenda Publication portal for the tests: the real Greve responses under the real paths.

`GET /api/agenda/dagsorden/{id}` answers the stored response byte for byte (ETag: its sha256; 304 on a
matching If-None-Match). `GET /api/agenda/udvalgsliste` is a committee list in the real shape of Hvidovre's
(corpus/portal/hvidovre/udvalgsliste-excerpt.json) built from greve/meetings.csv and each meeting's own
`Moede` header, under Greve's group label. `GET /Vis/Pdf/bilag/{id}` answers a small PDF for an attachment
id (`Bilag[].Id`) of a listed meeting, 404 for any other (the real portal serves the attachment's PDF there).
Tests add meetings, change answers and queue faults; every request is counted.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES

PORTAL = FIXTURES / "corpus" / "portal" / "greve"
GROUP = "Aktuelle politiske udvalg"
BILAG_PATH = "/Vis/Pdf/bilag/"


def attachment_pdf(bilag_id: str) -> bytes:
    """The stand-in's PDF of an attachment: a few bytes that say which (the real one is the attachment)."""
    return b"%PDF-1.4\n% stand-in attachment " + bilag_id.encode() + b"\n%%EOF\n"


@dataclass
class Meeting:
    """One listed publication: its list entry and its dagsorden answer."""

    id: str
    committee: str
    entry: dict[str, Any]
    body: bytes


def greve_meetings() -> list[Meeting]:
    """The 40 stored Greve meetings, list entries built from meetings.csv and each file's `Moede`."""
    out = []
    with (PORTAL / "meetings.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            body = (PORTAL / "dagsorden" / f"{row['guid']}.json").read_bytes()
            out.append(Meeting(row["guid"], row["committee"], entry_of(row["guid"], json.loads(body)), body))
    return out


def entry_of(meeting_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """A list entry as the real list has it (the same fields, in the same order, as Hvidovre's)."""
    moede = data["Moede"]
    return {
        "Id": meeting_id, "MeetingBeginUtc": moede.get("MeetingBeginUtc"), "MeetingEndUtc": moede.get("MeetingEndUtc"),
        "ReleasedDate": moede.get("ReleasedDate"), "Dato": moede.get("Dato"), "Sted": moede.get("Sted"),
        "Afsluttet": moede.get("Afsluttet"), "Moededeltagere": None, "Navn": moede.get("Navn"),
        "Description": None, "ElasticSearchResults": None, "SourceId": None,
        "IsSupplementaryAgenda": bool(moede.get("IsSupplementaryAgenda")),
    }


@dataclass
class Portal:
    """The stand-in's content, faults and request log (shared with its server thread)."""

    meetings: dict[str, Meeting] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    # (path prefix, fault) consumed in order by the first matching request: "500", "429:<seconds>",
    # "hang:<seconds>", "html", "truncated", "down" (connection closed without an answer).
    faults: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def add(self, meeting: Meeting) -> None:
        """List a meeting (or replace its list entry and answer)."""
        with self.lock:
            self.meetings[meeting.id] = meeting

    def listing(self) -> bytes:
        """The committee list: committees in order of first appearance, each with its meetings."""
        committees: dict[str, list[dict[str, Any]]] = {}
        with self.lock:
            for meeting in self.meetings.values():
                committees.setdefault(meeting.committee, []).append(meeting.entry)
        body = {"Udvalg": {GROUP: [
            {"Id": hashlib.md5(name.encode()).hexdigest(), "Navn": name, "Moeder": moeder}
            for name, moeder in committees.items()
        ]}}
        return json.dumps(body, ensure_ascii=False).encode()

    def attachment_ids(self) -> set[str]:
        """The `Bilag` ids of every listed meeting's answer."""
        with self.lock:
            bodies = [meeting.body for meeting in self.meetings.values()]
        return {
            bilag["Id"] for body in bodies for item in json.loads(body).get("Dagsordenpunkter") or []
            for bilag in item.get("Bilag") or [] if isinstance(bilag.get("Id"), str)
        }

    def fetched(self, meeting_id: str) -> int:
        """How many times a meeting's answer was asked for."""
        return sum(1 for path in self.requests if path.endswith("/" + meeting_id))

    def meeting_requests(self) -> list[str]:
        """The meeting ids asked for, in order."""
        return [path.rsplit("/", 1)[1] for path in self.requests if "/dagsorden/" in path]

    def _fault(self, path: str) -> str | None:
        with self.lock:
            for index, (prefix, fault) in enumerate(self.faults):
                if path.startswith(prefix):
                    del self.faults[index]
                    return fault
        return None


def _handler(portal: Portal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            with portal.lock:
                portal.requests.append(self.path)
            fault = portal._fault(self.path)
            if fault is not None and self._faulty(fault):
                return
            if self.path == "/api/agenda/udvalgsliste":
                self._send(200, portal.listing())
                return
            if self.path.startswith(BILAG_PATH):
                bilag = self.path.removeprefix(BILAG_PATH)
                if bilag in portal.attachment_ids():
                    self._send(200, attachment_pdf(bilag), "application/pdf")
                    return
            if self.path.startswith("/api/agenda/dagsorden/"):
                with portal.lock:
                    meeting = portal.meetings.get(self.path.rsplit("/", 1)[1])
                if meeting is not None:
                    body = meeting.body[: len(meeting.body) // 2] if fault == "truncated" else meeting.body
                    self._send(200, body, etag=True)
                    return
            self._send(404, b'{"Message":"not found"}')

        def _faulty(self, fault: str) -> bool:
            kind, _, arg = fault.partition(":")
            if kind == "500":
                self._send(500, b"<html><body>Server Error</body></html>", "text/html")
            elif kind == "429":
                self._send(429, b"", headers={"Retry-After": arg or "1"})
            elif kind == "hang":
                time.sleep(float(arg or 5))
                self._send(503, b"")
            elif kind == "html":
                self._send(200, b"<!DOCTYPE html><html><body>FirstAgenda Publication</body></html>", "text/html")
            elif kind == "down":
                self.close_connection = True
                self.connection.close()
            else:
                return False  # "truncated": answered by do_GET with half the body
            return True

        def _send(
            self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8",
            *, etag: bool = False, headers: dict[str, str] | None = None,
        ) -> None:
            tag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            if etag and status == 200 and self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if etag and status == 200:
                self.send_header("ETag", tag)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serve(meetings: list[Meeting] | None = None) -> Iterator[Portal]:
    """Run the stand-in on a free loopback port for the block; `portal.url` is its base URL."""
    portal = Portal()
    for meeting in greve_meetings() if meetings is None else meetings:
        portal.add(meeting)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(portal))
    server.daemon_threads = True
    portal.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="stand-in-portal", daemon=True)
    thread.start()
    try:
        yield portal
    finally:
        server.shutdown()
        server.server_close()


def changed(meeting: Meeting, *, new_id: str | None = None, **moede: Any) -> Meeting:
    """A copy of a meeting with some `Moede` fields changed (and, given, another id): its list entry follows."""
    data = json.loads(meeting.body)
    data["Moede"].update(moede)
    if new_id:
        data["Id"] = new_id
    body = json.dumps(data, ensure_ascii=False).encode()
    return Meeting(new_id or meeting.id, meeting.committee, entry_of(new_id or meeting.id, data), body)


def with_decision(meeting: Meeting, item_index: int, old: str, new: str, released: str) -> Meeting:
    """A re-release of a meeting whose item `item_index` decides differently (text `old` replaced by `new`)."""
    data = json.loads(meeting.body)
    item = data["Dagsordenpunkter"][item_index]
    replaced = False
    for felt in item.get("Felter") or []:
        if isinstance(felt.get("Html"), str) and old in felt["Html"]:
            felt["Html"] = felt["Html"].replace(old, new, 1)
            replaced = True
            break
    assert replaced, f"{old!r} not in item {item_index}"
    data["Moede"]["ReleasedDate"] = released
    body = json.dumps(data, ensure_ascii=False).encode()
    return Meeting(meeting.id, meeting.committee, entry_of(meeting.id, data), body)


def fixture_path(meeting_id: str) -> Path:
    """The stored answer of a meeting."""
    return PORTAL / "dagsorden" / f"{meeting_id}.json"


_DECISION_BLOCK = re.compile(r"<div><h3>\s*Beslutning\s*</h3>.*?</div>", re.S)


def as_agenda(meeting: Meeting, new_id: str) -> Meeting:
    """The agenda of a meeting as the portal publishes it before the meeting: another id, not closed, and no
    `Beslutning` block in any item (the real minutes put it first in the item's text)."""
    data = json.loads(meeting.body)
    data["Id"] = new_id
    data["Moede"]["Afsluttet"] = False
    for item in data["Dagsordenpunkter"]:
        for felt in item.get("Felter") or []:
            if isinstance(felt.get("Html"), str):
                felt["Html"] = _DECISION_BLOCK.sub("", felt["Html"])
    body = json.dumps(data, ensure_ascii=False).encode()
    return Meeting(new_id, meeting.committee, entry_of(new_id, data), body)

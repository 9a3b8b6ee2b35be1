"""What a source type is: a small module that lists a portal's meetings and says how to fetch one.

A source type knows one portal system's API (its paths and the shape of its answers) and nothing else: the
poller (poller.py) does the rest — what was seen, what changed, the polite client, storing and announcing.
To add a portal system, write a module with `list_url`, `parse_listing`, `meeting_api_url`, `meeting_page_url`,
`check_meeting` and `attachment_url` (see firstagenda.py) and name it in `TYPES` below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


class PortalGarbage(ValueError):
    """An answer that is not what the portal system returns (HTML for JSON, truncated JSON, wrong types)."""


@dataclass(frozen=True)
class Listed:
    """One publication of a meeting as the portal lists it.

    `version` changes whenever the portal publishes the meeting anew (released again, minutes published,
    a supplementary agenda): a listed meeting is fetched when its version differs from the one stored.
    """

    meeting_id: str
    committee: str
    meeting_date: dt.date | None
    version: str
    title: str = ""
    released: str | None = None
    closed: bool = False


class SourceType(Protocol):
    """The module of one portal system (firstagenda.py is the first)."""

    NAME: str

    def list_url(self, base_url: str) -> str:
        """The URL of the list of every meeting."""
        ...

    def parse_listing(self, body: bytes) -> list[Listed]:
        """The meetings of a list answer; PortalGarbage when it is not one."""
        ...

    def meeting_api_url(self, base_url: str, meeting_id: str) -> str:
        """Where one meeting's document is fetched."""
        ...

    def meeting_page_url(self, base_url: str, meeting_id: str) -> str:
        """The page a person opens to see the meeting on the portal (the provenance link)."""
        ...

    def check_meeting(self, body: bytes) -> None:
        """Raise PortalGarbage when a meeting answer is not one (HTML, truncated): retried later, not parsed."""
        ...

    def attachment_url(self, base_url: str, ref: str) -> str:
        """Where the portal serves an attachment, from the reference the parser read in the meeting's document
        (`AttachmentRef.ref`); the store links to it and never downloads it."""
        ...


def source_type(name: str) -> SourceType:
    """The module of a source type by name; ValueError naming the known ones."""
    from services.ingest.sources import firstagenda

    types: dict[str, SourceType] = {"firstagenda": firstagenda}
    try:
        return types[name]
    except KeyError:
        raise ValueError(f"unknown source type {name!r}; known: {', '.join(sorted(types))}") from None


TYPES = ("firstagenda",)

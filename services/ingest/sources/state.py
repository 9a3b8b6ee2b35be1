"""The sources and what was fetched from them, in the database (tables in models.py).

A poll holds its source by a lease (`lease_owner`, `lease_until`) so that the ingest service and a
`minutes sources poll` never poll one source at once; a lease whose holder died on this host (a kill -9)
is taken over at once rather than waited out.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ingest.sources.models import source_documents, source_meetings, sources
from services.ingest.sources.types import Listed
from shared.contracts.events import utcnow

LEASE_S = 300.0


class SourceError(ValueError):
    """A source that cannot be added, found or removed; the message says why."""


@dataclass(frozen=True)
class Source:
    """One followed portal with its state."""

    name: str
    type: str
    url: str
    municipality: str | None = None
    committees: tuple[str, ...] = ()
    since: dt.date | None = None
    created_at: dt.datetime = field(default_factory=utcnow)
    last_poll_at: dt.datetime | None = None
    last_ok_at: dt.datetime | None = None
    next_poll_at: dt.datetime | None = None
    meetings_seen: int = 0
    error: str | None = None
    error_since: dt.datetime | None = None
    failures: int = 0
    list_etag: str | None = None
    list_last_modified: str | None = None

    def as_json(self) -> dict[str, Any]:
        """What `sources list --json` and the API show."""
        def iso(value: dt.datetime | dt.date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "name": self.name, "type": self.type, "url": self.url, "municipality": self.municipality,
            "committees": list(self.committees), "since": iso(self.since), "created_at": iso(self.created_at),
            "last_poll_at": iso(self.last_poll_at), "last_ok_at": iso(self.last_ok_at),
            "next_poll_at": iso(self.next_poll_at), "meetings_seen": self.meetings_seen,
            "error": self.error, "error_since": iso(self.error_since),
        }


@dataclass(frozen=True)
class Fetched:
    """What is stored of one meeting id: the version fetched, the validators, the document it became."""

    version: str
    etag: str | None
    last_modified: str | None
    document_id: str | None


def _aware(value: Any) -> Any:
    # SQLite gives back naive datetimes; everything here is written in UTC.
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _source(row: Any, seen: int) -> Source:
    m = row._mapping
    return Source(
        name=m["name"], type=m["type"], url=m["url"], municipality=m["municipality"],
        committees=tuple(m["committees"] or ()), since=m["since"], created_at=_aware(m["created_at"]),
        last_poll_at=_aware(m["last_poll_at"]), last_ok_at=_aware(m["last_ok_at"]),
        next_poll_at=_aware(m["next_poll_at"]), meetings_seen=seen, error=m["error"],
        error_since=_aware(m["error_since"]), failures=m["failures"], list_etag=m["list_etag"],
        list_last_modified=m["list_last_modified"],
    )


async def add_source(engine: AsyncEngine, source: Source) -> Source:
    """Store a new source (due at once); SourceError when the name is taken or unusable."""
    if not source.name.strip() or len(source.name) > 100 or any(ord(c) < 32 for c in source.name):
        raise SourceError("a source's name is 1 to 100 printable characters")
    async with engine.begin() as conn:
        taken = await conn.scalar(sa.select(sources.c.name).where(sources.c.name == source.name))
        if taken is not None:
            raise SourceError(f"a source named {source.name!r} exists already")
        await conn.execute(sources.insert().values(
            name=source.name, type=source.type, url=source.url, municipality=source.municipality,
            committees=list(source.committees), since=source.since, created_at=source.created_at,
            meetings_seen=0, failures=0, next_poll_at=None,
        ))
    return source


async def remove_source(engine: AsyncEngine, name: str) -> None:
    """Forget a source and what was fetched from it (the stored documents stay)."""
    async with engine.begin() as conn:
        await conn.execute(source_meetings.delete().where(source_meetings.c.source_name == name))
        done = await conn.execute(sources.delete().where(sources.c.name == name))
    if done.rowcount == 0:
        raise SourceError(f"no source named {name!r}")


async def list_sources(engine: AsyncEngine, name: str | None = None) -> list[Source]:
    """Every source (or the one named) with its state, by name."""
    seen = (
        sa.select(sa.func.count()).select_from(source_meetings)
        .where(source_meetings.c.source_name == sources.c.name).scalar_subquery()
    )
    stmt = sa.select(sources, seen.label("seen")).order_by(sources.c.name)
    if name is not None:
        stmt = stmt.where(sources.c.name == name)
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [_source(row, row._mapping["seen"]) for row in rows]


async def get_source(engine: AsyncEngine, name: str) -> Source:
    """One source; SourceError when there is none by that name."""
    found = await list_sources(engine, name)
    if not found:
        raise SourceError(f"no source named {name!r}")
    return found[0]


async def update_source(engine: AsyncEngine, name: str, **values: Any) -> None:
    """Change some of a source's stored columns (since, next_poll_at)."""
    async with engine.begin() as conn:
        await conn.execute(sources.update().where(sources.c.name == name).values(**values))


def lease_owner() -> str:
    """This process: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _holder_gone(owner: str | None) -> bool:
    """Whether a lease's holder is this process or a dead process of this host (killed mid-poll)."""
    if not owner:
        return True
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


async def claim(engine: AsyncEngine, name: str, *, due_only: bool, now: dt.datetime | None = None) -> bool:
    """Take the lease of a source to poll it (False: another poller holds it, or it is not due)."""
    now = now or utcnow()
    async with engine.begin() as conn:
        row = (await conn.execute(
            sa.select(sources.c.lease_owner, sources.c.lease_until, sources.c.next_poll_at)
            .where(sources.c.name == name)
        )).first()
        if row is None:
            return False
        owner, until, due = row[0], _aware(row[1]), _aware(row[2])
        if due_only and due is not None and due > now:
            return False
        if until is not None and until > now and not _holder_gone(owner):
            return False
        stmt = sources.update().where(sources.c.name == name)
        # Compare-and-set on the lease as read: two pollers that both read it free cannot both take it.
        stmt = stmt.where(sources.c.lease_owner.is_(None) if owner is None else sources.c.lease_owner == owner)
        until = now + dt.timedelta(seconds=LEASE_S)
        done = await conn.execute(stmt.values(lease_owner=lease_owner(), lease_until=until))
        return done.rowcount == 1


async def release(engine: AsyncEngine, name: str, **values: Any) -> None:
    """Give the lease back, storing the poll's outcome."""
    async with engine.begin() as conn:
        await conn.execute(
            sources.update().where(sources.c.name == name, sources.c.lease_owner == lease_owner())
            .values(lease_owner=None, lease_until=None, **values)
        )


async def fetched(engine: AsyncEngine, name: str) -> dict[str, Fetched]:
    """meeting id -> what is stored of it, for one source."""
    cols = source_meetings.c
    stmt = sa.select(cols.meeting_id, cols.version, cols.etag, cols.last_modified, cols.document_id).where(
        cols.source_name == name
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return {row[0]: Fetched(row[1], row[2], row[3], row[4]) for row in rows}


async def record_meeting(
    engine: AsyncEngine, name: str, listed: Listed, *, etag: str | None, last_modified: str | None,
    document_id: str | None, page_url: str, api_url: str,
) -> None:
    """Remember that this publication of a meeting was handed to the pipeline; renews the source's lease."""
    now = utcnow()
    values = {
        "committee": listed.committee, "meeting_date": listed.meeting_date, "version": listed.version,
        "released": listed.released, "closed": listed.closed, "etag": etag, "last_modified": last_modified,
        "document_id": document_id, "page_url": page_url, "api_url": api_url, "fetched_at": now,
    }
    cols = source_meetings.c
    async with engine.begin() as conn:
        done = await conn.execute(
            source_meetings.update().where(cols.source_name == name, cols.meeting_id == listed.meeting_id)
            .values(**values)
        )
        if done.rowcount == 0:
            await conn.execute(
                source_meetings.insert().values(source_name=name, meeting_id=listed.meeting_id, **values)
            )
        await conn.execute(
            sources.update().where(sources.c.name == name, sources.c.lease_owner == lease_owner())
            .values(lease_until=now + dt.timedelta(seconds=LEASE_S))
        )


@dataclass(frozen=True)
class Origin:
    """Where a document fetched from a source came from: the meeting's portal page, and the source's type and
    base URL (None when the source was removed since: its attachments can then not be linked)."""

    page_url: str
    source_type: str | None
    base_url: str | None


@functools.cache
def _origins_stmt() -> Any:
    # Built once: the store runs it for every batch (services/store/repository.py says why that matters).
    cols = source_documents.c
    joined = source_documents.outerjoin(sources, sources.c.name == cols.source_name)
    return (
        sa.select(cols.document_id, cols.page_url, sources.c.type, sources.c.url)
        .select_from(joined)
        .where(cols.document_id.in_(sa.bindparam("docs", expanding=True)))
    )


async def source_origins(conn: AsyncConnection, document_ids: Sequence[str]) -> dict[str, Origin]:
    """The origin of each document fetched from a source (ingest writes it before publishing)."""
    if not document_ids:
        return {}
    rows = await conn.execute(_origins_stmt(), {"docs": list(document_ids)})
    return {row[0]: Origin(row[1], row[2], row[3]) for row in rows}


async def remember_document(
    engine: AsyncEngine, document_id: str, name: str, meeting_id: str, *, page_url: str, api_url: str
) -> None:
    """Say where a document came from, before it is published (the store reads it); the first source wins."""
    cols = source_documents.c
    async with engine.begin() as conn:
        known = await conn.scalar(sa.select(cols.document_id).where(cols.document_id == document_id))
        if known is None:
            await conn.execute(source_documents.insert().values(
                document_id=document_id, source_name=name, meeting_id=meeting_id, page_url=page_url,
                api_url=api_url, created_at=utcnow(),
            ))

"""The reads behind the OParl routes that the general reader has no filter for: bodies, their committees, and
a body's meetings page by page (a body is every municipality or region name whose URL slug it is).

Meetings are the complete ones, as in the export; a body's meeting list holds the current versions (what the
export lists by default), while any stored version stays reachable under its own meeting id.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, func

from services.readmodel import cursor as cursor_codec
from services.readmodel.common import Target, date_key, rows
from services.readmodel.cursor import CursorError
from services.store.exports.oparl import slug
from services.store.models import meetings


@dataclass(frozen=True)
class BodyName:
    """One (municipality, region) pair as stored; several can share a body's slug."""

    municipality: str | None
    region: str | None
    municipality_code: int | None


@dataclass(frozen=True)
class Body:
    """A body (municipality or region) as OParl names it: its slug and the stored names behind it."""

    slug: str
    names: tuple[BodyName, ...]

    @property
    def first(self) -> BodyName:
        """The name its object shows (the names of one slug differ only in spelling)."""
        return self.names[0]


def body_slug(municipality: str | None, region: str | None) -> str:
    """The body segment of the OParl URLs (as `OParlUrls.body` builds it)."""
    return slug(municipality or region or "unknown")


async def bodies(target: Target) -> list[Body]:
    """Every body with a complete meeting, by slug."""
    stmt = (
        sa.select(meetings.c.municipality, meetings.c.region, func.max(meetings.c.municipality_code))
        .where(meetings.c.complete.is_(True))
        .group_by(meetings.c.municipality, meetings.c.region)
    )
    grouped: dict[str, list[BodyName]] = defaultdict(list)
    for m, r, code in await rows(target, stmt):
        grouped[body_slug(m, r)].append(BodyName(m, r, code))
    return [Body(key, tuple(sorted(names, key=_name_order))) for key, names in sorted(grouped.items())]


def _name_order(name: BodyName) -> tuple[bool, str, str]:
    # A name with a code first, then alphabetically: the same body object for every request.
    return (name.municipality_code is None, name.municipality or "", name.region or "")


async def body(target: Target, body_key: str) -> Body | None:
    """The body of this slug; None when no complete meeting has it."""
    return next((b for b in await bodies(target) if b.slug == body_key), None)


def _of_body(found: Body) -> ColumnElement[bool]:
    # The URL is named by the municipality, else by the region: match the stored pair the same way.
    conds = []
    for name in found.names:
        if name.municipality is not None:
            conds.append(meetings.c.municipality == name.municipality)
        elif name.region is not None:
            conds.append(sa.and_(meetings.c.municipality.is_(None), meetings.c.region == name.region))
        else:
            conds.append(sa.and_(meetings.c.municipality.is_(None), meetings.c.region.is_(None)))
    return sa.or_(*conds)


async def committees(target: Target, found: Body) -> list[str]:
    """The committees of the body's complete meetings (each an OParl Organization), in name order."""
    stmt = (
        sa.select(meetings.c.committee)
        .where(meetings.c.complete.is_(True), meetings.c.committee.is_not(None), _of_body(found))
        .distinct()
    )
    names = {row[0] for row in await rows(target, stmt)}
    # One organization per slug, as its URL is: the first spelling of each.
    by_slug: dict[str, str] = {}
    for name in sorted(names):
        by_slug.setdefault(slug(name), name)
    return [by_slug[k] for k in sorted(by_slug)]


def _current(found: Body) -> list[ColumnElement[bool]]:
    return [meetings.c.complete.is_(True), meetings.c.superseded_by.is_(None), _of_body(found)]


async def count_body_meetings(target: Target, found: Body) -> int:
    """How many meetings the body's list holds."""
    stmt = sa.select(func.count()).select_from(meetings).where(*_current(found))
    return int((await rows(target, stmt))[0][0])


async def meeting_ids(target: Target, found: Body, *, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
    """One page of the body's current meetings (document ids), newest first, and the cursor of the next page."""
    fp = cursor_codec.fingerprint("oparl-body-meetings", {"body": found.slug})
    stmt = sa.select(meetings.c.document_id, date_key.label("date_key")).where(*_current(found))
    if cursor:
        values = cursor_codec.decode(cursor, fp, 2)
        try:
            day: Any = sa.literal(dt.date.fromisoformat(values[0]), sa.Date)
        except (TypeError, ValueError) as exc:
            raise CursorError(f"the cursor is not one this service made: {cursor_codec.AGAIN}") from exc
        doc = str(values[1])
        stmt = stmt.where(sa.or_(date_key < day, sa.and_(date_key == day, meetings.c.document_id > doc)))
    listed = await rows(target, stmt.order_by(date_key.desc(), meetings.c.document_id).limit(limit + 1))
    page = listed[:limit]
    nxt = None
    if len(listed) > limit:
        nxt = cursor_codec.encode(fp, [page[-1].date_key.isoformat(), page[-1].document_id])
    return [r.document_id for r in page], nxt

"""Versions of one meeting: the agenda, the minutes, corrected minutes — each its own document.

Documents that print the same municipality, committee and meeting date are versions of one meeting. Once a
version is complete, the store picks the current one (minutes over an agenda, then the most recently
completed) and points every other version's `superseded_by` at it, so queries can show one version per
meeting while every version stays stored.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.store.models import meetings
from shared.contracts.meeting import DocumentKind, MeetingHeader

_SPACES = re.compile(r"\s+")


def meeting_key(header: MeetingHeader) -> str | None:
    """`municipality|committee|date`, case- and space-folded; None when the header lacks any of them."""
    if not (header.municipality and header.committee and header.meeting_date):
        return None
    parts = (header.municipality, header.committee)
    folded = [_SPACES.sub(" ", part).strip().casefold() for part in parts]
    return "|".join([*folded, header.meeting_date.isoformat()])


def _lock_id(key: str) -> int:
    """A stable signed 64-bit advisory-lock id for a meeting key."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


async def lock_keys(conn: AsyncConnection, keys: Iterable[str | None]) -> None:
    """On PostgreSQL, serialise transactions that touch one meeting's versions (taken first, in id order,
    so two store workers cannot deadlock); SQLite serialises every write transaction anyway."""
    if conn.dialect.name != "postgresql":
        return
    ids = sorted({_lock_id(k) for k in keys if k})
    if ids:
        # One round trip: unnest() yields the ids in array order, so the locks are taken in sorted order.
        stmt = text("SELECT count(pg_advisory_xact_lock(id)) FROM unnest(CAST(:ids AS bigint[])) AS t(id)")
        await conn.execute(stmt, {"ids": ids})


@functools.cache
def _statements() -> tuple[Any, Any]:
    """Built once (repository.py says why): the versions of some keys; a version's pointer set."""
    select_versions = select(
        meetings.c.meeting_key,
        meetings.c.document_id,
        meetings.c.kind,
        meetings.c.completed_at,
        meetings.c.superseded_by,
    ).where(meetings.c.meeting_key.in_(bindparam("keys", expanding=True)), meetings.c.complete.is_(True))
    supersede = (
        update(meetings).where(meetings.c.document_id == bindparam("doc")).values(superseded_by=bindparam("target"))
    )
    return select_versions, supersede


async def resolve_versions(conn: AsyncConnection, keys: Iterable[str | None]) -> list[str]:
    """Mark all but the current complete version of each meeting superseded; returns the documents changed.

    One SELECT for the whole batch and writes only for rows whose pointer changes: a meeting with a
    single version, the common case, costs one indexed lookup.
    """
    wanted = sorted({k for k in keys if k})
    if not wanted:
        return []
    select_versions, supersede = _statements()
    rows = (await conn.execute(select_versions, {"keys": wanted})).all()
    groups: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        groups[row.meeting_key].append(row)
    changes: list[dict[str, str | None]] = []
    for _key, versions in sorted(groups.items()):
        # Minutes beat an agenda of the same meeting; then the later completion; the id breaks a tie.
        best = max(versions, key=lambda r: (r.kind == DocumentKind.MINUTES.value, r.completed_at, r.document_id))
        for row in versions:
            target = None if row.document_id == best.document_id else best.document_id
            if row.superseded_by != target:
                changes.append({"doc": row.document_id, "target": target})
    if changes:
        await conn.execute(supersede, changes)
    return [str(c["doc"]) for c in changes]

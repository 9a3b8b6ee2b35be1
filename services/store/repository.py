"""Idempotent upserts of items-stream events: Core executemany ON CONFLICT, one call per table per batch.

Applying the same events twice, in any order, or from two workers at once gives the same rows; the outbox
row of a decision is inserted with ON CONFLICT DO NOTHING so a redelivery or re-ingest emits nothing new.
A later version of a stored meeting announces only what changed (`revisions.py`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from services.store.attachments import LinkMaker, link_maker, links, stored_refs
from services.store.kle import kle_of
from services.store.models import agenda_items, decisions, documents, meetings, outbox, search_queue
from services.store.revisions import Announced, last_announced, match_key, same_decision, word_diff
from services.store.versions import lock_keys, meeting_key, resolve_versions
from shared import streams
from shared.contracts.events import (
    AgendaItemParsed,
    DecisionMade,
    DecisionRevised,
    MeetingParsed,
    decision_event_id,
    revision_event_id,
)
from shared.contracts.meeting import MeetingHeader

ItemsEvent = MeetingParsed | AgendaItemParsed


@dataclass(frozen=True)
class StoreResult:
    """What one call of `store_events` wrote."""

    meetings: int
    items: int
    decisions: int
    completed: tuple[str, ...]


def item_id(document_id: str, position: int) -> str:
    """Primary key of an agenda item."""
    return f"{document_id}:{position}"


def _insert(dialect: str, table: Table) -> Any:
    # Both dialects' insert() offer on_conflict_do_update/do_nothing with the same signature.
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {dialect!r}")


# The statements of the hot path are built once per process and reused (here and in versions.py,
# revisions.py, outbox.py): building one per batch — `excluded`'s column proxies, the WHERE clauses, the
# cache key SQLAlchemy derives from a new statement — cost more CPU than SQLite's executing it when a
# batch holds a document or two, as it does whenever the store keeps up with the parsers.
@functools.cache
def _upsert_stmt(dialect: str, table: Table, columns: tuple[str, ...], key: str, keep: frozenset[str]) -> Any:
    ins = _insert(dialect, table)
    set_ = {name: ins.excluded[name] for name in columns if name != key and name not in keep}
    return ins.on_conflict_do_update(index_elements=[key], set_=set_) if set_ else ins.on_conflict_do_nothing()


@functools.cache
def _insert_ignore_stmt(dialect: str, table: Table, key: str) -> Any:
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=[key])


async def _upsert(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], key: str, keep: Iterable[str] = ()
) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE every column except `key` and `keep` (executemany)."""
    if not rows:
        return
    await conn.execute(_upsert_stmt(conn.dialect.name, table, tuple(rows[0]), key, frozenset(keep)), list(rows))


async def _insert_ignore(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]], key: str) -> None:
    if rows:
        await conn.execute(_insert_ignore_stmt(conn.dialect.name, table, key), list(rows))


def _docs_param() -> Any:
    return bindparam("docs", expanding=True)


@functools.cache
def _statements() -> dict[str, Any]:
    """The store's fixed statements (built on first use, not at import)."""
    stored = (
        select(func.count())
        .select_from(agenda_items)
        .where(agenda_items.c.document_id == meetings.c.document_id)
        .scalar_subquery()
    )
    return {
        "queue": insert(search_queue),
        "listed": select(meetings.c.document_id, meetings.c.complete, meetings.c.superseded_by).where(
            meetings.c.document_id.in_(_docs_param())
        ),
        "keys": select(
            meetings.c.document_id, meetings.c.meeting_date, meetings.c.complete, meetings.c.superseded_by
        ).where(meetings.c.document_id.in_(_docs_param())),
        "sync": (
            update(decisions)
            .where(decisions.c.document_id == bindparam("doc"))
            .where(or_(decisions.c.date_order != bindparam("new_order"), decisions.c.listed != bindparam("new_listed")))
            .values(date_order=bindparam("new_order"), listed=bindparam("new_listed"))
        ),
        "complete": (
            update(meetings)
            .where(meetings.c.document_id.in_(_docs_param()), meetings.c.complete.is_(False))
            .where(meetings.c.item_count == stored)
            .values(complete=True, completed_at=bindparam("now"))
            .returning(meetings.c.document_id)
        ),
    }


def _meeting_row(document_id: str, header: MeetingHeader, item_count: int) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "kind": header.kind.value,
        "municipality": header.municipality,
        "municipality_code": header.municipality_code,
        "committee": header.committee,
        "meeting_date": header.meeting_date,
        "start_time": header.start_time,
        "location": header.location,
        "region": header.region,
        "participants": list(header.participants),
        "warnings": list(header.warnings),
        "item_count": item_count,
        "meeting_key": meeting_key(header),
    }


def _item_row(ev: AgendaItemParsed, now: dt.datetime, make_link: LinkMaker | None = None) -> dict[str, Any]:
    item = ev.item
    return {
        "id": item_id(ev.document_id, ev.position),
        "document_id": ev.document_id,
        "position": ev.position,
        "number": item.number,
        "title": item.title,
        "case_number": item.case_number,
        "kle": kle_of(item.case_number),
        "is_closed": item.is_closed,
        "sections": [s.model_dump(mode="json") for s in item.sections],
        "absent": list(item.absent),
        "attachments": list(item.attachments),
        "attachment_refs": stored_refs(item, make_link),
        "votes": item.votes.model_dump(mode="json") if item.votes else None,
        "page": item.page,
        "history": [h.model_dump(mode="json") for h in item.history],
        "stored_at": now,
    }


def decision_made(ev: AgendaItemParsed, *, now: dt.datetime, public_base_url: str) -> DecisionMade:
    """The public event announcing the decision of an item event (which must have one)."""
    assert ev.item.decision is not None
    key = item_id(ev.document_id, ev.position)
    return DecisionMade(
        event_id=decision_event_id(ev.document_id, ev.position),
        municipality=ev.meeting.municipality,
        municipality_code=ev.meeting.municipality_code,
        committee=ev.meeting.committee,
        meeting_date=ev.meeting.meeting_date,
        item_number=ev.item.number,
        item_title=ev.item.title,
        case_number=ev.item.case_number,
        outcome=ev.item.decision.outcome,
        decision_text=ev.item.decision.text,
        absent=ev.item.absent,
        votes=ev.item.votes,
        document_id=ev.document_id,
        item_id=key,
        item_url=public_base_url + key,
        occurred_at=now,
    )


def decision_revised(made: DecisionMade, before: Announced, position: int) -> DecisionRevised:
    """The revision announcing `made` in place of the decision subscribers heard as `before`."""
    fields = made.model_dump(exclude={"event", "schema_version", "event_id"})
    return DecisionRevised(
        **fields,
        event_id=revision_event_id(made.document_id, position),
        revises_event_id=before.event_id,
        previous_document_id=before.document_id,
        previous_item_id=before.item_id,
        previous_outcome=before.outcome,
        previous_text=before.text,
        diff=word_diff(before.text, made.decision_text),
    )


async def store_events(
    conn: AsyncConnection, events: Sequence[ItemsEvent], *, now: dt.datetime, public_base_url: str
) -> StoreResult:
    """Upsert a batch of events inside the caller's transaction; mark meetings complete that now are."""
    docs: dict[str, dict[str, Any]] = {}
    latest: dict[str, ItemsEvent] = {}  # per document, the last event: its header is the one stored
    items: dict[str, AgendaItemParsed] = {}
    for ev in events:
        docs.setdefault(
            ev.document_id,
            {
                "document_id": ev.document_id,
                "original_name": ev.original_name,
                "parsed_at": ev.parsed_at,
                "stored_at": now,
                "blob_ref": ev.blob_ref,
                "received_at": ev.received_at,
                "size": ev.size,
                "content_type": ev.content_type,
                "source_url": None,
            },
        )
        latest[ev.document_id] = ev
        if isinstance(ev, AgendaItemParsed):
            items[item_id(ev.document_id, ev.position)] = ev
    # Documents fetched from an agenda portal say where (services/ingest/sources/): one lookup per batch.
    from services.ingest.sources.state import source_origins  # here: the store's one use of the sources' tables

    origins = await source_origins(conn, sorted(docs))
    makers = {doc: link_maker(origin) for doc, origin in origins.items()}
    for doc, origin in origins.items():
        docs[doc]["source_url"] = origin.page_url
    # One meeting row (and meeting key) per document, not per event: a batch holds ~16 events per document.
    meets = {doc: _meeting_row(doc, ev.meeting, ev.item_count) for doc, ev in latest.items()}

    # The meeting-version locks first, then rows in sorted key order: two workers cannot deadlock.
    await lock_keys(conn, (m["meeting_key"] for m in meets.values()))
    # documents: first writer wins (a re-ingest under another name is the same document).
    await _insert_ignore(conn, documents, [docs[k] for k in sorted(docs)], "document_id")
    # DO UPDATE (not NOTHING) also row-locks the meeting, serialising concurrent batches of one meeting
    # so the completeness count below sees every committed item (no write skew between two workers).
    await _upsert(conn, meetings, [meets[k] for k in sorted(meets)], "document_id")
    item_events = [items[k] for k in sorted(items)]
    item_rows = [_item_row(ev, now, makers.get(ev.document_id)) for ev in item_events]
    refs_of = {row["id"]: row["attachment_refs"] for row in item_rows}
    await _upsert(conn, agenda_items, item_rows, "id", keep=("stored_at",))
    # Not the search index: one queue row per item, indexed after the commit by the search indexer in large
    # batches (services/store/indexer.py) — stemming and FTS writes were half of this transaction's CPU.
    if item_rows:
        await conn.execute(_statements()["queue"], [{"item_id": row["id"]} for row in item_rows])

    completed = await _complete_meetings(conn, sorted(meets), now)
    changed = await resolve_versions(conn, (meets[doc]["meeting_key"] for doc in completed))
    # Each decision is written once, with its final page keys: the meetings' completeness and versions are
    # settled above, so `listed` is known before the insert.
    listed = await _listed(conn, sorted(meets))

    # Announced in the order the events arrived (not key order): of two versions in one batch, the later
    # one compares with the earlier.
    arrival = {id(ev): n for n, ev in enumerate(events)}
    decided = sorted((ev for ev in item_events if ev.item.decision is not None), key=lambda ev: arrival[id(ev)])
    # What subscribers last heard of these items from other versions of the same meeting (revisions.py).
    heard = await last_announced(
        conn, (meets[ev.document_id]["meeting_key"] for ev in decided if meets[ev.document_id]["meeting_key"])
    )
    decision_rows, outbox_rows = [], []
    for ev in decided:
        assert ev.item.decision is not None
        event = decision_made(ev, now=now, public_base_url=public_base_url)
        if ev.document_id in origins:
            event = event.model_copy(update={
                "source_url": origins[ev.document_id].page_url, "attachment_links": links(refs_of[event.item_id]),
            })
        decision_rows.append(
            {
                "item_id": event.item_id,
                "document_id": ev.document_id,
                "event_id": event.event_id,
                "text": ev.item.decision.text,
                "outcome": ev.item.decision.outcome.value,
                "stored_at": now,
                "position": ev.position,
                "case_number": ev.item.case_number,
                "kle": kle_of(ev.item.case_number),
                "date_order": date_order(meets[ev.document_id]["meeting_date"]),
                "listed": listed.get(ev.document_id, False),
            }
        )
        key = meets[ev.document_id]["meeting_key"]
        same_item = match_key(ev.item.number, ev.item.title, ev.item.case_number)
        before = heard.last(key, same_item, besides=ev.document_id) if key else None
        announcement: DecisionMade | DecisionRevised
        if before is None:
            announcement = event
        elif same_decision(before.text, before.outcome.value, event.decision_text, event.outcome.value):
            continue  # this version repeats the decision: nothing new to announce
        else:
            announcement = decision_revised(event, before, ev.position)
        if key:  # a later version in this batch compares with this one
            heard.add(
                key,
                same_item,
                Announced(announcement.event_id, ev.document_id, event.item_id, event.decision_text, event.outcome),
            )
        outbox_rows.append(
            {
                "event_id": announcement.event_id,
                "stream": streams.DECISIONS,
                "payload": announcement.model_dump_json(),
                "created_at": now,
            }
        )
    await _upsert(conn, decisions, decision_rows, "item_id", keep=("stored_at", "event_id"))
    await _insert_ignore(conn, outbox, outbox_rows, "event_id")

    # Decisions stored by earlier batches change keys only when their meeting completed now (unless every
    # item of it is in this batch, and so was just written with its keys) or changed version.
    in_batch = Counter(ev.document_id for ev in item_events)
    earlier = [doc for doc in completed if in_batch[doc] < meets[doc]["item_count"]]
    await sync_decisions(conn, {*earlier, *changed})
    return StoreResult(len(meets), len(item_events), len(decided), completed)


async def _listed(conn: AsyncConnection, document_ids: list[str]) -> dict[str, bool]:
    """Per meeting, whether its decisions are listed: complete and the current version."""
    if not document_ids:
        return {}
    rows = await conn.execute(_statements()["listed"], {"docs": document_ids})
    return {r.document_id: bool(r.complete) and r.superseded_by is None for r in rows}


def date_order(meeting_date: dt.date | None) -> int:
    """`decisions.date_order` of a meeting date: ascending is newest first, undated last."""
    return -meeting_date.toordinal() if meeting_date else 0


async def sync_decisions(conn: AsyncConnection, document_ids: Iterable[str]) -> None:
    """Copy each meeting's date and visibility (complete and current) onto its decisions' page keys.

    Called wherever the store changes a meeting's date, completeness or version pointer, in the same
    transaction. Writes only the rows whose keys change: most batches change none.
    """
    docs = sorted(set(document_ids))
    if not docs:
        return
    statements = _statements()
    rows = (await conn.execute(statements["keys"], {"docs": docs})).all()
    params = [
        {"doc": r.document_id, "new_order": date_order(r.meeting_date),
         "new_listed": bool(r.complete) and r.superseded_by is None}
        for r in rows
    ]  # fmt: skip
    if params:
        await conn.execute(statements["sync"], params)


async def _complete_meetings(conn: AsyncConnection, document_ids: list[str], now: dt.datetime) -> tuple[str, ...]:
    """Set `complete` on those meetings whose stored item count reached their item_count."""
    if not document_ids:
        return ()
    result = await conn.execute(_statements()["complete"], {"docs": document_ids, "now": now})
    return tuple(sorted(row[0] for row in result))

"""Revisions: a new version of a stored meeting announces only the decisions that changed.

Corrected minutes repeat every item of the minutes they correct. Announcing each again as `DecisionMade`
would tell subscribers of a dozen decisions when one sentence changed, so each decided item of a new version
is compared with what subscribers last heard about the same item of the same meeting (the newest announced
event of another version with the same meeting key): unchanged (text with spaces folded, and outcome) →
nothing; changed → `DecisionRevised` with the old and new text and outcome and a word-level diff; an item no
earlier version announced → `DecisionMade`.

An item is "the same" across versions by its number and its case number (its title when it has none).
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.store.models import agenda_items, decisions, meetings, outbox
from shared.contracts.events import WordChange, revision_event_id
from shared.contracts.meeting import Outcome

_SPACES = re.compile(r"\s+")
MatchKey = tuple[str, ...]


def match_key(number: int, title: str, case_number: str | None) -> MatchKey:
    """What makes two items of two versions of one meeting the same item: the number printed, and the case
    number (the title when there is none). Several items of one meeting can share a case number (a case
    treated in parts), so the number is always part of it."""
    if case_number and case_number.strip():
        return ("case", str(number), _SPACES.sub("", case_number).casefold())
    return ("item", str(number), _fold(title).casefold())


def _fold(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def same_decision(old_text: str, old_outcome: str, new_text: str, new_outcome: str) -> bool:
    """Whether a subscriber would read the two as one decision (line breaks and spacing do not count)."""
    return old_outcome == new_outcome and _fold(old_text) == _fold(new_text)


def word_diff(old: str, new: str) -> tuple[WordChange, ...]:
    """The word-level edit script from `old` to `new` (difflib's opcodes over whitespace-split words)."""
    a, b = old.split(), new.split()
    changes = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        changes.append(WordChange(op=op, old=" ".join(a[i1:i2]), new=" ".join(b[j1:j2])))
    return tuple(changes)


@dataclass(frozen=True)
class Announced:
    """The last announced decision of one item of a meeting (from the outbox: what subscribers heard)."""

    event_id: str
    document_id: str
    item_id: str
    text: str
    outcome: Outcome


class Heard:
    """What the stream said about the items of some meetings, oldest first; grows as a batch announces."""

    def __init__(self) -> None:
        self._said: dict[str, dict[MatchKey, list[Announced]]] = {}

    def add(self, key: str, item: MatchKey, announced: Announced) -> None:
        """Record an announcement (newer than every one recorded before)."""
        self._said.setdefault(key, {}).setdefault(item, []).append(announced)

    def last(self, key: str, item: MatchKey, *, besides: str) -> Announced | None:
        """The newest announcement of the item by a version other than `besides` (a redelivered version
        compares with the others, as the first time; items of one document never compare with each other)."""
        for announced in reversed(self._said.get(key, {}).get(item, [])):
            if announced.document_id != besides:
                return announced
        return None


@functools.cache
def _versions_of() -> Any:
    # Built once (repository.py says why): it runs for every batch with decisions.
    return select(meetings.c.meeting_key).where(meetings.c.meeting_key.in_(bindparam("keys", expanding=True)))


async def last_announced(conn: AsyncConnection, keys: Iterable[str]) -> Heard:
    """What the stream said about the items of the meetings with these keys, from the outbox.

    Two indexed lookups: the decided items of every version, then the outbox rows of the two events each
    could have announced (its DecisionMade or its DecisionRevised, both deterministic ids). Only keys held
    by more than one stored meeting can have been heard from another version (the caller stores its own
    meetings first), and most meetings have one version: a lookup of the keys' meetings first skips both.
    """
    heard = Heard()
    wanted = sorted(set(keys))
    if not wanted:
        return heard
    versions = Counter((await conn.execute(_versions_of(), {"keys": wanted})).scalars())
    wanted = [key for key in wanted if versions[key] > 1]
    if not wanted:
        return heard
    items = (
        await conn.execute(
            select(
                meetings.c.meeting_key,
                agenda_items.c.number,
                agenda_items.c.title,
                agenda_items.c.case_number,
                agenda_items.c.position,
                decisions.c.item_id,
                decisions.c.document_id,
                decisions.c.event_id,
            )
            .select_from(decisions)
            .join(agenda_items, agenda_items.c.id == decisions.c.item_id)
            .join(meetings, meetings.c.document_id == decisions.c.document_id)
            .where(meetings.c.meeting_key.in_(wanted))
        )
    ).all()
    if not items:
        return heard
    by_event = {}
    for row in items:
        by_event[row.event_id] = row
        by_event[revision_event_id(row.document_id, row.position)] = row
    sent = (
        await conn.execute(
            select(outbox.c.id, outbox.c.event_id, outbox.c.payload).where(outbox.c.event_id.in_(sorted(by_event)))
        )
    ).all()
    for entry in sorted(sent, key=lambda r: r.id):  # oldest first
        row = by_event[entry.event_id]
        event = orjson.loads(entry.payload)
        heard.add(row.meeting_key, match_key(row.number, row.title, row.case_number), Announced(
            event_id=entry.event_id,
            document_id=row.document_id,
            item_id=row.item_id,
            text=event["decision_text"],
            outcome=Outcome(event["outcome"]),
        ))
    return heard

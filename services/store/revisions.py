"""Revisions: a new version of a stored meeting announces only the decisions that changed.

Corrected minutes repeat every item of the minutes they correct. Announcing each again as `DecisionMade`
would tell subscribers of a dozen decisions when one sentence changed, so each decided item of a new version
is compared with what subscribers last heard about the same item of the same meeting (the newest announced
event of another version with the same meeting key): unchanged (text with spaces folded, and outcome) →
nothing; changed → `DecisionRevised` with the old and new text and outcome and a word-level diff; an item no
earlier version announced → `DecisionMade`.

An item is "the same" across versions by its case number when it has one, else by its number and title.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.store.models import agenda_items, decisions, meetings, outbox
from shared.contracts.events import WordChange, revision_event_id
from shared.contracts.meeting import Outcome

_SPACES = re.compile(r"\s+")
MatchKey = tuple[str, ...]


def match_key(number: int, title: str, case_number: str | None) -> MatchKey:
    """What makes two items of two versions of one meeting the same item."""
    if case_number and case_number.strip():
        return ("case", _SPACES.sub("", case_number).casefold())
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


async def last_announced(
    conn: AsyncConnection, keys: Iterable[str], excluding: Iterable[str]
) -> dict[str, dict[MatchKey, Announced]]:
    """Per meeting key, per item, the newest announced decision of a version other than `excluding`.

    Two indexed lookups: the decided items of the other versions, then the outbox rows of the two events
    each could have announced (its DecisionMade or its DecisionRevised, both deterministic ids).
    """
    wanted, skip = sorted(set(keys)), sorted(set(excluding))
    if not wanted:
        return {}
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
            .where(meetings.c.meeting_key.in_(wanted), meetings.c.document_id.not_in(skip))
        )
    ).all()
    if not items:
        return {}
    by_event = {}
    for row in items:
        by_event[row.event_id] = row
        by_event[revision_event_id(row.document_id, row.position)] = row
    sent = (
        await conn.execute(
            select(outbox.c.id, outbox.c.event_id, outbox.c.payload).where(outbox.c.event_id.in_(sorted(by_event)))
        )
    ).all()
    found: dict[str, dict[MatchKey, Announced]] = {}
    for entry in sorted(sent, key=lambda r: r.id):  # later rows overwrite earlier: the newest announcement wins
        row = by_event[entry.event_id]
        event = orjson.loads(entry.payload)
        found.setdefault(row.meeting_key, {})[match_key(row.number, row.title, row.case_number)] = Announced(
            event_id=entry.event_id,
            document_id=row.document_id,
            item_id=row.item_id,
            text=event["decision_text"],
            outcome=Outcome(event["outcome"]),
        )
    return found

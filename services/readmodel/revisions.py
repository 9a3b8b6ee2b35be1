"""Corrected decisions on the meeting page: how an earlier version of the meeting decided an item differently.

The stream announces a correction once (`DecisionRevised`, services/store/revisions.py), comparing with what
subscribers last heard. The page must keep saying "rettet" for as long as the corrected version is shown,
even after a later version repeats the correction unchanged, so it compares the stored versions themselves:
for each decided item of a version, the nearest earlier version (in completion order) whose decision of the
same item (same number and case number, as the store matches them) reads differently. Versions that decide
the item the same way are skipped, so the mark lasts; a version without the item is skipped too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from services.readmodel.common import Target, rows
from services.readmodel.results import RevisionOut, VersionInfo
from services.store.models import agenda_items, decisions
from services.store.revisions import MatchKey, match_key, same_decision, word_diff
from shared.contracts.meeting import Outcome


async def item_revisions(target: Target, document_id: str, versions: Sequence[VersionInfo]) -> dict[int, RevisionOut]:
    """The revision of each decided item of `document_id` (by position) that an earlier version decided otherwise.

    `versions`: every version of the meeting, oldest first (as `get_meeting` lists them). One query, over the
    decided items of this version and the ones before it; nothing at all for a meeting's first version.
    """
    order = [v.document_id for v in versions]
    if document_id not in order or order.index(document_id) == 0:
        return {}
    earlier = order[: order.index(document_id)]
    stmt = (
        sa.select(
            agenda_items.c.id,
            agenda_items.c.document_id,
            agenda_items.c.position,
            agenda_items.c.number,
            agenda_items.c.title,
            agenda_items.c.case_number,
            decisions.c.text,
            decisions.c.outcome,
        )
        .select_from(agenda_items.join(decisions, decisions.c.item_id == agenda_items.c.id))
        .where(agenda_items.c.document_id.in_([*earlier, document_id]))
        .order_by(agenda_items.c.document_id, agenda_items.c.position)
    )
    by_version: dict[str, dict[MatchKey, Any]] = {}
    for row in await rows(target, stmt):
        # The first item of a version with a key stands for it (the store compares the same way).
        by_version.setdefault(row.document_id, {}).setdefault(match_key(row.number, row.title, row.case_number), row)
    out: dict[int, RevisionOut] = {}
    for key, row in by_version.get(document_id, {}).items():
        for version in reversed(earlier):
            before = by_version.get(version, {}).get(key)
            if before is None or same_decision(before.text, before.outcome, row.text, row.outcome):
                continue
            out[row.position] = RevisionOut(
                previous_document_id=before.document_id,
                previous_item_id=before.id,
                previous_outcome=Outcome(before.outcome),
                previous_text=before.text,
                diff=list(word_diff(before.text, row.text)),
            )
            break
    return out

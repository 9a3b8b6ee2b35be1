"""Example instances of the contracts, for tests, benchmarks and the docs: one place that builds a valid
`DecisionMade`, so a field added to the contract is added here once (not in every test's own factory)."""

from __future__ import annotations

from typing import Any

from shared.contracts.events import DecisionMade, utcnow
from shared.contracts.meeting import Outcome


def decision_made(n: int, *, document_id: str = "d" * 64, **fields: Any) -> DecisionMade:
    """The `n`-th example decision of one document: event and item ids derived from `n`, an approved item of
    a city council; any field can be given instead (`committee=`, `item_number=`, `meeting_date=`, …)."""
    values: dict[str, Any] = {
        "event_id": f"00000000-0000-0000-0000-{n:012d}",
        "municipality": "Vejle Kommune",
        "committee": "Byrådet",
        "meeting_date": None,
        "item_number": 1,
        "item_title": f"Punkt {n}",
        "case_number": None,
        "outcome": Outcome.APPROVED,
        "decision_text": "Godkendt.",
        "document_id": document_id,
        "item_id": f"{document_id}:{n}",
        "item_url": f"https://minutes.test/items/{n}",
        "occurred_at": utcnow(),
    }
    values.update(fields)
    return DecisionMade(**values)

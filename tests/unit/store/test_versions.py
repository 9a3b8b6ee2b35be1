"""The meeting key that groups versions of one meeting."""

from __future__ import annotations

import datetime as dt

from services.store.versions import meeting_key
from shared.contracts.meeting import DocumentKind
from tests.unit.store.factories import header


def test_the_key_folds_case_and_spacing_and_ignores_kind_time_and_place() -> None:
    a = header("Aarhus Kommune", "Økonomiudvalget")
    b = header("AARHUS  KOMMUNE", " økonomiudvalget ").model_copy(
        update={"kind": DocumentKind.AGENDA, "start_time": "09:00", "location": "Online"}
    )
    assert meeting_key(a) == meeting_key(b) == "aarhus kommune|økonomiudvalget|2025-03-03"


def test_another_date_or_committee_is_another_meeting() -> None:
    base = meeting_key(header())
    assert meeting_key(header(day=dt.date(2025, 3, 4))) != base
    assert meeting_key(header(committee="Byrådet")) != base
    assert meeting_key(header(municipality="Odense Kommune")) != base


def test_no_key_without_municipality_committee_or_date() -> None:
    for missing in ("municipality", "committee", "meeting_date"):
        assert meeting_key(header().model_copy(update={missing: None})) is None

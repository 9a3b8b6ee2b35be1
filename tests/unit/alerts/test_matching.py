"""The pure filter of a subscription against one live event (services/alerts/matching.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from services.alerts.matching import Filter, matches
from services.store.search import SearchSyntaxError
from shared.contracts.events import DecisionMade
from shared.contracts.meeting import Outcome


def event(**changes: object) -> DecisionMade:
    base: dict[str, object] = {
        "event_id": "00000000-0000-0000-0000-000000000001",
        "municipality": "Vejle Kommune",
        "committee": "Teknik- og Miljøudvalget",
        "meeting_date": dt.date(2025, 3, 3),
        "item_number": 4,
        "item_title": "Forslag til lokalplan for boligområde ved skoven",
        "case_number": "01.02.05-P16-3-24",
        "outcome": Outcome.APPROVED,
        "decision_text": "Udvalget godkendte indstillingen om kollektiv trafik.",
        "document_id": "d" * 64,
        "item_id": "d" * 64 + ":3",
        "item_url": "https://minutes.test/items/x",
        "occurred_at": dt.datetime(2025, 3, 3, 12, tzinfo=dt.UTC),
    }
    base.update(changes)
    return DecisionMade.model_validate(base)


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (Filter(), True),
        (Filter(municipality="vejle kommune"), True),
        (Filter(municipality="VEJLE"), True),  # "X Kommune" and X are one municipality, as in the read API
        (Filter(municipality="Vejlex"), False),  # otherwise the whole name
        (Filter(committee="miljø"), True),  # substring, any case
        (Filter(committee="Økonomi"), False),
        (Filter(outcome="approved"), True),
        (Filter(outcome="rejected"), False),
        (Filter(case_number=" 01.02.05-p16-3-24 "), True),
        (Filter(case_number="01.02.05-P16-3-25"), False),
        (Filter(phrase="lokalplanen"), True),  # another inflection: the same Danish stem
        (Filter(phrase='"kollektiv trafik"'), True),
        (Filter(phrase='"trafik kollektiv"'), False),  # a phrase keeps its order
        (Filter(phrase="skov -trafik"), False),
        (Filter(phrase="vindmølle OR boligområdet"), True),
        (Filter(phrase="lokalplan vindmølle"), False),  # every word must occur
        (Filter(municipality="Vejle Kommune", phrase="lokalplan", outcome="rejected"), False),
    ],
)
def test_filter_rules(flt: Filter, expected: bool) -> None:
    assert matches(flt, event()) is expected


def test_a_phrase_does_not_span_title_and_decision() -> None:
    # The title ends with "skoven", the decision starts with "Udvalget".
    assert not matches(Filter(phrase='"skoven udvalget"'), event())
    assert matches(Filter(phrase="skoven udvalget"), event())


def test_region_is_the_meetings_not_the_events() -> None:
    assert matches(Filter(region="Region Syddanmark"), event(), region="region syddanmark")
    assert not matches(Filter(region="Region Syddanmark"), event(), region=None)


def test_a_phrase_of_exclusions_only_is_refused() -> None:
    with pytest.raises(SearchSyntaxError):
        Filter(phrase="-vindmølle")

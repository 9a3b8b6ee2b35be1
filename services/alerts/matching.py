"""A subscription's filter: its stored fields, as the read model's one decision filter.

The rules are not here: a subscription is a `ReadFilter` (services/readmodel/filter.py) with the fields a
subscription has — municipality, region, committee, outcome, case number and a phrase (`q`) — evaluated on
each live event by that module's `Matcher`, so a subscription gets what `minutes search` with the same
filter would find. The alerts give the evaluation the meeting's region (events do not carry it) and match
the phrase on the item's title and decision text.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.readmodel.filter import Event, Matcher, ReadFilter, event_stems
from services.store.search import Query

__all__ = ["Event", "Filter", "compiled", "event_stems", "matches"]


@dataclass(frozen=True)
class Filter:
    """A subscription's filter fields (None: any); every given one must hold (AND).

    Built once per distinct set of fields (`compiled`); raises SearchSyntaxError for a phrase that can never
    match, like `-word` alone.
    """

    municipality: str | None = None
    region: str | None = None
    committee: str | None = None
    outcome: str | None = None
    case_number: str | None = None
    phrase: str | None = None
    matcher: Matcher = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "matcher", Matcher(self.read_filter()))

    def read_filter(self) -> ReadFilter:
        """The read model's filter these fields are."""
        return ReadFilter.model_validate(
            {
                "municipality": self.municipality,
                "region": self.region,
                "committee": self.committee,
                "outcome": self.outcome,
                "case_number": self.case_number,
                "q": self.phrase,
            }
        )

    @property
    def query(self) -> Query | None:
        """The parsed phrase, if any."""
        return self.matcher.query


@functools.lru_cache(maxsize=65536)
def compiled(
    municipality: str | None,
    region: str | None,
    committee: str | None,
    outcome: str | None,
    case_number: str | None,
    phrase: str | None,
) -> Filter:
    """A filter built once per distinct set of fields: the worker checks every subscription per event."""
    return Filter(municipality, region, committee, outcome, case_number, phrase)


def matches(flt: Filter, event: Event, *, region: str | None = None, text_stems: Sequence[str] | None = None) -> bool:
    """Whether `event` matches; `region` is the meeting's (events do not carry it), `text_stems` the
    precomputed `event_stems(event)` when many filters are checked against one event."""
    return flt.matcher.check(event, region, None, text_stems)

"""Does a live decision event match a subscription's filter? Pure: no database, no network.

The rules are those of the read API's `ReadFilter` (services/store/reader.py), so a subscription gets what
`minutes search` with the same filter would find: municipality and region exact (any case), committee a
substring (any case), outcome exact, case number exact (spacing ignored), and the phrase in the search
syntax of services/store/search.py, matched on the Danish stems of the item's title and decision text.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.store.search import Query, parse_query, stems
from shared.contracts.events import DecisionMade, DecisionRevised

Event = DecisionMade | DecisionRevised


@dataclass(frozen=True)
class Filter:
    """A subscription's filter; every given field must hold (AND)."""

    municipality: str | None = None
    region: str | None = None
    committee: str | None = None
    outcome: str | None = None
    case_number: str | None = None
    phrase: str | None = None
    _query: Query | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Parsed once (raises SearchSyntaxError for a phrase that can never match, like `-word` alone).
        if self.phrase and self._query is None:
            object.__setattr__(self, "_query", parse_query(self.phrase))

    @property
    def query(self) -> Query | None:
        """The parsed phrase, if any."""
        return self._query


def case_key(case_number: str | None) -> str:
    """A case number compared without its spacing or case (`27.00.00-P20-1-24` as printed)."""
    return "".join((case_number or "").split()).casefold()


def _contains(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    if n == 0:
        return False
    first = needle[0]
    return any(
        haystack[i] == first and list(haystack[i : i + n]) == list(needle) for i in range(len(haystack) - n + 1)
    )


@functools.lru_cache(maxsize=65536)
def _term_stems(term: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(stems(" ".join(term)))


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


def text_matches(query: Query, text_stems: Sequence[str]) -> bool:
    """Whether stemmed text satisfies the query: each group has an alternative that occurs (a phrase: its
    stems next to each other, in order), and no excluded term occurs."""
    def occurs(term: tuple[str, ...]) -> bool:
        return _contains(text_stems, _term_stems(term))

    return all(any(occurs(t) for t in group) for group in query.groups) and not any(
        occurs(t) for t in query.excluded
    )


def event_stems(event: Event) -> list[str]:
    """The stems a phrase is matched against: title, then decision text (a phrase does not span them)."""
    return [*stems(event.item_title), "\x00", *stems(event.decision_text)]


def matches(flt: Filter, event: Event, *, region: str | None = None, text_stems: Sequence[str] | None = None) -> bool:
    """Whether `event` matches; `region` is the meeting's (events do not carry it), `text_stems` the
    precomputed `event_stems(event)` when many filters are checked against one event."""
    if flt.municipality and (event.municipality or "").casefold() != flt.municipality.casefold():
        return False
    if flt.region and (region or "").casefold() != flt.region.casefold():
        return False
    if flt.committee and flt.committee.casefold() not in (event.committee or "").casefold():
        return False
    if flt.outcome and event.outcome != flt.outcome:
        return False
    if flt.case_number and case_key(event.case_number) != case_key(flt.case_number):
        return False
    if flt.query is not None:
        return text_matches(flt.query, text_stems if text_stems is not None else event_stems(event))
    return True

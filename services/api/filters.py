"""Query parameters -> `ReadFilter`, with one-line messages for bad values; shared by the API and the page.

Empty values count as absent: a plain HTML form sends every field, filled or not.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query
from pydantic import ValidationError

from services.api.errors import ApiError
from services.readmodel.filter import ReadFilter
from shared.contracts.meeting import Outcome

# The query parameters of a filter, in the order links are written.
FILTER_KEYS = (
    "q",
    "municipality",
    "region",
    "committee",
    "date_from",
    "date_to",
    "outcome",
    "case_number",
    "kle",
    "absent",
)
_TEXT_MAX = 500


# A date as Danes write it (`31.08.2025`, `31-8-2025`, `31/8/2025`): what a browser without a date picker sends
# when the person follows the page's hint. ISO (`2025-08-31`) is what a date picker and the API send.
_DANISH_DATE = re.compile(r"^(\d{1,2})[.\-/](\d{1,2})[.\-/](\d{4})$")


def _date(name: str, value: str) -> dt.date:
    try:
        danish = _DANISH_DATE.match(value)
        if danish:
            day, month, year = (int(g) for g in danish.groups())
            return dt.date(year, month, day)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ApiError(400, f"{name}: {value[:40]!r} is not a date (YYYY-MM-DD or DD.MM.YYYY)") from None


def build_filter(raw: Mapping[str, str | None], *, all_versions: bool = False) -> ReadFilter:
    """A ReadFilter from raw parameter values; ApiError(400) names the parameter that is wrong."""
    values: dict[str, object] = {}
    for key in FILTER_KEYS:
        value = (raw.get(key) or "").strip()
        if not value:
            continue
        if len(value) > _TEXT_MAX:
            raise ApiError(400, f"{key}: longer than {_TEXT_MAX} characters")
        if key in ("date_from", "date_to"):
            values[key] = _date(key, value)
        elif key == "outcome":
            try:
                values[key] = Outcome(value)
            except ValueError:
                allowed = ", ".join(o.value for o in Outcome)
                raise ApiError(400, f"outcome: {value[:40]!r} is not one of {allowed}") from None
        else:
            values[key] = value
    start, end = values.get("date_from"), values.get("date_to")
    if isinstance(start, dt.date) and isinstance(end, dt.date) and start > end:
        raise ApiError(400, "date_from is after date_to")
    try:
        return ReadFilter.model_validate({**values, "all_versions": all_versions})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ()))
        raise ApiError(400, f"{where}: {error.get('msg', 'invalid')}") from None


def query_of(flt: ReadFilter, **extra: str | None) -> str:
    """The query string that reproduces `flt` (plus `extra`), for links and the next page."""
    pairs: list[tuple[str, str]] = []
    for key in FILTER_KEYS:
        value = getattr(flt, key)
        if value is None:
            continue
        pairs.append((key, value.value if isinstance(value, Outcome) else str(value)))
    if flt.all_versions:
        pairs.append(("all_versions", "true"))
    pairs += [(k, v) for k, v in extra.items() if v]
    return urlencode(pairs)


async def api_filter(
    q: Annotated[
        str | None, Query(description='Full-text query (Danish stemming): words, "a phrase", -exclude.')
    ] = None,
    municipality: Annotated[
        str | None, Query(description="Municipality, exact name, any case; `X Kommune` is X.")
    ] = None,
    region: Annotated[str | None, Query(description="Region, exact name, any case.")] = None,
    committee: Annotated[str | None, Query(description="Part of the committee's name, any case.")] = None,
    date_from: Annotated[str | None, Query(description="Meetings on or after this date (YYYY-MM-DD).")] = None,
    date_to: Annotated[str | None, Query(description="Meetings on or before this date (YYYY-MM-DD).")] = None,
    outcome: Annotated[str | None, Query(description="One of " + ", ".join(o.value for o in Outcome) + ".")] = None,
    case_number: Annotated[str | None, Query(description="Case number; spacing and case are ignored.")] = None,
    kle: Annotated[str | None, Query(description="KLE subject prefix: NN, NN.NN or NN.NN.NN.")] = None,
    absent: Annotated[str | None, Query(description="A member absent for the item (name, any case).")] = None,
    all_versions: Annotated[bool, Query(description="Also superseded versions of meetings.")] = False,
) -> ReadFilter:
    """FastAPI dependency: the filter of a list request. `async` though it never awaits: FastAPI runs a plain
    `def` dependency in a worker thread, and each of those threads keeps memory of its own (see app_deps)."""
    raw = {
        "q": q,
        "municipality": municipality,
        "region": region,
        "committee": committee,
        "date_from": date_from,
        "date_to": date_to,
        "outcome": outcome,
        "case_number": case_number,
        "kle": kle,
        "absent": absent,
    }
    return build_filter(raw, all_versions=all_versions)

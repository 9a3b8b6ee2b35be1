"""Danish dates and times as printed in minutes: `04-10-2023`, `4/12 2012`, `4. oktober 2023`, `kl. 16.00`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

MONTHS: Final[dict[str, int]] = {
    "januar": 1, "jan": 1, "februar": 2, "feb": 2, "marts": 3, "mar": 3, "april": 4, "apr": 4, "maj": 5,
    "juni": 6, "jun": 6, "juli": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_MONTH_NAMES: Final = "|".join(sorted(MONTHS, key=len, reverse=True))
# One pattern for the three shapes; named groups tell which matched. Bounded digit runs only.
# (Every DATE and TIME match holds a digit: `may_hold_date` relies on it.)
DATE: Final = re.compile(
    rf"(?<![\d.])(?:(?P<d1>\d{{1,2}})\s?[-./]\s?(?P<m1>\d{{1,2}})\s?[-./]\s?(?P<y1>\d{{4}}|\d{{2}})(?![\d-])"
    rf"|(?P<d4>\d{{1,2}})/(?P<m4>\d{{1,2}})\s(?P<y4>\d{{4}})(?![\d-])"  # `4/12 2012`
    rf"|(?P<y2>\d{{4}})-(?P<m2>\d{{2}})-(?P<d2>\d{{2}})(?!\d)"
    rf"|(?P<d3>\d{{1,2}})\.?\s{{0,2}}(?P<m3>{_MONTH_NAMES})\.?(?:\s{{1,2}}|,\s?)(?P<y3>\d{{4}}))(?!\d)",
    re.I,
)
_DIGIT: Final = re.compile(r"\d")
# `kl. 16:00`, `kl. 8.30`, `Kl 16`; a bare `16:00` only with a colon (a dot would be a date or amount).
# Exports print seconds too (`04-06-2020 09:00:00`): a third group `:SS` belongs to the time.
TIME: Final = re.compile(
    r"\bkl\.?\s{0,2}(?P<h1>\d{1,2})(?:[.:](?P<m1>\d{2}))?(?!\d)"
    r"|(?<![\d.:+\-])(?P<h2>\d{1,2}):(?P<m2>\d{2})(?::[0-5]\d)?(?![\d:])",
    re.I,
)

# `2022-11-07T19:00:00+01:00` (portal exports): the time before the offset is the meeting's local time.
ISO_DATETIME: Final = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ](?P<h>[01]\d|2[0-3]):(?P<m>[0-5]\d)(?::\d{2}(?:\.\d+)?)?")

# `16.00` in the value of a time label; amounts (`1.000`) and dates are no times.
LOOSE_TIME: Final = re.compile(r"(?<![\d.,])(?P<h>[01]?\d|2[0-3])\.(?P<m>[0-5]\d)(?![\d.,])")


def parse_date(match: re.Match[str]) -> dt.date | None:
    """The date of a DATE match, or None when the numbers are no real date (KLE codes like 15.00.00)."""
    g = match.group
    try:
        if g("y4"):
            return dt.date(int(g("y4")), int(g("m4")), int(g("d4")))
        if g("y1"):
            year = int(g("y1"))
            year += 2000 if year < 100 else 0
            return dt.date(year, int(g("m1")), int(g("d1")))
        if g("y2"):
            return dt.date(int(g("y2")), int(g("m2")), int(g("d2")))
        return dt.date(int(g("y3")), MONTHS[g("m3").casefold()], int(g("d3")))
    except (ValueError, KeyError):
        return None


def may_hold_date(text: str) -> bool:
    """Whether a text has a digit, which every DATE and TIME match holds.

    `DATE` cannot skip ahead to a digit by itself (it opens with a look-behind and an alternation), so it
    is tried at every position; the one-class scan for a digit is many times cheaper, and most lines have none.
    """
    return _DIGIT.search(text) is not None


def find_date(text: str) -> dt.date | None:
    """The first real date in a piece of text."""
    if not may_hold_date(text):
        return None
    for m in DATE.finditer(text):
        date = parse_date(m)
        if date is not None and 1900 < date.year < 2200:
            return date
    return None


def find_time(text: str, *, loose: bool = False) -> str | None:
    """The first clock time in a piece of text, as HH:MM.

    `loose` is for values of a time label (`Mødetidspunkt: 16.00`): there a bare `16.00` is a time,
    once the dates are taken out.
    """
    iso = ISO_DATETIME.search(text)
    if iso is not None:
        return f"{iso.group('h')}:{iso.group('m')}"  # the local time as printed, never converted
    for m in TIME.finditer(text):
        hour = m.group("h1") or m.group("h2")
        minute = m.group("m1") or m.group("m2") or "00"
        if int(hour) < 24 and int(minute) < 60:
            return f"{int(hour):02d}:{minute}"
    if loose:
        undated = DATE.sub(lambda d: " " if parse_date(d) is not None else d.group(0), text)
        m2 = LOOSE_TIME.search(undated)
        if m2 is not None:
            return f"{int(m2.group('h')):02d}:{m2.group('m')}"
    return None


def strip_dates(text: str) -> str:
    """Text with dates, clock times and their little words (`d.`, `den`, `kl.`) removed."""
    if may_hold_date(text):
        text = DATE.sub(" ", text)
        text = TIME.sub(" ", text)
    text = re.sub(r"\b(?:den|d\.|kl\.?|mandag|tirsdag|onsdag|torsdag|fredag|lørdag|søndag)(?=\s|$|,)", " ", text,
                  flags=re.I)
    return re.sub(r"\s+", " ", text).strip(" ,-–:")

"""Header facts printed as prose rather than as labelled fields.

Three shapes recur across publishing systems:

- a sentence that the meeting was held (`Tirsdag den 9. oktober 2012 kl. 08:15 afholdt Økonomiudvalget møde i
  udvalgsværelse 1`, `Mødet blev afholdt den … på Rådhuset`, `Byrådet holdt møde den …`), typical of protocols;
- a title sentence (`Referat til mødet i Byrådet den 15. maj 2018 kl. 17:00 i Byrådssalen`), which Acadre
  exports print one phrase a line;
- an unlabelled venue line on the cover (`Byrådssalen, Rådhuset`, `Udvalgsværelse 2`).

Also: the body that meets, derived from the meeting's name (`forretningsudvalgsmøde` -> `Forretningsudvalget`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from services.parser.core.dates import DATE, TIME, find_date, find_time
from services.parser.core.patterns import COMMITTEE_WORD

_WEEKDAY: Final = r"(?:man|tirs|ons|tors|fre|lør|søn)dag"
# `afholdt`/`holdt` as the verb of a sentence about the meeting; `afholdes` (future, agendas) is no record.
_HELD_VERB: Final = re.compile(r"\b(?:af)?holdt\b", re.I)
# The end of a sentence: a full stop before a capital, a colon, or the end of the line. `kl. 08` and
# `9. oktober` are followed by a digit or a lower-case word, so they do not end it.
_SENTENCE_END: Final = re.compile(r"\.(?=\s+[A-ZÆØÅ])|:\s|;")
_SENTENCE_START: Final = re.compile(r"(?:\.\s+|:\s+|;\s*)(?=[A-ZÆØÅ])")
_BEFORE_WINDOW: Final = 120
_AFTER_WINDOW: Final = 300
# `… afholdt Økonomiudvalget (ekstraordinært) møde …`: the subject between the verb and `møde`.
_SUBJECT_MEETING: Final = re.compile(
    r"^\s*(?P<subject>.{3,90}?)\s+(?:et\s+|sit\s+)?(?:(?:ordinært|ekstraordinært|konstituerende)\s+)?møde\b", re.I
)
# The meeting is the sentence's subject (`Mødet blev afholdt`) or its object (`holdt … møde`).
_MEETING_SUBJECT: Final = re.compile(r"\bmødet\s+(?:blev|er|var|har\s+været)\s*$", re.I)
_MEETING_OBJECT: Final = re.compile(r"^\s*(?:et\s+|sit\s+)?(?:(?:ordinært|ekstraordinært|konstituerende)\s+)?møde\b",
                                    re.I)
# Dates and times with their little words, cut out so that a place does not run into them.
_UNNAMED: Final = re.compile(r"\(\?P<\w+>")
_WHEN: Final = re.compile(
    rf"(?:,?\s*\b(?:{_WEEKDAY}\s+)?(?:den|d\.)\s+)?(?:{_UNNAMED.sub('(?:', DATE.pattern)})"
    rf"|,?\s*(?:{_UNNAMED.sub('(?:', TIME.pattern)})"
    rf"|\b{_WEEKDAY}\b|\bden\b(?=\s*\|)",
    re.I,
)
_PLACE: Final = re.compile(r"(?:^|\s)(?:i|på)\s+(?P<place>[^|]+)", re.I)
_PLACE_END: Final = re.compile(r"\s+(?:med|hvor|og\s+(?:var|deltog)|under)\s.*$|[\s,.]+$", re.I)
_PLACE_MAX: Final = 100
# Words that capitalise a committee name printed before the verb (`Udvalget for Teknik og Miljø holdt …`).
_NAME_JOINERS: Final = frozenset({"og", "for", "i", "med", "&"})


@dataclass(frozen=True)
class Held:
    """What a sentence about the meeting being held says."""

    date: dt.date
    time: str | None
    committee: str | None
    location: str | None


def held_sentence(line: str) -> Held | None:
    """The date, time, committee and place of `… afholdt <udvalg> møde i <sted>` in a header line, if any.

    The sentence counts only with a date and the word `møde` (`Der blev afholdt en event den 29. maj` is
    case text): a record of the meeting names both.
    """
    for verb in _HELD_VERB.finditer(line):
        lo = max(0, verb.start() - _BEFORE_WINDOW)
        starts = list(_SENTENCE_START.finditer(line, lo, verb.start()))
        before = line[starts[-1].end() if starts else lo : verb.start()]
        end = _SENTENCE_END.search(line, verb.end(), verb.end() + _AFTER_WINDOW)
        after = line[verb.end() : end.start() if end else min(len(line), verb.end() + _AFTER_WINDOW)]
        subject = _SUBJECT_MEETING.match(after)
        if not (_MEETING_SUBJECT.search(before) or subject or _MEETING_OBJECT.match(after)):
            continue
        date = find_date(after) or find_date(before)
        if date is None:
            continue
        time = find_time(after) or find_time(before)
        committee = None
        if subject is not None and COMMITTEE_WORD.search(subject.group("subject")) \
                and find_date(subject.group("subject")) is None:
            committee = subject.group("subject").strip(" ,")
            after = after[subject.end() :]
        else:
            committee = _name_before(before)
        return Held(date, time, committee, place_in(after))
    return None


def _name_before(text: str) -> str | None:
    """`Økonomiudvalget` in `… Økonomiudvalget holdt`: the capitalised name that ends right before the verb."""
    words = text.split()
    taken: list[str] = []
    for word in reversed(words):
        if word[:1].isupper() or word.casefold() in _NAME_JOINERS or word.endswith("-"):
            taken.append(word)
            continue
        break
    while taken and taken[-1].casefold() in _NAME_JOINERS:
        taken.pop()
    name = " ".join(reversed(taken)).strip(" ,")
    if name.casefold().startswith("mødet") or not COMMITTEE_WORD.search(name):
        return None
    return name


def place_in(text: str) -> str | None:
    """The place in the rest of a meeting sentence: `i udvalgsværelse 1`, `på Rådhuset, Byrådssalen`."""
    marked = _WHEN.sub(" | ", text)
    m = _PLACE.search(marked)
    if m is None:
        return None
    place = _PLACE_END.sub("", m.group("place").strip())
    if not place or len(place) > _PLACE_MAX or place[:1].isdigit():
        return None
    return place


# --- Title sentences: `Referat til mødet i Byrådet den 15. maj 2018 kl. 17:00 i Byrådssalen` ------------
_TITLE_SENTENCE: Final = re.compile(
    rf"^(?:(?:til|fra|for|af|over)\s+)?(?:det\s+|et\s+)?(?:(?:ordinær[et]?|ekstraordinær[et]?)\s+)?"
    rf"(?:møde(?:t)?\s+(?:i|på)\s+)?(?P<committee>.+?),?\s+(?:{_WEEKDAY}\s*,?\s+)?(?:den|d\.)\s+(?P<when>.+)$",
    re.I,
)


def title_sentence(rest: str) -> tuple[str, str | None] | None:
    """(committee, place) of the part of a title after its kind word, when it is a dated sentence."""
    m = _TITLE_SENTENCE.match(rest)
    if m is None or find_date(m.group("when")) is None:
        return None
    committee = m.group("committee").strip(" ,-–")
    if not COMMITTEE_WORD.search(committee) and body_of_meeting(committee) is None:
        return None
    return committee, place_in(m.group("when"))


# A kind word alone, then lines that continue it in lower case (`til` / `mødet i Byrådet` / `den …` / `i …`).
_CONTINUATION: Final = re.compile(r"^(?:til|fra|for|af|over|mødet|møde|den|d\.|i|på|kl\.?)\b", re.I)
_TITLE_PARTS: Final = 6


def join_title_lines(lines: list[str], is_kind_line: re.Pattern[str]) -> list[str]:
    """Acadre prints the title sentence one phrase a line: join them back into one line."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        j = i + 1
        if is_kind_line.fullmatch(line.strip()):
            while j < len(lines) and j - i <= _TITLE_PARTS and _CONTINUATION.match(lines[j]):
                j += 1
        out.append(" ".join(lines[i:j]) if j > i + 1 else line)
        i = j
    return out


# --- The body from the meeting's name: `Ekstraordinært byrådsmøde` -> `Byrådet` -------------------------
_BODY_SUFFIX: Final = (
    ("kommunalbestyrelse", "n"), ("bestyrelse", "n"), ("udvalg", "et"), ("råd", "et"), ("nævn", "et"),
    ("magistrat", "en"), ("forum", "met"), ("komité", "en"),
)
_MEETING_COMPOUND: Final = re.compile(
    r"\b(?P<stem>[a-zæøå]{0,40}?(?:" + "|".join(stem for stem, _ in _BODY_SUFFIX) + r"))s?møde(?:t|r|rne)?\b",
    re.I,
)


def body_of_meeting(text: str) -> str | None:
    """`Forretningsudvalget` for `Ekstraordinært forretningsudvalgsmøde`: the body whose meeting it is."""
    m = _MEETING_COMPOUND.search(text)
    if m is None:
        return None
    stem = m.group("stem")
    suffix = next(s for end, s in _BODY_SUFFIX if stem.casefold().endswith(end))
    return stem[:1].upper() + stem[1:].casefold() + suffix


# --- Venue lines on covers ---------------------------------------------------------------------------------
# Danish words that name a room or a building where councils meet, alone or ending a compound.
_VENUE: Final = re.compile(
    r"(?:rådhus|lokale|mødelokale|mødecenter|udvalgsværelse|byrådssal|kommunalbestyrelsessal|mødesal|festsal|"
    r"kursuscenter|konferencecenter|borgerstue|mødestue|administrationsbygning|medborgerhus|kulturhus|"
    r"forsamlingshus|bibliotek)(?:et|en|t|s)?\b|\bsal(?:en)?\b|\bteams\b",
    re.I,
)
_VENUE_MAX: Final = 90
_VENUE_WORDS: Final = 10


def venue_line(line: str) -> bool:
    """Whether an unlabelled short line names a room or building (`Byrådssalen, Rådhuset`, `Lokale 32`)."""
    if len(line) > _VENUE_MAX or len(line.split()) > _VENUE_WORDS or line.endswith((":", ".", "?")):
        return False
    if not (line[:1].isupper() or line[:1].isdigit()) or not _VENUE.search(line):
        return False
    return find_date(line) is None and find_time(line) is None

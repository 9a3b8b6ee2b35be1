"""The shape of a FirstAgenda meeting: which JSON type each key the reader uses may hold.

The reader takes each value from its own key. A value of the wrong type (a text where the portal writes
an object, a number where it writes a text, items that are not a list) used to read as "absent", and the
document was stored as an empty meeting with its items silently dropped. Here the document is checked
first, and refused with the keys that are wrong (`Moede.Dato is a number, expected a text`), before any
of it is read.

`null` is accepted everywhere: the portal writes it for "none" (`Tekst`, `Documents`, `ReleasedDate`).
Keys the reader does not use are not checked: the portal adds fields, and they change nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from services.parser.core.errors import UnsupportedDocument

# The problems named in one refusal: enough to fix an export, short enough to read in a dead letter.
_SHOWN: Final = 3


@dataclass(frozen=True)
class _Value:
    """A scalar of one of `types` (JSON: str, int, bool); `name` says it in the reason."""

    types: tuple[type, ...]
    name: str


@dataclass(frozen=True)
class _Object:
    keys: dict[str, _Shape] = field(default_factory=dict)
    name: str = "an object"


@dataclass(frozen=True)
class _List:
    of: _Shape
    name: str = "a list"


_Shape = _Value | _Object | _List

_TEXT: Final = _Value((str,), "a text")
_NUMBER: Final = _Value((str, int), "a number or a text")
_FLAG: Final = _Value((bool,), "true or false")
_PERSON: Final = _Object({"Name": _TEXT, "Navn": _TEXT, "Absent": _FLAG, "ParticipationCancelled": _FLAG})
_FIELD: Final = _Object({"Navn": _TEXT, "Html": _TEXT, "Tekst": _TEXT})
_ATTACHMENT: Final = _Object({"Navn": _TEXT, "Name": _TEXT, "Titel": _TEXT, "Id": _NUMBER})
ITEM: Final = _Object({
    "Punktnummer": _NUMBER, "Number": _NUMBER, "Sorting": _NUMBER, "Navn": _TEXT, "Caption": _TEXT,
    "SagsNummer": _TEXT, "CaseNumber": _TEXT, "Bilag": _List(_ATTACHMENT), "Felter": _List(_FIELD),
    "ExternalAgendaItemAttendees": _List(_PERSON),
})
MEETING: Final = _Object({
    "Udvalg": _Object({"Navn": _TEXT, "Name": _TEXT}),
    "Moede": _Object({
        "Dato": _TEXT, "MeetingBeginUtc": _TEXT, "Sted": _TEXT, "Location": _TEXT, "Afsluttet": _FLAG,
        "Moededeltagere": _List(_PERSON),
    }),
    "Dagsordenpunkter": _List(ITEM),
})


def check_shape(doc: dict[str, Any]) -> None:
    """Refuse (UnsupportedDocument) a FirstAgenda document whose keys hold values of the wrong type."""
    problems = list(_problems(doc, MEETING, ""))
    if not problems:
        return
    shown = "; ".join(problems[:_SHOWN])
    more = f" (and {len(problems) - _SHOWN} more)" if len(problems) > _SHOWN else ""
    raise UnsupportedDocument(f"FirstAgenda JSON with values of the wrong type: {shown}{more}")


def _problems(value: Any, shape: _Shape, path: str) -> list[str]:
    """Every `path is X, expected Y` in the value; an explicit stack, so no depth of JSON recurses here."""
    found: list[str] = []
    stack: list[tuple[Any, _Shape, str]] = [(value, shape, path)]
    while stack:
        node, want, where = stack.pop()
        if node is None:
            continue
        if isinstance(want, _Value):
            # JSON's true/false are ints to Python: a flag is never a number, nor a number a flag.
            ok = isinstance(node, want.types) and not (isinstance(node, bool) and bool not in want.types)
            if not ok:
                found.append(f"{where} is {_kind(node)}, expected {want.name}")
        elif isinstance(want, _Object):
            if not isinstance(node, dict):
                found.append(f"{where or 'the document'} is {_kind(node)}, expected {want.name}")
                continue
            stack.extend((node[key], sub, f"{where}.{key}" if where else key)
                         for key, sub in reversed(want.keys.items()) if key in node)
        elif not isinstance(node, list):
            found.append(f"{where} is {_kind(node)}, expected {want.name}")
        else:
            for i, entry in reversed(list(enumerate(node))):
                if entry is None:  # a null entry is no item (no member, no field): wrong, not "none"
                    found.append(f"{where}[{i}] is null, expected {want.of.name}")
                else:
                    stack.append((entry, want.of, f"{where}[{i}]"))
    return found


def _kind(value: Any) -> str:
    """`a text ("Økonomiudvalget")`, `a number (20230301)`: what was found, with a short sample."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a flag)"
    if isinstance(value, int | float):
        return f"a number ({value!r})"[:60]
    if isinstance(value, str):
        sample = value if len(value) <= 30 else value[:29] + "…"
        return f"a text ({sample!r})"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "an object"

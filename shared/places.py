"""The 98 Danish municipalities and the 5 regions, as a person types them: the picker's list and its rules.

Public reference data (shared/data/places.csv: the official codes, names and the long forms some bodies
print, e.g. `Københavns Kommune`, `Bornholms Regionskommune`). The store keeps a meeting's municipality by
its short name (`Aarhus`) and a region by its full name (`Region Midtjylland`); a person types `Aarhus
Kommune`, `aarhus kommune` or `AARHUS`. `canonical` maps what is typed to the stored name, `spellings` to
every stored form that means it; `suggest` offers close names when nothing is known by that name.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Literal

Kind = Literal["municipality", "region"]

# What a person writes after the place name: `Aarhus Kommune`, `Københavns Kommune` (genitive),
# `Bornholms Regionskommune`. The suffix rule is generic; the genitive is resolved against the list.
_SUFFIX = re.compile(r"\s+(?:kommune|regionskommune)$", re.I)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Place:
    """One municipality or region as stored on a meeting."""

    kind: Kind
    code: int
    name: str


def _key(text: str) -> str:
    # lower(), not casefold(): the filter compares with SQL's lower() (services/readmodel/filter.py).
    return _SPACES.sub(" ", text).strip().lower()


@lru_cache(maxsize=1)
def places() -> tuple[Place, ...]:
    """Every municipality (by code) then every region, as the data file lists them."""
    raw = resources.files("shared").joinpath("data/places.csv").read_text(encoding="utf-8")
    out = []
    for row in csv.DictReader(io.StringIO(raw)):
        kind: Kind = "region" if row["kind"] == "region" else "municipality"
        out.append(Place(kind, int(row["code"]), row["name"].strip()))
    return tuple(out)


@lru_cache(maxsize=1)
def _long_forms() -> dict[int, tuple[str, ...]]:
    """Place code -> its listed long forms (`københavns kommune`), lower case."""
    raw = resources.files("shared").joinpath("data/places.csv").read_text(encoding="utf-8")
    out: dict[int, tuple[str, ...]] = {}
    for row in csv.DictReader(io.StringIO(raw)):
        out[int(row["code"])] = tuple(_key(a) for a in (row.get("aliases") or "").split(";") if a.strip())
    return out


@lru_cache(maxsize=1)
def _index() -> dict[str, Place]:
    """Typed form (case-folded) -> place: the name, the name + ` Kommune`, and every listed long form."""
    raw = resources.files("shared").joinpath("data/places.csv").read_text(encoding="utf-8")
    by_key: dict[str, Place] = {}
    for row, place in zip(csv.DictReader(io.StringIO(raw)), places(), strict=True):
        by_key[_key(place.name)] = place
        for alias in (row.get("aliases") or "").split(";"):
            if alias.strip():
                by_key.setdefault(_key(alias), place)
    return by_key


def lookup(text: str | None) -> Place | None:
    """The place a person means by `text` (any case, with or without `Kommune`); None when none is known."""
    if not text or not text.strip():
        return None
    key = _key(text)
    found = _index().get(key)
    if found is None:
        found = _index().get(_SUFFIX.sub("", key))
    if found is None and key.endswith("s kommune"):  # genitive: `Aarhus' Kommune` aside, `Vejles Kommune`
        found = _index().get(_SUFFIX.sub("", key)[:-1])
    return found


def canonical(text: str) -> str:
    """The name the store keeps for what a person typed: the known place's name, else the text without a
    trailing ` Kommune` (a name this list does not know is still compared the same way)."""
    place = lookup(text)
    if place is not None:
        return place.name
    stripped = _SUFFIX.sub("", _SPACES.sub(" ", text).strip())
    return stripped or text.strip()


def spellings(text: str) -> frozenset[str]:
    """Every lower-case name a meeting may be stored under for what a person typed: the text itself, the
    place's name, the name + ` kommune` and its listed long forms. Stores hold the short name the parser
    gives, but a source or an integration may have written `Aarhus Kommune`: both match either way."""
    base = _key(canonical(text))
    out = {_key(text), base, f"{base} kommune"}
    place = lookup(text)
    if place is not None:
        out.update(_long_forms().get(place.code, ()))
    return frozenset(out)


def suggest(text: str, *, limit: int = 3) -> list[str]:
    """Close names for a typed name that matches no place (misspellings: `Arhus`, `Københaven`)."""
    key = _SUFFIX.sub("", _key(text))
    if not key:
        return []
    names = {_key(p.name): p.name for p in places()}
    # Regions are also matched without `Region ` (a person types `Midtjylland`).
    names.update({_key(p.name).removeprefix("region "): p.name for p in places() if p.kind == "region"})
    close = difflib.get_close_matches(key, list(names), n=limit * 2, cutoff=0.6)
    out: list[str] = []
    for match in close:
        if names[match] not in out:
            out.append(names[match])
    return out[:limit]

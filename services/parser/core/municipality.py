"""Which of the 98 Danish municipalities a document comes from, judged from the names it mentions."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Final


@dataclass(frozen=True)
class Municipality:
    """One row of the municipality list."""

    code: int
    name: str


# How much one mention counts. A name next to `Kommune` (or `Jobcenter`, `Rådhus`) is near certain;
# a bare name may be a neighbour, a university (`Aalborg Universitet`) or a common word.
# `Thisted Kommunalbestyrelse` names the council as `Hjørring Byråd` does.
_STRONG_AFTER: Final = re.compile(r"^\s+(?:kommune|kommunes|byråd|rådhus|byrådssal|kommunalbestyrelse)\b", re.I)
_STRONG_BEFORE: Final = re.compile(r"\b(?:jobcenter|borgerservice)\s+$", re.I)
# Municipality names that are also everyday words: only counted next to `Kommune`.
_COMMON_WORDS: Final = frozenset({"vejen", "odder", "greve", "skive", "struer", "lejre", "faxe", "stevns"})
_HEADER_WEIGHT: Final = 3
_ANCHORS: Final = ("ommune", "OMMUNE", "Rådhus", "rådhus", "RÅDHUS", "Jobcenter", "Byråd", "Borgerservice",
                           "Kommunalbestyrelse")
# Web and e-mail addresses: `post@vejle.dk`, `www.ishoj.dk`, `https://dagsorden.aarhus.dk/…`.
_DOMAIN: Final = re.compile(r"(?:@|\bwww\.|//)(?:[a-z0-9-]{1,40}\.){0,3}?(?P<label>[a-z0-9æøå-]{2,40})\.dk\b", re.I)
_DOMAIN_WEIGHT: Final = 5
_TRANSLITERATIONS: Final = (("æ", "ae"), ("ø", "oe"), ("å", "aa"))
# Capitalised words, hyphenated compounds included (`Høje-Taastrup`, `Ringkøbing-Skjern`).
_TOKEN: Final = re.compile(r"[A-ZÆØÅ][^\W\d_]*(?:-[A-ZÆØÅ][^\W\d_]*)*")


def _rows() -> list[dict[str, str]]:
    raw = resources.files("services.parser.core").joinpath("data/municipalities.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(raw)))


@lru_cache(maxsize=1)
def _table() -> dict[str, Municipality]:
    """Printed spelling (name or alias, capitalised as written) -> municipality."""
    by_name: dict[str, Municipality] = {}
    for row in _rows():
        m = Municipality(int(row["code"]), row["name"].strip())
        by_name[m.name] = m
        for alias in (row.get("aliases") or "").split(";"):
            if alias.strip():
                by_name[_alias_key(alias.strip())] = m
    return by_name


@lru_cache(maxsize=1)
def _domains() -> dict[str, Municipality]:
    """Web-domain label (`vejle`, `ishoj`, `hjoerring`, `kk`) -> municipality.

    Most municipalities use their name with æ/ø/å spelled out either way, some with `kommune`
    appended; the exceptions (`kk.dk`, `htk.dk`, `rksk.dk`) are listed in the table's domains column.
    """
    labels: dict[str, Municipality] = {}
    for row in _rows():
        m = Municipality(int(row["code"]), row["name"].strip())
        base = m.name.casefold()
        long_form = base
        for letter, spelled in _TRANSLITERATIONS:
            long_form = long_form.replace(letter, spelled)
        short_form = base.replace("æ", "ae").replace("ø", "o").replace("å", "aa")
        for form in (base, long_form, short_form):
            labels.setdefault(form, m)
            labels.setdefault(f"{form}kommune", m)
            labels.setdefault(f"{form}skommune", m)
        for domain in (row.get("domains") or "").split(";"):
            if domain.strip():
                labels[domain.strip().casefold().removesuffix(".dk")] = m
    return labels


def _alias_key(alias: str) -> str:
    # `Københavns Kommune` is found through the name plus `Kommune`; keep only the place name.
    return re.sub(r"s?\s+(?:kommune|regionskommune)$", "", alias, flags=re.I)


def by_code(code: int) -> Municipality | None:
    """The municipality with an official code (101 = København)."""
    return next((m for m in _table().values() if m.code == code), None)


def _mentions(text: str, by_name: dict[str, Municipality]) -> list[tuple[int, int, Municipality]]:
    """(start, end, municipality) of every capitalised whole-word mention, genitive `s` included."""
    found: list[tuple[int, int, Municipality]] = []
    for m in _TOKEN.finditer(text):
        word = m.group(0)
        if len(word) > 2 and word.isupper():
            word = word.title()  # letterheads in capitals: `LOLLAND KOMMUNE`
        muni = by_name.get(word) or (by_name.get(word[:-1]) if word.endswith("s") else None)
        end = m.end()
        if muni is None and text.startswith(" ", end):
            # Two-word aliases (`Høje Taastrup`).
            nxt = _TOKEN.match(text, end + 1)
            if nxt is not None and f"{word} {nxt.group(0)}" in by_name:
                muni, end = by_name[f"{word} {nxt.group(0)}"], nxt.end()
        if muni is not None:
            found.append((m.start(), end, muni))
    return found


def _strong_mentions(text: str, by_name: dict[str, Municipality]) -> list[tuple[int, int, Municipality]]:
    """Mentions next to `Kommune`, `Rådhus` or after `Jobcenter`: found from those few anchor words."""
    found: list[tuple[int, int, Municipality]] = []
    for anchor in _ANCHORS:
        pos = text.find(anchor)
        while pos != -1:
            lo = max(0, pos - 40)
            hi = min(len(text), pos + len(anchor) + 40)
            found.extend((lo + a, lo + b, muni) for a, b, muni in _mentions(text[lo:hi], by_name))
            pos = text.find(anchor, pos + len(anchor))
    return found


def detect_municipality(text: str, header_end: int, case_prefixes: list[int],
                        extra: str = "") -> Municipality | None:
    """The municipality the text names most, weighting `X Kommune` and the meeting header.

    Scanning every capitalised word of a long document costs milliseconds, so the header and the
    windows around anchor words (`Kommune`, `Rådhus`, `Jobcenter`) are read first; the whole text only
    when they name no municipality. `extra` is text around the minutes proper (page headers and
    footers, a portal's title and footer): it counts like the header. Web and e-mail domains
    (`@vejle.dk`) count like `X Kommune`.
    """
    by_name = _table()
    if extra:
        # Read as if it stood before the header: one text, one set of offsets.
        text = f"{extra}\n{text}"
        header_end += len(extra) + 1
    mentions = _mentions(text[:header_end], by_name) + [
        hit for hit in _strong_mentions(text, by_name) if hit[0] >= header_end
    ]
    # A bare place name in the case text (`Bornholms Hospital`, `Aalborg Universitet`) is no evidence of
    # whose document it is: only the header, the site and names next to `Kommune`/`Rådhus` count.
    scores: Counter[int] = Counter()
    found: dict[int, Municipality] = {}
    for start, end, muni in dict.fromkeys(mentions):
        after = text[end : end + 12]
        before = text[max(0, start - 14) : start]
        strong = bool(_STRONG_AFTER.match(after) or _STRONG_BEFORE.search(before))
        if not strong and muni.name.casefold() in _COMMON_WORDS:
            continue
        weight = 5 if strong else 1
        if start < header_end:
            weight *= _HEADER_WEIGHT
        scores[muni.code] += weight
        found[muni.code] = muni
    if "@" in text or "www." in text or "//" in text:
        domains = _domains()
        for m in _DOMAIN.finditer(text):
            owner = domains.get(m.group("label").casefold())
            if owner is not None:
                scores[owner.code] += _DOMAIN_WEIGHT
                found[owner.code] = owner
    # KMD PolWeb case numbers start with the municipality code (`306-2009-600`).
    for code in case_prefixes:
        prefixed = by_code(code)
        if prefixed is not None:
            scores[code] += 4
            found[code] = prefixed
    if not scores:
        return None
    code, _ = scores.most_common(1)[0]
    return found[code]


# The five regions: a body of their own, not a municipality (`Region Hovedstaden`, `Regionsrådet`).
REGIONS: Final = ("Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland")
_REGION: Final = re.compile(r"\bRegion\s+(?P<name>" + "|".join(REGIONS) + r")s?\b", re.I)
_REGION_DOMAIN: Final = re.compile(r"(?:@|\bwww\.|//)(?:[a-z0-9-]{1,40}\.){0,3}?(?P<label>regionh|regionsjaelland|"
                                   r"regionsyddanmark|rsyd|rm|regionmidtjylland|rn|regionnordjylland)\.dk\b", re.I)
_REGION_DOMAINS: Final = {"regionh": "Hovedstaden", "regionsjaelland": "Sjælland", "regionsyddanmark": "Syddanmark",
                          "rsyd": "Syddanmark", "rm": "Midtjylland", "regionmidtjylland": "Midtjylland",
                          "rn": "Nordjylland", "regionnordjylland": "Nordjylland"}


def detect_region(header: str) -> str | None:
    """`Region Midtjylland` when the header or the site (not the case text) names one of the five regions."""
    m = _REGION.search(header)
    if m is not None:
        name = next(r for r in REGIONS if r.casefold() == m.group("name").casefold())
        return f"Region {name}"
    d = _REGION_DOMAIN.search(header)
    if d is not None:
        return f"Region {_REGION_DOMAINS[d.group('label').casefold()]}"
    return None

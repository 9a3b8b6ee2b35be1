"""A perturbation harness: realistic variants of each excerpt (and hand-written family fixture) with their gold
derived mechanically from the original gold, never from the parser's output.

The hidden checks run the parser on the beginnings of other municipalities' pages of the same systems: cut at
other points, with other names, dates, numbers and case numbers, and wrapped in other site chrome. Each variant
here imitates one such difference; the gold follows the same edit:

- ``cut`` (1,200/1,500/1,800 characters and a random point) and ``cut_after_heading`` (0 to 250 characters after
  an item's title: a page that ends in an item's first lines): the text cut at an earlier length. An item stays
  in the gold only when every occurrence of its title lies before the cut (a title seen only in a contents list
  above the cut is unknowable, so that item is dropped),
  and it keeps its complete-item checks (case number, closed, outcome, decision, absent, attachments, votes) only
  when the next item's heading is visible too. Header fields stay only when a printed form of their value does.
- ``municipality``/``committee``/``persons``/``date``/``time``/``numbers``/``case_number``: one substitution map is
  applied to the text and to every string of the gold alike (titles naming the committee change with it); the
  gold's date, start time and item numbers follow the new values (dates move by whole weeks so the printed
  weekday stays true; KMD case numbers keep the new municipality's code).
- ``date_form``/``number_style``/``labels``: the same values printed as other systems print them (another
  supported date form, `Punkt 5:`/`5 :`/`5.Title` numbering, `Sagsnr.:`/`Forfald:`/`Afgørelse` labels).
- ``chrome``/``whitespace``/``crlf``/``nbsp``/``upper_labels``/``no_blank_lines``: layout noise that leaves the
  gold as it is.
- ``combined``: every swap, then a cut and site chrome, as a page of another municipality differs in all at once.

Run ``python -m tests.unit.parser.perturb`` for the report per kind and per document.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import random
import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from services.parser.core import parse_document
from services.parser.core.errors import DocumentError
from tests.unit.parser.scoring import SCORER

HERE = Path(__file__).resolve().parent
EXCERPTS = HERE.parents[1] / "fixtures" / "corpus" / "excerpts"
FAMILIES = HERE / "families"
MUNICIPALITIES = HERE.parents[2] / "services" / "parser" / "core" / "data" / "municipalities.csv"

Gold = dict[str, Any]


@dataclass(frozen=True)
class Variant:
    kind: str
    base: str
    suffix: str
    text: str
    gold: Gold


# --- bases -------------------------------------------------------------------------------------------------


def bases() -> list[tuple[str, str, str, Gold]]:
    """(name, suffix, text, gold) of every excerpt and every plain-text family fixture."""
    out = []
    for gold_path in sorted((EXCERPTS / "gold").glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        text = (EXCERPTS / "docs" / gold["file"]).read_text(encoding="utf-8")
        out.append((gold_path.stem.split("-")[0], ".txt", text, gold))
    for gold_path in sorted(FAMILIES.glob("*.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        if not gold["file"].endswith(".txt"):
            continue
        text = (FAMILIES / gold["file"]).read_text(encoding="utf-8")
        out.append(("fam:" + gold_path.stem, ".txt", text, gold))
    return out


# --- helpers -----------------------------------------------------------------------------------------------


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\xa0", " ")).strip().casefold()


def _count(haystack_norm: str, needle: str) -> int:
    n = _norm(needle)
    return haystack_norm.count(n) if n else 0


def _word_re(old: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(old) + r"(?!\w)")


def _map_strings(obj: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(obj, str):
        return fn(obj)
    if isinstance(obj, list):
        return [_map_strings(x, fn) for x in obj]
    if isinstance(obj, dict):
        return {k: (v if k == "file" else _map_strings(v, fn)) for k, v in obj.items()}
    return obj


def _substitute(text: str, gold: Gold, subs: list[tuple[str, str]]) -> tuple[str, Gold]:
    """Apply the word-bounded substitutions (longest first, in one pass) to the text and every gold string."""
    subs = sorted({old: new for old, new in subs if old and old != new}.items(), key=lambda s: -len(s[0]))
    if not subs:
        return text, gold
    table = dict(subs)
    # a name may be wrapped over two lines (`Lars` / `Leander`): any white space between its words matches
    pattern = re.compile("|".join(r"(?<!\w)" + re.escape(old).replace(r"\ ", r"\s+") + r"(?!\w)" for old, _ in subs))

    def fn(s: str) -> str:
        return pattern.sub(lambda m: table[re.sub(r"\s+", " ", m.group(0))], s)

    return fn(text), _map_strings(gold, fn)


_FULL_FIELDS = ("case_number", "is_closed", "outcome", "decision_contains", "absent", "attachments_count", "votes")

_FIRST = ["Anne", "Bo", "Camilla", "Dorte", "Erik", "Frederik", "Gitte", "Henrik", "Ida", "Jakob", "Karina",
          "Lars", "Maja", "Niels", "Ole", "Pia", "Rasmus", "Signe", "Torben", "Ulla", "Vibeke", "Aksel"]
_LAST = ["Andersen", "Bertelsen", "Christiansen", "Dahl", "Eskildsen", "Frandsen", "Grønbæk", "Holm", "Iversen",
         "Jørgensen", "Kristensen", "Lauridsen", "Mikkelsen", "Nørgaard", "Overgaard", "Poulsen", "Søndergaard",
         "Thomsen", "Vestergaard", "Østergaard", "Aagaard"]

# (definite, indefinite) forms of real kinds of Danish committees and councils.
_COMMITTEES = [("Teknik- og Miljøudvalget", "Teknik- og Miljøudvalg"), ("Børne- og Skoleudvalget",
               "Børne- og Skoleudvalg"), ("Økonomiudvalget", "Økonomiudvalg"), ("Kommunalbestyrelsen",
               "Kommunalbestyrelse"), ("Byrådet", "Byråd"), ("Regionsrådet", "Regionsråd"),
               ("Social- og Sundhedsudvalget", "Social- og Sundhedsudvalg"), ("Kultur- og Fritidsudvalget",
               "Kultur- og Fritidsudvalg"), ("Udvalget for Klima og Miljø", ""), ("Plan- og Boligudvalget",
               "Plan- og Boligudvalg"), ("Beskæftigelsesudvalget", "Beskæftigelsesudvalg")]

_MONTHS = ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
           "november", "december"]


def _date_forms(d: dt.date) -> list[str]:
    """The printed forms of a date that the parser's families use (most specific first)."""
    m = _MONTHS[d.month - 1]
    return [f"{d:%d-%m-%Y}", f"{d:%d.%m.%Y}", f"{d:%Y-%m-%d}", f"{d.day}. {m} {d.year}", f"{d.day} {m}, {d.year}",
            f"{d.day} {m} {d.year}", f"{d.day}. {m[:3]} {d.year}", f"{d.day} {m[:3]} {d.year}",
            f"{d.day}.{d.month}.{d.year}", f"{d.day}/{d.month} {d.year}", f"{d.day}/{d.month}-{d.year}",
            f"{d.day}. {m}", f"{d.day}. {m.capitalize()} {d.year}"]


def _time_forms(t: str) -> list[str]:
    h, m = t.split(":")
    forms = [f"{h}:{m}", f"{h}.{m}"]
    if h.startswith("0"):
        forms += [f"{h[1]}:{m}", f"{h[1]}.{m}"]
    return forms


# --- cut points --------------------------------------------------------------------------------------------


def cut_gold(full: str, cut: str, gold: Gold) -> Gold:
    """The gold of `cut` (a prefix of `full`), derived only from where the gold's values are printed."""
    fn, cn = _norm(full), _norm(cut)
    out: Gold = {k: v for k, v in gold.items() if k != "items"}
    out["partial"] = True

    def visible(alternatives: list[str]) -> bool:
        return any(_count(cn, a) for a in alternatives)

    for field in ("municipality", "committee", "location"):
        if field in gold and not visible(gold[field]):
            del out[field]
    if "participants" in gold and not all(_count(cn, p) for p in gold["participants"]):
        del out["participants"]
    if "meeting_date" in gold:
        d = dt.date.fromisoformat(gold["meeting_date"])
        if not visible([f for f in _date_forms(d) if not f.endswith(_MONTHS[d.month - 1])]):
            del out["meeting_date"]
    if "start_time" in gold and not visible(_time_forms(gold["start_time"])):
        del out["start_time"]
    if "kind" in gold:
        evidence = ("dagsorden",) if gold["kind"] == "agenda" else ("referat", "protokol", "beslutning")
        if not any(e in cn for e in evidence):
            del out["kind"]

    def fully_visible(item: Gold) -> bool:
        # every occurrence of the title is before the cut (one seen only in a contents list is unknowable)
        return any(_count(cn, t) and _count(cn, t) == _count(fn, t) for t in item["title"])

    items = gold["items"]
    kept = []
    for i, item in enumerate(items):
        if not fully_visible(item):
            continue
        item = dict(item)
        nxt = items[i + 1] if i + 1 < len(items) else None
        complete = fully_visible(nxt) if nxt is not None else len(cut) == len(full)
        if not complete:
            for field in _FULL_FIELDS:
                item.pop(field, None)
        kept.append(item)
    out["items"] = kept
    return out


def cuts(text: str, rng: random.Random) -> list[int]:
    points = [n for n in (1200, 1500, 1800) if n < len(text)]
    if len(text) > 900:
        points.append(rng.randint(900, len(text) - 1))
    return points


def heading_cuts(text: str, gold: Gold, rng: random.Random) -> list[int]:
    """Cuts a few characters to a few lines after the last printing of an item's title (the page ends in
    that item's first lines): the case the hidden excerpts meet at their end."""
    points = []
    for item in gold["items"][1:]:
        title = item["title"][0]
        at = text.rfind(title)
        if at > 0:
            end = at + len(title)
            points.append(min(len(text), end + rng.choice([0, 1, rng.randint(2, 60), rng.randint(60, 250)])))
    return points


# --- substitutions -----------------------------------------------------------------------------------------


def _municipalities() -> dict[str, str]:
    with MUNICIPALITIES.open(encoding="utf-8") as f:
        return {row["name"]: row["code"] for row in csv.DictReader(f)}


_CODES = _municipalities()
_NAMES = list(_CODES)


def swap_municipality(text: str, gold: Gold, rng: random.Random) -> tuple[str, Gold] | None:
    present = [n for n in _NAMES if _word_re(n).search(text) or _word_re(n.upper()).search(text)]
    if not present:
        return None
    pool = [n for n in _NAMES if n not in present and not _word_re(n).search(text)]
    subs = []
    for old in present:
        new = rng.choice(pool)
        pool.remove(new)
        subs += [(old, new), (old.upper(), new.upper())]
        # KMD case numbers start with the municipality's code (`326-2012-5562`): they move with the name
        code = re.compile(rf"(?<![\d-]){_CODES[old]}-(?=\d{{4}}-\d)")
        text = code.sub(f"{_CODES[new]}-", text)
        gold = _map_strings(gold, lambda s, code=code, new=new: code.sub(f"{_CODES[new]}-", s))
    return _substitute(text, gold, subs)


def swap_committee(text: str, gold: Gold, rng: random.Random) -> tuple[str, Gold] | None:
    printed = next((c for c in gold.get("committee", []) if _word_re(c).search(text)), None)
    if printed is None:
        return None
    new_def, new_indef = rng.choice([c for c in _COMMITTEES if c[0].casefold() != printed.casefold()])
    subs = [(printed, new_def), (printed.upper(), new_def.upper())]
    if new_indef and printed[-2:] in ("et", "en") and " " not in printed:
        subs.append((printed[:-2], new_indef))
    text2, gold2 = _substitute(text, gold, subs)
    gold2["committee"] = sorted({new_def} | {c for c in gold2["committee"] if new_def.split()[-1] in c})
    return text2, gold2


def swap_persons(text: str, gold: Gold, rng: random.Random) -> tuple[str, Gold] | None:
    names = set(gold.get("participants", []))
    for item in gold["items"]:
        names.update(item.get("absent", []))
    names = {n for n in names if _word_re(n).search(text)}
    if not names:
        return None
    subs = []
    for old in sorted(names):
        while True:
            new = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
            if new not in text and new not in dict(subs).values():
                break
        subs.append((old, new))
    return _substitute(text, gold, subs)


def swap_date(text: str, gold: Gold, rng: random.Random) -> tuple[str, Gold] | None:
    if "meeting_date" not in gold:
        return None
    old = dt.date.fromisoformat(gold["meeting_date"])
    # whole weeks keep the printed weekday right; up to three years either way changes day, month and year
    new = old + dt.timedelta(weeks=rng.choice([-1, 1]) * rng.randint(1, 156))
    subs = list(zip(_date_forms(old), _date_forms(new), strict=True))
    if not any(_word_re(o).search(text) for o, _ in subs):
        return None
    text2, gold2 = _substitute(text, gold, subs)
    gold2["meeting_date"] = new.isoformat()
    return text2, gold2


def swap_time(text: str, gold: Gold, rng: random.Random) -> tuple[str, Gold] | None:
    if "start_time" not in gold:
        return None
    for _ in range(20):
        new = f"{rng.randint(7, 19):02d}:{rng.choice(['00', '15', '30', '45'])}"
        if not any(f in text for f in _time_forms(new)):
            break
    pattern = re.compile("|".join(r"(?<![\d.:])" + re.escape(f) + r"(?![\d])" for f in _time_forms(gold["start_time"])))
    if not pattern.search(text):
        return None
    table = dict(zip(_time_forms(gold["start_time"]), _time_forms(new) + _time_forms(new)[:2], strict=False))
    text2 = pattern.sub(lambda m: table[m.group(0)], text)
    gold2 = copy.deepcopy(gold)
    gold2["start_time"] = new
    return text2, gold2


_CONTENTS_LINE = re.compile(r"^([ \t]*(?:Pkt\.?[ \t]*|Punkt[ \t]*)?)(\d{1,3})((?:\.|[ \t]*:)?[ \t]+)(?=[A-ZÆØÅ])", re.M)


def swap_numbers(text: str, gold: Gold, rng: random.Random) -> tuple[str, Gold] | None:
    """Item numbers running through the year: every number printed next to a gold title, and every line of a
    contents run (numbered lines with no blank line between), shifted by one offset."""
    offset = rng.randint(20, 150)
    spans: dict[int, tuple[int, int]] = {}
    for item in gold["items"]:
        n = item["number"]
        for title in item["title"]:
            head = re.escape(title[:25]).replace(r"\ ", r"\s+")
            # `5. Title`, `5 : Title`, `Punkt 5 Lukket - Title`, `Pkt. 5 (Lukket): Title`
            at = rf"(?<![\d.\-/])0*{n}(?=(?:\.|[ \t]*:)?\s*(?:[^\d\n]{{0,20}}?[:(\-–][ \t]*)?{head})"
            for m in re.finditer(at, text):
                spans[m.start()] = (m.end(), n)
        # decision headings name their item again: `… beslutning den 04.12.2012 Punkt 5`
        for m in re.finditer(rf"(?<=[Pp]unkt ){n}(?!\d)|(?<=[Pp]kt\. ){n}(?!\d)", text):
            spans[m.start()] = (m.end(), n)
    lines = list(_CONTENTS_LINE.finditer(text))
    for a, b in pairwise(lines):
        between = text[a.end():b.start()]
        if int(b.group(2)) == int(a.group(2)) + 1 and not re.search(r"\n[ \t]*\n", between):
            for m in (a, b):
                spans[m.start(2)] = (m.end(2), int(m.group(2)))
    if not any(n == item["number"] for _, n in spans.values() for item in gold["items"]):
        return None
    out, pos = [], 0
    for start in sorted(spans):
        end, n = spans[start]
        out += [text[pos:start], str(n + offset)]
        pos = end
    out.append(text[pos:])
    gold2 = copy.deepcopy(gold)
    for item in gold2["items"]:
        item["number"] += offset
    return "".join(out), gold2


def restyle_date(text: str, gold: Gold, rng: random.Random) -> tuple[str, Gold] | None:
    """The same date printed in another of the supported forms (`18-02-2019` -> `18. februar 2019`)."""
    if "meeting_date" not in gold:
        return None
    d = dt.date.fromisoformat(gold["meeting_date"])
    forms = _date_forms(d)[:-2]  # with a year
    present = [f for f in forms if _word_re(f).search(text)]
    if not present:
        return None
    subs = [(f, rng.choice([g for g in forms if g != f])) for f in present]
    text, new_gold = _substitute(text, gold, subs)
    new_gold["meeting_date"] = gold["meeting_date"]
    return text, new_gold


_NUMBER_STYLES = ["{n}. ", "{n}.", "{n} : ", "Punkt {n}: ", "Punkt {n}. ", "Pkt. {n} ", "{n} "]


def restyle_numbers(text: str, gold: Gold, rng: random.Random) -> tuple[str, Gold] | None:
    """Item headings printed with another numbering style (`1. Title` -> `Punkt 1: Title`), the same for every
    heading of a gold item and every line of a contents run (numbered lines with no blank line between)."""
    style = rng.choice(_NUMBER_STYLES)
    heads = [re.escape(t[:25]).replace(r"\ ", r"\s+") for item in gold["items"] for t in item["title"][:1]]
    if not heads:
        return None
    heading = re.compile(rf"^[ \t]*(?:Punkt|Pkt\.)?[ \t]*0*(\d{{1,3}})(?:\.|[ \t]*:)?[ \t]*"
                         rf"(?=(?:[^\d\n]{{0,20}}?[:(\-–][ \t]*)?(?:{'|'.join(heads)}))", re.M)
    numbers = {item["number"] for item in gold["items"]}
    starts = {m.start(): m for m in heading.finditer(text) if int(m.group(1)) in numbers}
    lines = list(_CONTENTS_LINE.finditer(text))
    run: list[re.Match[str]] = []
    for a, b in pairwise([*lines, None]):
        run = run or [a]
        if b is not None and int(b.group(2)) == int(a.group(2)) + 1 \
                and not re.search(r"\n[ \t]*\n", text[a.end():b.start()]):
            run.append(b)
            continue
        # a run of numbered lines is the contents list only when it lists gold items (not a list of attachments)
        if len(run) > 1 and any(int(m.group(2)) in numbers for m in run):
            for m in run:
                starts.setdefault(m.start(), m)
        run = []
    if not starts:
        return None
    out, pos = [], 0
    for at in sorted(starts):
        m = starts[at]
        number = m.group(1) if m.re is heading else m.group(2)
        out += [text[pos:at], style.format(n=int(number))]
        pos = m.end()
    out.append(text[pos:])
    return "".join(out), gold


# Labels and their synonyms in other systems (the gold does not change).
_SYNONYMS = [("Beslutning", ["Beslutning:", "Afgørelse", "BESLUTNING"]),
             ("Fraværende:", ["Afbud:", "Forfald:", "FRAVÆRENDE:"]),
             ("Afbud:", ["Fraværende:", "Forfald:"]), ("Sagsnr.:", ["Sagsnummer:", "Sags nr.:", "Sagsnr:"]),
             ("Sagsnummer:", ["Sagsnr.:", "Sag nr.:", "Sags-ID:"]), ("Indstilling", ["Forslag", "Indstilling:"]),
             ("Sagsfremstilling", ["Sagsbeskrivelse", "Redegørelse", "Beskrivelse af sagen"])]


def relabel(text: str, gold: Gold, rng: random.Random) -> tuple[str, Gold] | None:
    """Section and field labels as other systems print them (`Sagsnummer:` -> `Sagsnr.:`)."""
    out, done = text, False
    for label, others in _SYNONYMS:
        # a whole label line (`Beslutning`) or a label with a colon before its value (`Sagsnr.: 22/1`)
        after = " " if label.endswith(":") else r"[ \t]*$"
        pattern = re.compile(rf"^([ \t]*){re.escape(label)}(?={after})", re.M)
        if pattern.search(out):
            new = rng.choice(others)
            out = pattern.sub(lambda m, new=new: m.group(1) + new, out)
            done = True
    return (out, gold) if done else None


_CASE_SHAPES = ["{d2}/{d5}", "{d2}/{d4}", "{kle}-G01-{d1}-{d2}", "{kle}-P20-{d2}-{d2}", "{kle}-A00-{d3}-{d2}"]
_LABELLED_SHAPES = ["{d3}-20{d2}-{d3}", "{d6}", "S{d4}-{d5}"]


def _shape(template: str, rng: random.Random) -> str:
    def digits(k: int) -> str:
        return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(k - 1))

    kle = f"{rng.randint(0, 88):02d}.{rng.randint(0, 30):02d}.{rng.randint(0, 20):02d}"
    return template.format(d1=digits(1), d2=digits(2), d3=digits(3), d4=digits(4), d5=digits(5), d6=digits(6),
                           kle=kle)


def swap_case_numbers(text: str, gold: Gold, rng: random.Random) -> tuple[str, Gold] | None:
    subs = []
    for item in gold["items"]:
        old = item.get("case_number")
        if not old or old not in text:
            continue
        labelled = re.search(r"Sag\S*[ \t]*" + re.escape(old), text) is not None
        subs.append((old, _shape(rng.choice(_CASE_SHAPES + (_LABELLED_SHAPES if labelled else [])), rng)))
    return _substitute(text, gold, subs) if subs else None


# --- layout noise ------------------------------------------------------------------------------------------

_CHROME_BEFORE = ["Spring til indhold", "Forside", "Politik", "Dagsordener og referater", "Søg", "Menu",
                  "Vi bruger cookies for at forbedre din oplevelse af hjemmesiden.\nAccepter alle\nAfvis",
                  "Udskriv", "Del på Facebook", "Du er her: Forside / Politik / Udvalg", "Log ind", "English"]
_CHROME_AFTER = ["Til toppen", "Kontakt os", "Tlf. 72 36 36 36", "Rådhuset", "Tilgængelighedserklæring",
                 "Privatlivspolitik", "Udskriv"]
_LABELS = re.compile(r"^([ \t]*)(Beslutning|Indstilling|Sagsfremstilling|Resume|Bilag|Fraværende|Afbud|"
                     r"Mødedato|Mødested|Udvalg|Dato|Sted|Sagsnummer|Sagsnr\.?|Baggrund|Økonomi|Lovgrundlag|"
                     r"Deltagere|Tidspunkt)(?=[ \t]*(?::|$))", re.M)


def noise(kind: str, text: str, rng: random.Random) -> str:
    if kind == "chrome":
        head = "\n".join(rng.sample(_CHROME_BEFORE, 4))
        tail = "\n".join(rng.sample(_CHROME_AFTER, 3))
        return f"{head}\n\n{text}\n\n{tail}\n"
    if kind == "whitespace":
        # exports put tabs after a label and as indentation, double spaces anywhere, and trailing blanks
        text = re.sub(r"(?<=\S) (?=\S)", lambda m: rng.choice([" ", " ", " ", "  "]), text)
        text = re.sub(r"(?<=:) (?=\S)", lambda m: rng.choice([" ", "\t"]), text)
        text = re.sub(r"^(?=\S)", lambda m: rng.choice(["", "", "\t", "  "]), text, flags=re.M)
        return re.sub(r"\n", lambda m: rng.choice(["\n", "\n", " \n", "\t\n"]), text)
    if kind == "crlf":
        return text.replace("\n", "\r\n")
    if kind == "nbsp":
        return re.sub(r"(?<=\S) (?=\S)", lambda m: rng.choice([" ", " ", "\xa0"]), text)
    if kind == "upper_labels":
        return _LABELS.sub(lambda m: m.group(1) + m.group(2).upper(), text)
    if kind == "no_blank_lines":
        return re.sub(r"\n[ \t]*(?:\n[ \t]*)+", "\n", text)
    raise ValueError(kind)


NOISE = ("chrome", "whitespace", "crlf", "nbsp", "upper_labels", "no_blank_lines")
SWAPS: dict[str, Callable[[str, Gold, random.Random], tuple[str, Gold] | None]] = {
    "municipality": swap_municipality, "committee": swap_committee, "persons": swap_persons, "date": swap_date,
    "time": swap_time, "numbers": swap_numbers, "case_number": swap_case_numbers, "date_form": restyle_date,
    "number_style": restyle_numbers, "labels": relabel}


def variants(seed: int = 0, rounds: int = 1) -> Iterator[Variant]:
    for name, suffix, text, gold in bases():
        for r in range(rounds):
            rng = random.Random(zlib.crc32(f"{seed}:{r}:{name}".encode()))
            if r == 0:
                yield Variant("original", name, suffix, text, gold)
            for point in cuts(text, rng):
                yield Variant("cut", name, suffix, text[:point], cut_gold(text, text[:point], gold))
            for point in heading_cuts(text, gold, rng):
                yield Variant("cut_after_heading", name, suffix, text[:point], cut_gold(text, text[:point], gold))
            for kind, swap in SWAPS.items():
                done = swap(text, gold, rng)
                if done is not None:
                    yield Variant(kind, name, suffix, *done)
            for kind in NOISE:
                yield Variant(kind, name, suffix, noise(kind, text, rng), gold)
            # a combination, as a page of another municipality would differ in all of them at once
            combined: tuple[str, Gold] = (text, gold)
            for swap in SWAPS.values():
                combined = swap(*combined, rng) or combined
            point = rng.randint(min(1200, len(combined[0]) - 1), len(combined[0]))
            cut = combined[0][:point]
            yield Variant("combined", name, suffix, noise("chrome", cut, rng).rsplit("\n\n", 1)[0],
                          cut_gold(combined[0], cut, combined[1]))


# --- scoring -----------------------------------------------------------------------------------------------


def score(variant: Variant) -> list[tuple[str, bool]]:
    try:
        parsed = parse_document(variant.text.encode("utf-8"), "page" + variant.suffix).model_dump(mode="json")
    except DocumentError:
        parsed = {"items": []}
    return list(SCORER.score_doc(variant.gold, parsed))


def report(seed: int = 0, rounds: int = 1, verbose: bool = False) -> dict[str, tuple[int, int]]:
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_base: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for v in variants(seed, rounds):
        checks = score(v)
        ok = sum(c for _, c in checks)
        totals = [by_kind["ALL variants"]] if v.kind != "original" else []
        if v.kind != "original" and not v.base.startswith("fam:"):
            totals.append(by_kind["ALL excerpt variants"])
        for acc in (by_kind[v.kind], by_base[v.base], *totals):
            acc[0] += ok
            acc[1] += len(checks)
        if verbose and ok < len(checks):
            print(f"  {v.kind:14} {v.base:28} {[n for n, c in checks if not c]}")
    for title, table in (("per kind", by_kind), ("per document", by_base)):
        print(title)
        for key, (ok, n) in sorted(table.items()):
            print(f"  {key:40} {ok:4}/{n:<4} {ok / max(n, 1):.3f}")
    return {k: (v[0], v[1]) for k, v in by_kind.items()}


if __name__ == "__main__":
    import sys

    report(seed=int(sys.argv[1]) if len(sys.argv) > 1 else 0, rounds=int(sys.argv[2]) if len(sys.argv) > 2 else 1,
           verbose="-v" in sys.argv)

"""Finding agenda items: which lines are item headings, their numbers and titles.

Every line that could be an item heading becomes a candidate, tagged with its style (`Punkt N:`,
`N. Title`, glued `38Title`, a bare number). One style is chosen for the document, and among its
candidates the heaviest strictly increasing run of numbers is kept. Weight comes from evidence that
a real item follows (a case number, section headings, body text), so a contents list (no body),
numbered lists inside a case text and `Punkt 1. Godkendt` inside a decision lose to real headings.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Final

from services.parser.core.blocks import HEADING, Block, is_styled
from services.parser.core.dates import find_date, strip_dates
from services.parser.core.normalize import continues
from services.parser.core.patterns import (
    CASE_IN_TITLE,
    CASE_LABEL,
    CASE_SHAPES,
    CLOSED_LINES,
    CLOSED_PREFIX,
    DECISION,
    DECISION_START,
    EXPLICIT_ITEM,
    ITEM_KIND_SUFFIX,
    NUMBER_BELOW,
    OPEN_CLOSED_SUFFIX,
    OUTCOME_PHRASES,
    ROUTINE_TITLE,
    SUB_ITEM,
)
from services.parser.core.profiles import EXPLICIT, KNOWN, Profile
from services.parser.core.sections import Heading, classify_heading

# How far after a heading to look for its case number and for evidence of a body.
_CASE_WINDOW: Final = 4
_EVIDENCE_WINDOW: Final = 60
_CASE_UNDER: Final = 2
_CLOSED_TITLE: Final = 1.3
# A heading whose number and title were listed above it (contents): evidence enough for an item.
_LISTED_BEFORE: Final = 1.0
_LIST_MIN: Final = 3  # entries one right under the other: a list
# The last heading of a cut page, this few lines from the end and in sequence with an accepted item.
_CUT_TAIL_LINES: Final = 4
_CUT_TAIL: Final = 1.3  # enough for a bare heading (0.2) to reach the usual bar (1.5)
_TITLE_MAX: Final = 300
_WRAPPED_TITLE_MAX: Final = 150
_WRAPPED_TITLE_LINES: Final = 2  # a title wraps onto two more lines at most
# A title line that cannot end there: `… Stubbekøbing Skole og` / `etablering af ny idrætshal`.
_DANGLING: Final = re.compile(r"(?:\s(?:og|eller|samt|i|på|for|af|til|med|om|ved|fra|mellem|vedr\.)|\s[-–]|,)$", re.I)
_SENTENCE_START: Final = re.compile(r"^(?:At|Ad|Det|Der|Den|Som|Og|I|På|Til|For|Med)\s", re.I)


@dataclass
class Candidate:
    """A line that may head an item."""

    index: int
    number: int
    title: str
    family: str
    style: str
    title_lines: int = 0  # extra lines the title took (title on the next line, wrapped titles)
    weight: float = 0.0


@dataclass(frozen=True)
class ItemSpan:
    """An accepted item: number, cleaned title, closed flag and the line range of its body."""

    number: int
    title: str
    closed: bool
    heading: int  # line of the item heading
    start: int  # first body line
    end: int  # one past the last body line
    case_number: str | None = None  # printed in the heading: `Ny affaldsplan (2022-0365287)`
    page: int | None = None  # PDF page of the heading


def find_items(lines: list[str], headings: list[Heading | None], width: int | None,
               blocks: list[Block] | None = None, *, pages: bool = False,
               profile: Profile = KNOWN) -> list[ItemSpan]:
    """The items of a document, in order, from its cleaned lines and their heading classification.

    `blocks` (the same lines with what their format knows) adds evidence: a title set as a heading
    by markup or font is likelier an item, and a wrapped title goes on only while its style does.
    `pages`: the blocks' pages are a PDF's and are reported per item; a text's form-feed pages only
    group lines for clean-up and are no page anyone can open.
    """
    styles = _styles(blocks) if blocks is not None and is_styled(blocks) else None
    candidates = [c for c in (_candidate(lines, i, width, styles, profile) for i in range(len(lines))) if c is not None]
    if not candidates:
        return []
    for pos, cand in enumerate(candidates):
        nxt = candidates[pos + 1].index if pos + 1 < len(candidates) else len(lines)
        cand.weight = _evidence(lines, headings, cand, nxt)
        if cand.weight > 0 and styles is not None and styles[cand.index + cand.title_lines][0] == HEADING:
            cand.weight += 1.0
        if cand.weight > 0 and profile.typography and cand.index > 0 and _case_before(lines, cand):
            cand.weight += 1.0  # `01.02.03-G01-1-20` / `3. Title`: the case number printed above the heading
    _weigh_listed(candidates)
    _weigh_cut_tail(candidates, len(lines), profile.min_weight)
    if profile.repetition:
        _weigh_repetition(candidates, headings, len(lines))
    chosen = _choose(candidates, profile.min_weight)
    before = _cases_print_before(lines, chosen)
    spans: list[ItemSpan] = []
    for pos, cand in enumerate(chosen):
        end = chosen[pos + 1].index if pos + 1 < len(chosen) else len(lines)
        # A case number printed right above the next heading (SBSYS preview, KLE numbers) is the next item's.
        if before and pos + 1 < len(chosen) and _case_before(lines, chosen[pos + 1]):
            end -= 1
        title, closed = clean_title(cand.title)
        case = CASE_IN_TITLE.search(title)
        if case is not None and case.start() > 0:
            title = title[: case.start()].rstrip()
        case_number = case.group("case") if case is not None else None
        if case_number is None and before and _case_before(lines, cand):
            case_number = lines[cand.index - 1]
        page = blocks[cand.index].page if blocks is not None and pages else 0
        spans.append(ItemSpan(cand.number, title, closed, cand.index, min(cand.index + 1 + cand.title_lines, end), end,
                              case_number, page or None))
    return spans


def _weigh_listed(candidates: list[Candidate]) -> None:
    """A heading printed earlier with the same number and title (a contents list, `Dagsorden:` list) is an item
    even when its body is a line or two: a page cut short ends in such an item. The list itself (entries one
    right under the other) is no item once one of its entries recurs: in a list of `Punkt 49: …` lines the
    explicit style would otherwise make every entry an item, and on a cut page most entries never recur."""
    seen: dict[tuple[int, str], int] = {}
    group = [0] * len(candidates)  # candidates one right under the other share a group
    for pos in range(1, len(candidates)):
        prev = candidates[pos - 1]
        cand = candidates[pos]
        listed = cand.index <= prev.index + 1 + prev.title_lines and cand.number == prev.number + 1
        group[pos] = group[pos - 1] if listed else pos
    sizes = Counter(group)
    vetoed: set[int] = set()
    body_from = len(candidates)  # the first heading that repeats a list entry: the items start there
    for pos, cand in enumerate(candidates):
        key = (cand.number, cand.title.casefold())
        if key in seen and cand.weight > 0:
            cand.weight += _LISTED_BEFORE
            first = seen[key]
            if sizes[group[first]] >= _LIST_MIN:
                vetoed.add(group[first])
                body_from = min(body_from, pos)
        seen.setdefault(key, pos)
    if vetoed:
        # the other lists before the items belong to the same contents (`Åbne …` / `Lukkede dagsordenspunkter`)
        vetoed.update(g for g, size in sizes.items() if size >= _LIST_MIN and g < body_from)
    for pos, cand in enumerate(candidates):
        if group[pos] in vetoed:
            cand.weight = 0.0


def _weigh_cut_tail(candidates: list[Candidate], n_lines: int, min_weight: float) -> None:
    """The last heading of a page cut short (a stored beginning of a page): only a line or two of its body is
    left, so it lacks the evidence of its siblings. It is an item when it follows an accepted item of its own
    style and number in sequence (`83.` … then `84. Title` near the end of the text)."""
    last = candidates[-1]
    if last.weight <= 0 or n_lines - (last.index + 1 + last.title_lines) > _CUT_TAIL_LINES:
        return
    if any(c.style == last.style and c.number == last.number - 1 and c.weight >= min_weight
           for c in candidates[:-1]):
        last.weight += _CUT_TAIL


def _case_before(lines: list[str], cand: Candidate) -> bool:
    """A case number alone on the line above the heading, and none under it: it is this item's."""
    if cand.index == 0 or not CASE_SHAPES.match(lines[cand.index - 1]):
        return False
    # Under the heading means right under it: further down may already be the next item's, printed above it.
    start = cand.index + 1 + cand.title_lines
    return not any(_holds_case_number(lines[j]) for j in range(start, min(len(lines), start + _CASE_UNDER)))


def _holds_case_number(line: str) -> bool:
    """A case number alone, or a label with a number (`Sagsnr.: 24/100`; not `Sagsfremstilling`)."""
    if CASE_SHAPES.match(line):
        return True
    m = CASE_LABEL.match(line) if len(line) < 80 else None
    return m is not None and any(ch.isdigit() for ch in m.group("value"))


def _cases_print_before(lines: list[str], chosen: list[Candidate]) -> bool:
    """Whether this document prints case numbers above its item headings rather than under them.

    Most layouts print the case number under the heading, so the last line of an item's body may be a
    case number of its own (a closed item's); only a layout that does so for most items prints them above.
    """
    above = sum(1 for cand in chosen if _case_before(lines, cand))
    return above * 2 > len(chosen)


def _weigh_repetition(candidates: list[Candidate], headings: list[Heading | None], total: int) -> None:
    """Items of one document repeat the same section captions (`Sagsfremstilling … Beslutning`).

    A candidate whose body holds a caption that the bodies of two other candidates hold too is likelier
    an item than a numbered line in a case text, whose body has no captions of its own.
    """
    shared: dict[str, int] = {}
    names: list[set[str]] = []
    for pos, cand in enumerate(candidates):
        nxt = candidates[pos + 1].index if pos + 1 < len(candidates) else total
        own = {h.name.casefold() for h in headings[cand.index + 1 : min(nxt, cand.index + _EVIDENCE_WINDOW)]
               if h is not None}
        names.append(own)
        for name in own:
            shared[name] = shared.get(name, 0) + 1
    for cand, own in zip(candidates, names, strict=True):
        if cand.weight > 0 and any(shared[name] >= 3 for name in own):
            cand.weight += 0.5


def _styles(blocks: list[Block]) -> list[tuple[str, int]]:
    return [(b.style, b.level) for b in blocks]


def _candidate(lines: list[str], i: int, width: int | None,
               styles: list[tuple[str, int]] | None = None, profile: Profile = KNOWN) -> Candidate | None:
    line = lines[i]
    first = line[:1]
    if not first.isalnum() and first != "§":
        return None
    digit = first.isdigit()
    m = EXPLICIT_ITEM.match(line) if not digit and profile.explicit is not None else None
    if m is not None:
        prefix = m.group("prefix").casefold().rstrip(".").split()[0]
        sep = m.group("sep") if m.group("sep") in (":", ".") else "-"
        # `Sag` without separator or title is a case label (`Sag 12345`), not an item.
        if prefix == "sag" and not m.group("sep"):
            return None
        return _with_title(lines, i, int(m.group("num")), m.group("title"), EXPLICIT, f"{prefix}{sep}", width,
                           styles)
    if not digit:
        if profile.number_below and i + 1 < len(lines) and lines[i + 1][:1] in ("S", "P"):
            below = NUMBER_BELOW.match(lines[i + 1])
            if below is not None and _title_like(line):
                return Candidate(i, int(below.group("num")), line, "below", "below", title_lines=1)
        if not profile.letter_forms:
            return None
    elif SUB_ITEM.match(line):
        return None  # `1.1 Title` belongs to item 1
    for form in profile.digit_forms if digit else profile.letter_forms:
        m = form.pattern.match(line)
        if m is None:
            continue
        if form.family == "bare" and i > 0 and lines[i - 1].rstrip(".").isdigit():
            return None  # a column of numbers (a contents list's pages), not a number over its title
        title = m.groupdict().get("title") or ""
        if title and (len(title) > _TITLE_MAX or _SENTENCE_START.match(title) or title.endswith((",", ";"))):
            return None
        return _with_title(lines, i, int(m.group("num")), title, form.family, form.family, width, styles)
    return None


def _title_like(line: str) -> bool:
    """A line that can be a title: short, not a section heading, a case number or a sentence's end."""
    return (len(line) <= _WRAPPED_TITLE_MAX and not line.endswith((".", ",", ";", ":"))
            and classify_heading(line) is None and not _is_case_line(line))


def _with_title(lines: list[str], i: int, number: int, title: str, family: str, style: str,
                width: int | None, styles: list[tuple[str, int]] | None = None) -> Candidate | None:
    title = title.strip()
    extra = 0
    if not title:
        # Title on the next line, possibly after a case-number line (`Pkt. 42` / `Sag 306-…` / title).
        for j in range(i + 1, min(i + 3, len(lines))):
            if _is_case_line(lines[j]):
                continue
            if classify_heading(lines[j]) is not None or EXPLICIT_ITEM.match(lines[j]):
                return None
            # A number over a number or a date (`58` / `63`, `63` / `25. maj 2016`) is a column of page
            # numbers or a running head, not an item.
            if lines[j][:1].isdigit() and (not any(ch.isalpha() for ch in lines[j]) or (
                    find_date(lines[j]) is not None and not strip_dates(lines[j]).strip(" .,-"))):
                return None
            title, extra = lines[j], j - i
            break
        if not title:
            return None
    # Hard-wrapped PDFs break long titles; the continuation is neither a heading nor a case number.
    # Titles print in a larger font and wrap before the body width: a dangling `og`/`af` or a
    # continuation in lower case shows the break too.
    last = i + extra
    while last + 1 < len(lines) and (
        (styles[last + 1] == styles[last] and styles[last][0] == HEADING and last - i - extra < _WRAPPED_TITLE_LINES)
        if styles is not None
        else continues(lines[last], lines[last + 1], width)
        or (last - i - extra < _WRAPPED_TITLE_LINES and _title_goes_on(lines[last], lines[last + 1]))
    ):
        nxt = lines[last + 1]
        if _is_case_line(nxt) or classify_heading(nxt) is not None or EXPLICIT_ITEM.match(nxt) or SUB_ITEM.match(nxt):
            break
        # Exports that print the title again under the numbered heading (`50. Godkendelse af …` /
        # `Godkendelse af …`): a wrapped continuation never starts with the title's own opening words.
        if _echoes(title, nxt):
            break
        title = _join_title(title, nxt, hyphenated=styles is None)
        last += 1
    return Candidate(i, number, title, family, style, title_lines=last - i)


def _echoes(title: str, line: str) -> bool:
    """Whether `line` begins with the title's opening (at least two words): the title printed again."""
    head = title[:40].casefold()
    return " " in head.strip() and line[: len(head)].casefold() == head


def _join_title(title: str, nxt: str, *, hyphenated: bool) -> str:
    """A title and its wrapped continuation.

    A PDF marks the hyphens its producer added as soft breaks (joined in clean-up), so a printed
    hyphen at a line end is a real one (`2030-` / `fremskrivning`): it stays, without a space. Plain
    text cannot tell them apart; there a hyphen after a lower-case letter is taken for hyphenation.
    """
    if not (title.endswith("-") and nxt[:1].islower()):
        return f"{title} {nxt}"
    if hyphenated and title[-2:-1].islower() and nxt.split(" ", 1)[0] not in ("og", "eller", "samt"):
        return f"{title[:-1]}{nxt}"
    return f"{title}{nxt}" if nxt.split(" ", 1)[0] not in ("og", "eller", "samt") else f"{title} {nxt}"


def _title_goes_on(line: str, nxt: str) -> bool:
    if len(nxt) > _WRAPPED_TITLE_MAX or len(line) > _WRAPPED_TITLE_MAX or line.endswith((".", ":", ")")):
        return False
    if not nxt[:1].isalpha() or (nxt[:1].isupper() and (nxt.isupper() or ROUTINE_TITLE.match(nxt))):
        return False  # the next item, a number, or a heading in capitals
    return nxt[:1].islower() or _DANGLING.search(line) is not None


def _is_case_line(line: str) -> bool:
    return bool(CASE_SHAPES.match(line)) or (len(line) < 80 and CASE_LABEL.match(line) is not None)


def _evidence(lines: list[str], headings: list[Heading | None], cand: Candidate, nxt: int) -> float:
    """How strongly the lines after a candidate look like an item body."""
    body_start = cand.index + 1 + cand.title_lines
    body_end = min(nxt, body_start + _EVIDENCE_WINDOW)
    weight = 1.0 if cand.family == EXPLICIT else 0.2
    if body_end > body_start:
        weight += 0.3
    if any(_is_case_line(lines[j]) for j in range(body_start, min(body_end, body_start + _CASE_WINDOW))):
        weight += 1.0
    if any(headings[j] is not None for j in range(body_start, body_end)):
        weight += 1.0
    if ITEM_KIND_SUFFIX.search(cand.title) or OPEN_CLOSED_SUFFIX.search(cand.title):
        weight += 1.0
    if CASE_IN_TITLE.search(cand.title) or ROUTINE_TITLE.match(cand.title):
        weight += 1.0
    elif cand.title.casefold().rstrip(".") in CLOSED_LINES or CLOSED_PREFIX.match(cand.title):
        # `6. Lukket punkt` printed bare, the next item right under it: closed items have no public body.
        weight += _CLOSED_TITLE
    # `Punkt 1. Godkendt` right under a decision heading numbers the decision, it is no new item.
    # The cheap look back first: `_reads_as_decision` tries every outcome phrase on the title.
    if _inside_decision(headings, cand.index) and _reads_as_decision(cand.title):
        return 0.0
    return weight


def _reads_as_decision(title: str) -> bool:
    """`Godkendt.`, or a sentence that records an outcome (`Orienteringen blev taget til efterretning.`)."""
    if DECISION_START.match(title):
        return True
    return title.endswith(".") and any(pattern.search(title) for pattern, _ in OUTCOME_PHRASES)


def _inside_decision(headings: list[Heading | None], index: int) -> bool:
    for j in range(index - 1, max(-1, index - 30), -1):
        heading = headings[j]
        if heading is not None:
            return heading.kind == DECISION
    return False


def _choose(candidates: list[Candidate], min_weight: float = 1.5) -> list[Candidate]:
    """The document's item headings: best style, then the heaviest increasing run of numbers."""
    by_style: dict[str, list[Candidate]] = {}
    for cand in candidates:
        if cand.weight > 0:
            by_style.setdefault(cand.style, []).append(cand)
    best: list[Candidate] = []
    best_score = 0.0
    best_explicit = False
    for group in by_style.values():
        explicit = group[0].family == EXPLICIT
        if not explicit:
            group = [c for c in group if c.weight >= min_weight]
        run = _heaviest_increasing(group)
        score = sum(c.weight for c in run)
        # Any explicit style beats every implicit one: numbered lists inside case texts are common.
        if (explicit, score) > (best_explicit, best_score):
            best, best_score, best_explicit = run, score, explicit
    return best


def _heaviest_increasing(group: list[Candidate]) -> list[Candidate]:
    """The subsequence with strictly increasing numbers and the largest total weight.

    A Fenwick tree over item numbers keeps the best run ending below each number: O(n log N), so
    even garbage input with thousands of numbered lines stays fast.
    """
    if not group:
        return []
    size = max(c.number for c in group) + 2
    tree: list[tuple[float, int]] = [(0.0, -1)] * (size + 1)
    total = [0.0] * len(group)
    back = [-1] * len(group)
    for j, cand in enumerate(group):
        # best run ending at a number < cand.number (tree positions are number + 1)
        best, pos = (0.0, -1), cand.number
        while pos > 0:
            best = max(best, tree[pos])
            pos -= pos & -pos
        total[j], back[j] = best[0] + cand.weight, best[1]
        pos = cand.number + 1
        while pos <= size:
            if tree[pos] < (total[j], j):
                tree[pos] = (total[j], j)
            pos += pos & -pos
    k = max(range(len(group)), key=lambda x: total[x])
    run: list[Candidate] = []
    while k != -1:
        run.append(group[k])
        k = back[k]
    return run[::-1]


def clean_title(title: str) -> tuple[str, bool]:
    """A title without item-kind letters and open/closed markers, and whether it marks a closed item."""
    closed = False
    title = ITEM_KIND_SUFFIX.sub("", title).strip()
    m = OPEN_CLOSED_SUFFIX.search(title)
    if m is not None:
        closed = m.group("mark").casefold().startswith(("lukket", "fortrolig"))
        title = title[: m.start()].strip()
    title = ITEM_KIND_SUFFIX.sub("", title).strip()
    m = CLOSED_PREFIX.match(title)
    if m is not None:
        closed, title = True, m.group("title").strip()
    if title.casefold().rstrip(".") in CLOSED_LINES:
        closed = True
    return title, closed

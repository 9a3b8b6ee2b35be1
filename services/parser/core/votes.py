"""Votes: who voted for, against, abstained or reserved their position in one decision text.

`read_votes(text)` takes the text of *this meeting's* decision only (never the case history:
`Sagsforløb`, earlier bodies' decisions) and returns a `Votes` or None. It is pure and format-free, so
every reader (the text path, FirstAgenda, eDoc, Acadre, SBSYS) calls the same grammar.

The grammar follows how Danish minutes print positions, not any one document:

- a side label before a list: `For stemte: A, C og V (6)`, `Imod stemte (D), (Ø) og Liselott Blixt (UP)`,
  `Imod: A og Ø med bemærkning …`, `Undlod at stemme: F`, `Undlod: Ø`;
- a list before a verb: `Bjarke Abel (A) stemte imod`, `(A) og (C) undlod at stemme ved pkt. 2`,
  `X kunne ikke tiltræde indstillingen`, `X tog forbehold`, `F undlader`;
- a majority or minority with its members: `Et flertal bestående af A, C, N og V (6) anbefaler …`;
- printed counts: `Med stemmerne 17 for og 2 imod`, `vedtaget med 15 stemmer for, 10 imod og 2 undlod`.

Lists are joined by `,`, `og` and `samt`; a member is kept as printed without the party suffix
(`Liselott Blixt (UP-1)` -> `Liselott Blixt`), a party letter bare (`(Ø)`, `Ø-gruppen` -> `Ø`), a party group
printed in the genitive by its base name (`Radikale Venstres og Alternativets byrådsgrupper` -> `Radikale
Venstre`, `Alternativet`). Not votes: the body itself (`Udvalget undlod at tage stilling` is the body
declining to recommend), remarks (`… med bemærkning om, at Ø stemmer for a, b`), rulings and elections.
Counts are read only where a number is printed (`ingen imod` gives no count).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from services.parser.core.header import without_role
from shared.contracts.meeting import Votes

__all__ = ["read_votes"]

SIDES: Final = ("in_favour", "against", "abstaining", "reserved")

# --- Sentences -----------------------------------------------------------------------------------
# A sentence ends at a line break or after `.`/`!`/`?`, but not after an initial (`John T. Olsen`).
_SENTENCE_END: Final = re.compile(
    r"\n+|(?<=[.!?])(?<!\b[A-ZÆØÅ]\.)\s+|,\s*mens\s+"
    # `For: 15, Imod: 2, Undlod: 1` on one line: each label starts its own list
    r"|[,;]\s*(?=(?:For|Imod|Undlod|Undlader|Blanke?|Hverken\s+for\s+eller\s+imod)(?:\s+stemte)?\s*:)"
)
# What may precede a position on its line: point numbers (`1.-3.`, `2. c.`) and `Ad punkt 1 b` leads.
_POINT_LEAD: Final = re.compile(
    r"^(?:(?:Ad\s+)?(?:(?:indstillings)?punkt(?:erne)?|pkt\.?)?\s*\d{1,2}(?:\s*\.?\s*[a-zæøå](?![\wæøå]))?\.?"
    r"(?:\s*[-–]\s*\d{1,2}(?:\s*\.?\s*[a-zæøå](?![\wæøå]))?\.?)?\s*[,:.]?\s+|Ad\s+[a-zæøå](?:\s*[,:.])?\s+)",
    re.I,
)

# --- Side labels before a list -------------------------------------------------------------------
# The colon is optional only after the two-word labels: a bare `For` or `Imod` starts ordinary sentences.
_LABELS: Final[tuple[tuple[str, re.Pattern[str]], ...]] = (
    ("abstaining", re.compile(
        r"^(?:(?:Undlod|Undlader)\s+at\s+stemme|Hverken\s+for\s+eller\s+imod(?:\s+stemte)?|Stemte\s+blankt)"
        r"\s*:?\s*(?P<who>.+)$|^(?:Undlod|Undlader|Blank|Blankt|Blanke)\s*:\s*(?P<who2>.+)$", re.I)),
    ("in_favour", re.compile(
        r"^(?:For\s+stemte|Stemte\s+for)\s*:?\s*(?P<who>.+)$|^(?:For)\s*:\s*(?P<who2>.+)$", re.I)),
    ("against", re.compile(
        r"^(?:Imod\s+stemte|Stemte\s+imod)\s*:?\s*(?P<who>.+)$|^(?:Imod)\s*:\s*(?P<who2>.+)$", re.I)),
    ("reserved", re.compile(
        r"^(?:Tog\s+forbehold|Forbehold)\s*:\s*(?P<who>.+)$", re.I)),
)
# Where a labelled list ends: the reason or remark that follows it (`… (F) med bemærkning om, at …`).
_LIST_END: Final = re.compile(r"\s+(?:med\s|da\s|idet\s|fordi\s|under\s+henvisning|jf\.)|[,;]\s*(?:da|idet|fordi|"
                              r"men|med)\s|[;:]", re.I)

# --- Verbs after a list --------------------------------------------------------------------------
# The earliest verb in a sentence wins, so `(F) undlod at stemme for så vidt angår …` is abstaining.
_VERBS: Final = re.compile(
    r"\s+(?:"
    r"(?P<abstaining>(?:undlod|undlader)(?:\s+at\s+(?:stemme|tage\s+stilling)|\s+stillingtagen)\b"
    r"|(?:undlod|undlader)(?=\s*(?:[.,;:]|$))|stemte\s+blankt|stemmer\s+blankt"
    r"|stemte\s+hverken\s+for\s+eller\s+imod|stemmer\s+hverken\s+for\s+eller\s+imod)"
    r"|(?P<against>(?:stemte|stemmer|stemmede)\s+(?:imod|nej)\b|(?:kunne|kan)\s+ikke\s+(?:tiltræde|støtte|"
    r"anbefale|godkende)\b)"
    r"|(?P<reserved>(?:tog|tager)\s+(?:et\s+)?forbehold\b)"
    r"|(?P<in_favour>(?:stemte|stemmer|stemmede)\s+(?:for|ja)\b|(?:kunne|kan)\s+tiltræde\b)"
    r")",
    re.I,
)
# A majority or minority that names its members; only then is its verb a vote
# (`Et flertal bestående af A, C, N og V (6) anbefaler …`; `Et flertal i udvalget kunne tiltræde` names none).
_GROUP_LEAD: Final = re.compile(
    r"^(?:et\s+)?(?P<side>flertal(?:let)?|mindretal(?:let)?)\s*(?:bestående\s+af|på|:|(?=\())\s*(?P<rest>.+)$",
    re.I,
)
_GROUP_VERB: Final = re.compile(
    r"\s+(?:(?P<against>(?:stemte|stemmer)\s+imod|(?:kunne|kan)\s+ikke\s+\w+|(?:anbefaler|anbefalede|"
    r"godkender|godkendte|tiltræder|tiltrådte|indstiller|indstillede)\s+ikke)\b|(?P<in_favour>(?:stemte|stemmer)"
    r"\s+for|(?:kunne|kan)\s+\w+|anbefaler|anbefalede|godkender|godkendte|tiltræder|tiltrådte|indstiller|"
    r"indstillede|vedtog)\b)",
    re.I,
)
# Between two coordinated positions (`, ` / ` og `), and where a remark begins.
_JOINT: Final = re.compile(r",\s*(?:og\s+)?|\s+og\s+")
_SUBORDINATE: Final = re.compile(r"\b(?:at|da|idet|fordi|med|som|hvis|når|men|end)\b", re.I)
# `(D) ønskede ikke at sende forslaget til realitetsbehandling`: a wish is a side only where the same
# decision prints the counts it pairs with.
_WISH: Final = re.compile(r"\s+ønskede\s+(?P<not>ikke\s+)?at\s", re.I)

# `Ved afstemningen stemte A, B og C for, mens O stemte imod`: the verb first, then the list and its side.
_INVERTED: Final = re.compile(
    r"\b(?:stemte|stemmer)\s+(?P<who>[^.;:\n]{1,200}?)\s+(?P<side>for|imod|nej|ja)\b(?!\s+at\b)", re.I)

# --- Counts --------------------------------------------------------------------------------------
# A sentence that prints a tally says `stemme(r/ne)`, `stemte` or `afstemning`; in it each side is a number
# before its word (`Med stemmerne 19 for og 2 imod`, `15 stemmer for, 10 imod og 2 undlod`, `12 stemte for`).
_TALLY_SENTENCE: Final = re.compile(r"\b(?:stemme\w*|stemte|afstemning\w*)\b", re.I)
_TALLY: Final = re.compile(
    r"\b(?P<n>\d{1,3})\s+(?:stemmer\s+|stemte\s+|medlemmer\s+stemte\s+)?"
    r"(?:(?P<in_favour>for)\b(?!\s+at\b)|(?P<against>imod|mod)\b|(?P<abstaining>undlod|undlader|hverken|blanke?)\b)",
    re.I,
)
# `(6)` after a labelled list; `9 (A, B, C, F, O, V)` with the count first (Københavns Kommune).
_TRAILING_COUNT: Final = re.compile(r"\s*\((\d{1,3})\)\s*$")
_COUNT_FIRST: Final = re.compile(r"^(\d{1,3})\s*\(([^()]{1,160})\)\s*$")
# `Undlod at stemme (1): F`, `For stemte 6: A og C`: the count between the label and the list.
_LEAD_COUNT: Final = re.compile(r"^\(?(\d{1,3})\)?\s*:\s*(?=\S)")
_ONLY_COUNT: Final = re.compile(r"^(\d{1,3})$")

# --- Members and parties -------------------------------------------------------------------------
_SPLIT: Final = re.compile(r"\s*,\s*(?:og\s+|samt\s+)?|\s+(?:og|samt)\s+")
_PARTY_LETTER: Final = re.compile(r"^\(?\s*(?P<letter>[A-ZÆØÅ]{1,2})\s*\)?(?:-gruppen)?$")
_PARTICLE: Final = r"(?:de|af|von|van|der|den|la|le|du|da|di|el|al|bin|ibn)"
_NAME_TOKEN: Final = r"(?:[A-ZÆØÅÉÜÖÄ][\wæøåéüöä'’.-]*)"
_NAME: Final = re.compile(
    rf"^(?P<name>(?:[Dd]et\s+)?{_NAME_TOKEN}(?:\s+(?:{_NAME_TOKEN}|{_PARTICLE})){{0,5}})"
    r"(?:\s*\((?P<party>[^()]{1,16})\))?$"
)
# `Socialistisk Folkepartis byrådsgruppe`, `Radikale Venstres og Alternativets byrådsgrupper`.
_GROUP_WORD: Final = re.compile(
    r"^(?P<who>.+?)(?:['’]s|s|['’])?\s+(?P<word>(?:byråds|kommunalbestyrelses|regionsråds|udvalgs)?(?P<plural>grupper|"
    r"gruppe(?:n|r|rne)?))$", re.I
)
# A voter followed by what the position concerns (a preposition starts it).
_QUALIFIED: Final = re.compile(
    rf"^(?P<head>\(?[A-ZÆØÅ]{{1,2}}\)?|{_NAME_TOKEN}(?:\s+{_NAME_TOKEN}){{0,5}}(?:\s*\([^()]{{1,16}}\))?)"
    r"\s+(?:i|til|ved|for|vedr\.?|vedrørende|angående|om|på|af|under)\s"
)
# Subjects that are the deciding body, a pronoun or a thing, never a member or party.
_NOT_VOTERS: Final = frozenset({
    "alle", "ingen", "det", "der", "den", "de", "han", "hun", "vi", "man", "sagen", "punktet", "forslaget",
    "indstillingen", "ændringsforslaget", "flertallet", "mindretallet", "partiet", "gruppen", "medlemmet",
    "medlemmerne", "formanden", "næstformanden", "borgmesteren", "rådmanden", "administrationen",
    "forvaltningen", "direktionen", "samtlige", "ingen af", "begge",
})
_BODY: Final = re.compile(
    r"(?:udvalg(?:et)?|byråd(?:et)?|kommunalbestyrelse(?:n)?|magistrat(?:en)?|borgerrepræsentation(?:en)?|"
    r"regionsråd(?:et)?|bestyrelse(?:n)?|nævn(?:et)?|forsamling(?:en)?|råd(?:et)?)$",
    re.I,
)
_MAX_SUBJECT: Final = 300

Found = dict[str, list[str]]
# Decision texts up to this long are remembered (outcome and votes); longer ones are seldom printed twice.
REMEMBERED_TEXT: Final = 200


def read_votes(text: str | None) -> Votes | None:
    """The positions and counts that one decision text records, or None when it records none."""
    if text is not None and len(text) <= REMEMBERED_TEXT:
        return _remembered_votes(text)
    return _read_votes(text)


# Short decision texts recur (`Godkendt.` in most items): read once. `Votes` is frozen, so items may share one.
@lru_cache(maxsize=1024)
def _remembered_votes(text: str) -> Votes | None:
    return _read_votes(text)


def _read_votes(text: str | None) -> Votes | None:
    if not text or not text.strip():
        return None
    text = _main_vote_block(text)
    found: Found = {side: [] for side in SIDES}
    counts: dict[str, int] = {}
    wishes: list[tuple[str, list[str]]] = []
    sentences = _sentences(text)
    for sentence in sentences:
        _read_sentence(sentence, found, counts, wishes)
    printed = _printed_counts(sentences)
    for side, number in printed.items():
        counts.setdefault(side, number)
    if printed:
        for side, names in wishes:
            _add(found, side, names)
    if not any(found.values()) and not counts:
        return None
    return Votes(
        in_favour=tuple(found["in_favour"]),
        against=tuple(found["against"]),
        abstaining=tuple(found["abstaining"]),
        reserved=tuple(found["reserved"]),
        in_favour_count=counts.get("in_favour"),
        against_count=counts.get("against"),
        abstaining_count=counts.get("abstaining"),
        reserved_count=counts.get("reserved"),
    )


def _sentences(text: str) -> list[str]:
    out: list[str] = []
    for raw in _SENTENCE_END.split(text):
        sentence = raw.strip()
        for _ in range(3):  # `Ad Punkt 1 b` + `2.` leads may stack
            lead = _POINT_LEAD.match(sentence)
            if lead is None or lead.end() >= len(sentence):
                break
            sentence = sentence[lead.end():]
        if sentence:
            out.append(sentence)
    return out


def _read_sentence(sentence: str, found: Found, counts: dict[str, int],
                   wishes: list[tuple[str, list[str]]]) -> None:
    for side, label in _LABELS:
        m = label.match(sentence)
        if m is not None:
            who = m.group("who") if m.group("who") is not None else m.group("who2")
            names, count = _labelled_list(who)
            _add(found, side, names)
            if count is not None:
                counts.setdefault(side, count)
            return
    group = _GROUP_LEAD.match(sentence)
    if group is not None:
        _read_group(group.group("rest"), found, counts)
        return
    verb = _VERBS.search(sentence)
    if verb is not None and verb.start() <= _MAX_SUBJECT:
        names = _voters(sentence[: verb.start()])
        if names:
            side = next(s for s in SIDES if verb.group(s))
            _add(found, side, names)
            _read_coordinated(sentence[verb.end():], found)
            return
    read = False
    for m in _INVERTED.finditer(sentence):
        names = _voters(m.group("who"))
        if names:
            _add(found, "in_favour" if m.group("side").casefold() in ("for", "ja") else "against", names)
            read = True
    if read or verb is not None:
        return
    wish = _WISH.search(sentence)
    if wish is not None and wish.start() <= _MAX_SUBJECT:
        names = _voters(sentence[: wish.start()])
        if names:
            wishes.append(("against" if wish.group("not") else "in_favour", names))


def _read_coordinated(rest: str, found: Found) -> None:
    """`A og V stemte for, O stemte imod`: a second list and verb joined to the first position.

    Only up to the first subordinate clause: what follows `at`, `da`, `med bemærkning` is a remark
    (`… med bemærkning om, at Ø stemmer for a og b` is no vote for).
    """
    stop = _SUBORDINATE.search(rest)
    if stop is not None:
        rest = rest[: stop.start()]
    for joint in _JOINT.finditer(rest):
        tail = rest[joint.end():]
        verb = _VERBS.search(tail)
        if verb is None:
            return
        names = _voters(tail[: verb.start()])
        if names:
            _add(found, next(s for s in SIDES if verb.group(s)), names)
            _read_coordinated(tail[verb.end():], found)
            return


def _read_group(rest: str, found: Found, counts: dict[str, int]) -> None:
    """`Et flertal bestående af A, C og V (6) anbefaler …` / `Et mindretal (O) stemte imod`."""
    verb = _GROUP_VERB.search(rest)
    if verb is None:
        return
    who = rest[: verb.start()].strip()
    if who.startswith("(") and who.endswith(")") and not _TRAILING_COUNT.fullmatch(who):
        who = who[1:-1]
    names, count = _labelled_list(who)
    if not names:
        return
    side = "against" if verb.group("against") else "in_favour"
    _add(found, side, names)
    if count is not None:
        counts.setdefault(side, count)


def _labelled_list(who: str) -> tuple[list[str], int | None]:
    """A list after a side label, up to the remark that follows it: (names, printed count)."""
    lead = _LEAD_COUNT.match(who.strip())
    if lead is not None:
        names, _ = _labelled_list(who.strip()[lead.end():])
        return names, int(lead.group(1))
    end = _LIST_END.search(who)
    if end is not None:
        who = who[: end.start()]
    who = who.strip().rstrip(".").strip()
    m = _COUNT_FIRST.match(who)
    if m is not None:
        return _voters(m.group(2), strict=False), int(m.group(1))
    m = _ONLY_COUNT.match(who)
    if m is not None:
        return [], int(m.group(1))
    count: int | None = None
    m = _TRAILING_COUNT.search(who)
    if m is not None:
        count = int(m.group(1))
        who = who[: m.start()]
    return _voters(who, strict=False), count


def _voters(text: str, strict: bool = True) -> list[str]:
    """Members and parties of a list, as printed; [] when the text is not a list of voters.

    A subject before a verb must be a list through and through (`strict`): `Udvalget`, `(D) med
    bemærkning om, at (D)` or a clause are no voters. After a side label a part that is no voter is
    dropped, because the label already says the list is one.
    """
    text = text.strip().strip(",;:").strip()
    if not text:
        return []
    parts = [p.strip() for p in _SPLIT.split(text) if p.strip()]
    out: list[str] = []
    pending: list[str] = []  # genitive party names waiting for their `byrådsgrupper`
    for part in parts:
        group = _GROUP_WORD.match(part)
        if group is not None:
            base = _voter(group.group("who"))
            if base is None:
                if strict:
                    return []
                continue
            plural = group.group("plural").casefold() in ("grupper", "grupperne")
            if plural:
                out.extend(_base(p) for p in pending)
            else:
                out.extend(pending)
            pending = []
            out.append(_letter_or(base))
            continue
        voter = _voter(part)
        if voter is None and not strict:
            # `Imod: A i forhold til placering 1 b`, `Undlod: F ved pkt. 3`: a voter, then what the position concerns
            head = _QUALIFIED.match(part)
            voter = _voter(head.group("head")) if head is not None else None
        if voter is None:
            if strict:
                return []
            continue
        out.extend(pending)
        pending = []
        if _PARTY_LETTER.match(part) is None and "(" not in part and voter.endswith("s"):
            pending.append(voter)  # maybe a genitive before a later `byrådsgrupper`
        else:
            out.append(voter)
    out.extend(pending)
    return out


def _voter(part: str) -> str | None:
    """One member or party as the gold writes it, or None for anything else."""
    part = part.strip().strip(".,;:").strip()
    letter = _PARTY_LETTER.match(part)
    if letter is not None:
        return letter.group("letter")
    m = _NAME.match(part)
    if m is None:
        return None
    name = without_role(m.group("name"))
    if name.casefold().endswith("-gruppen"):  # `Venstre-gruppen` is the party
        name = name[: -len("-gruppen")]
    key = name.casefold()
    if key in _NOT_VOTERS or _BODY.search(key):
        return None
    return name


def _letter_or(name: str) -> str:
    m = re.fullmatch(r"([A-ZÆØÅ]{1,2})", name)
    return m.group(1) if m else name


def _base(name: str) -> str:
    """A genitive party name's base form: `Socialistisk Folkepartis` -> `Socialistisk Folkeparti`."""
    return name[:-1] if name.endswith(("s", "'", "’")) else name


def _add(found: Found, side: str, names: list[str]) -> None:
    seen = {n.casefold() for n in found[side]}
    for name in names:
        if name.casefold() not in seen:
            seen.add(name.casefold())
            found[side].append(name)


def _printed_counts(sentences: list[str]) -> dict[str, int]:
    """The first printed tally: `Med stemmerne 19 for og 2 imod` -> in_favour 19, against 2.

    `ingen imod` is a word, not a number, and gives no count. `mod` counts as against only after a
    number for (`med 12 stemmer mod 3`).
    """
    # A tally on an amendment (`Ændringsforslaget blev forkastet med 3 stemmer for og 6 imod`) gives way to
    # one on the item itself, when the text prints both.
    plain = [s for s in sentences if _AMENDMENT.search(s) is None]
    for sentence in [*plain, *(s for s in sentences if s not in plain)]:
        if _TALLY_SENTENCE.search(sentence) is None:
            continue
        out: dict[str, int] = {}
        for m in _TALLY.finditer(sentence):
            side = next(s for s in ("in_favour", "against", "abstaining") if m.group(s))
            out.setdefault(side, int(m.group("n")))
        if "in_favour" not in out:
            stemmer_mod = re.search(r"\b(\d{1,3})\s+stemmer\s+mod\s+(\d{1,3})\b", sentence, re.I)
            if stemmer_mod is not None:
                out = {"in_favour": int(stemmer_mod.group(1)), "against": int(stemmer_mod.group(2))}
        if out:
            return out
    return {}


# Votes on amendments come before the vote on the recommendation; the line before each labelled block
# says which it is (`Ændringsforslaget blev forkastet efter følgende afstemning:`).
_FOR_LABEL: Final = re.compile(r"^(?:For\s+stemte|Stemte\s+for)\b", re.I | re.M)
_AMENDMENT: Final = re.compile(r"(?:ændrings|tillægs|under)forslag", re.I)
_VOTE_LEAD: Final = 200


def _main_vote_block(text: str) -> str:
    """With several `For stemte` blocks, the last one not introduced as an amendment's vote."""
    starts = [m.start() for m in _FOR_LABEL.finditer(text)]
    if len(starts) < 2:
        return text
    for start in reversed(starts):
        intro = text[max(0, start - _VOTE_LEAD): start].rstrip().rsplit("\n", 1)[-1]
        if _AMENDMENT.search(intro) is None:
            return text[start:]
    return text[starts[-1]:]

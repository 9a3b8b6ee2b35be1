"""Full-text search over items (title, sections, decision) with Danish stemming, the same syntax on both stores.

**Syntax** (like PostgreSQL's `websearch_to_tsquery` or a web search engine; parsed here for both stores):

- `fleksjob ledighed` — every word must occur (AND), each in any inflection (`fleksjobbet` finds `fleksjob`);
- `"lokalplan for området"` — the words next to each other, in this order;
- `skole OR børnehave` — either (OR binds tighter than AND: `budget skole OR dagtilbud` is
  budget AND (skole OR dagtilbud));
- `-vindmølle`, `-"kollektiv trafik"` — without this word or phrase (a query of exclusions only is refused);
- case and punctuation do not matter; a word joined by `-` or `/` (`2030-fremskrivning`) is a phrase.

On PostgreSQL the built-in `danish` text-search configuration also drops Danish stop words (`og`, `i`, `at`);
SQLite keeps them (a stop word in a query then has to occur too — it nearly always does).

**Index.** SQLite: an FTS5 table `item_search` of *stemmed* tokens (Snowball Danish, PyStemmer) per item,
columns title / decision / body, `rowid` a stable 64-bit hash of the item id (`item_search_ids` maps it back);
queries are stemmed the same way and matched as FTS5 phrases. PostgreSQL: a table `item_search (item_id,
tsv)` with a GIN index, `tsv` weighted A title, B decision, C sections, queried with `to_tsquery('danish',
…)` built from the same parse. Both are written by `index_items`, called by the search indexer
(`services/store/indexer.py`) in large batches after the store committed — not in the store's transaction.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


class SearchSyntaxError(ValueError):
    """A full-text query that cannot be searched (for example only exclusions, or no word at all)."""


_TOKEN = re.compile(r"[^\W_]+")
# A query: a quoted phrase (optionally negated), the OR operator, or a run of non-space characters.
_QUERY_PART = re.compile(r'(-?)"([^"]*)"?|(\S+)')
MAX_QUERY_CHARS = 500

# Weights of the fields (title, decision, sections), as PostgreSQL's ts_rank defaults for A/B/C.
_WEIGHTS = (1.0, 0.4, 0.2)
SNIPPET_WORDS = 30
# Private-use characters as ts_headline's marks: they never occur in minutes, so the text can be
# HTML-escaped after the headline is made and the marks turned into <mark> tags afterwards.
PG_MARK_START, PG_MARK_STOP = "\ue000", "\ue001"


@functools.cache
def _stemmer() -> Any:
    import Stemmer  # PyStemmer: the Snowball stemmers in C

    return Stemmer.Stemmer("danish")


def tokens(value: str) -> list[str]:
    """The lower-cased words of a text (letters and digits; everything else separates)."""
    return _TOKEN.findall(value.lower())


# Word -> stem, memoised: Danish minutes repeat their words heavily (200 generated meetings, 5.5 MB of text,
# hold ~5,000 distinct words), and a dict lookup is a quarter of PyStemmer's call per word even with its own
# cache. Bounded by clearing it when full (simpler and faster per lookup than an LRU's bookkeeping; a
# vocabulary this size is refilled in milliseconds).
_STEMS: dict[str, str] = {}
_STEMS_MAX = 200_000


def _stem_all(words: list[str]) -> list[str]:
    memo = _STEMS
    try:
        return list(map(memo.__getitem__, words))  # the common case: every word seen before
    except KeyError:
        new = list({w for w in words if w not in memo})
        if len(memo) + len(new) > _STEMS_MAX:
            memo.clear()
            new = list(set(words))
        memo.update(zip(new, _stemmer().stemWords(new), strict=True))
        return list(map(memo.__getitem__, words))


def stems(value: str) -> list[str]:
    """The Danish Snowball stems of the words of a text, in order."""
    words = tokens(value)
    return _stem_all(words) if words else []


def stemmed(value: str) -> str:
    """The stems of a text as one space-separated string (what the SQLite index holds)."""
    return " ".join(stems(value))


# --- the query ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """A parsed query: every group must match (one of its alternatives), no excluded term may.

    A term is a tuple of lower-cased words; more than one word is a phrase. SQLite matches their stems;
    PostgreSQL gets the words in a tsquery and stems them with its `danish` configuration.
    """

    groups: tuple[tuple[tuple[str, ...], ...], ...]
    excluded: tuple[tuple[str, ...], ...] = ()
    raw: str = field(default="", compare=False)

    @property
    def positive_stems(self) -> list[str]:
        """Every stem the query looks for (for ranking and highlighting)."""
        return sorted({s for group in self.groups for term in group for s in stems(" ".join(term))})


def parse_query(q: str) -> Query:
    """Parse the syntax above; raises SearchSyntaxError for an empty query or one of exclusions only."""
    if len(q) > MAX_QUERY_CHARS:
        raise SearchSyntaxError(f"the search is too long ({len(q)} characters, at most {MAX_QUERY_CHARS})")
    groups: list[list[tuple[str, ...]]] = []
    excluded: list[tuple[str, ...]] = []
    pending_or = False
    for m in _QUERY_PART.finditer(q):
        negated, phrase, word = m.group(1), m.group(2), m.group(3)
        if phrase is None and word is not None:
            if word.upper() == "OR":
                pending_or = bool(groups)
                continue
            negated = "-" if word.startswith("-") else ""
            phrase = word.lstrip("-")
        term = tuple(tokens(phrase or ""))
        if not term:
            continue
        if negated:
            excluded.append(term)
            pending_or = False
        elif pending_or and groups:
            groups[-1].append(term)
            pending_or = False
        else:
            groups.append([term])
    if not groups:
        if excluded:
            raise SearchSyntaxError("a search of exclusions only (-word) finds nothing: add a word to look for")
        raise SearchSyntaxError("the search has no word to look for")
    return Query(tuple(tuple(g) for g in groups), tuple(excluded), raw=q)


def _fts5_term(term: tuple[str, ...]) -> str:
    # Stems hold only letters and digits, so quoting cannot be broken out of; doubled quotes anyway.
    return '"' + stemmed(" ".join(term)).replace('"', '""') + '"'


def _ts_term(term: tuple[str, ...]) -> str:
    # Words hold only letters and digits (the tokenizer), so a quoted lexeme cannot be broken out of.
    quoted = ["'" + w.replace("'", "''") + "'" for w in term]
    return quoted[0] if len(quoted) == 1 else "(" + " <-> ".join(quoted) + ")"


def tsquery_expression(query: Query, *, exclusions: bool = True) -> str:
    """The `to_tsquery('danish', …)` text of a parsed query: the same grouping as on SQLite.

    Not `websearch_to_tsquery`: that one binds AND tighter than OR (`a b OR c` is (a AND b) OR c), and
    the two stores must agree. Without `exclusions` it is the query to rank by (ts_rank scores a query
    with `!` as 0).
    """
    parts = []
    for group in query.groups:
        alts = [_ts_term(t) for t in group]
        parts.append(alts[0] if len(alts) == 1 else "(" + " | ".join(alts) + ")")
    if exclusions:
        parts += ["!" + _ts_term(t) for t in query.excluded]
    return " & ".join(parts)


def fts5_expression(query: Query) -> str:
    """The FTS5 MATCH expression of a parsed query (stems as phrases, AND/OR/NOT)."""
    parts = []
    for group in query.groups:
        alts = [_fts5_term(t) for t in group]
        parts.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
    expr = " AND ".join(parts)
    for term in query.excluded:
        expr = f"({expr}) NOT {_fts5_term(term)}"
    return expr


def fts5_field_expressions(query: Query) -> dict[str, str]:
    """Per indexed field, the FTS5 expression "this field holds any stem the query looks for".

    SQLite's rank is built from these: the weights (title 1.0, decision 0.4, sections 0.2, as PostgreSQL's
    ts_rank weights A/B/C) of the fields that hold a match, summed. Unlike FTS5's bm25 it does not depend on
    the rest of the corpus, so keyset pages ordered by it stay stable while rows are added. It is coarse (no
    term frequencies: those cost a scan of every occurrence, four times slower on 30,000 items), and ties
    fall back to newest meeting first.
    """
    alts = " OR ".join(_fts5_term(t) for group in query.groups for t in group)
    return {field: f"{field} : ({alts})" for field in FIELDS}


FIELDS = ("title", "decision", "body")
WEIGHTS = dict(zip(FIELDS, _WEIGHTS, strict=True))


# --- snippets -------------------------------------------------------------------------------------------


# Snippets look at most this many characters of each text (a match further on is shown from the start of the
# text), and tokenise at most SNIPPET_WINDOW_CHARS around the first match: a page of hits costs the same
# whatever the size of the stored items (a 49 MB document's sections once took 20 s per search).
SNIPPET_SCAN_CHARS = 50_000
SNIPPET_WINDOW_CHARS = 2_000


def _first_hit(value: str, targets: set[str]) -> int | None:
    """Offset of the first word of `value` whose stem is in `targets`, or None.

    Danish Snowball stems are prefixes of the lower-cased word (the stemmer only removes and undoubles
    endings), so a regular expression of the stems as word beginnings finds every candidate in C; each is
    then confirmed by stemming that one word.
    """
    if not targets:
        return None
    starts = "|".join(re.escape(t) for t in sorted(targets, key=len, reverse=True))
    for m in re.finditer(rf"(?<![^\W_])(?:{starts})[^\W_]*", value, re.IGNORECASE):
        if _stem_all([m.group(0).lower()])[0] in targets:
            return m.start()
    return None


def _excerpt(value: str, targets: set[str]) -> tuple[int, str, bool]:
    """(offset, excerpt, has a hit): at most SNIPPET_WINDOW_CHARS of `value` around its first match (or its
    beginning), cut at word boundaries."""
    scanned = value[:SNIPPET_SCAN_CHARS]
    at = _first_hit(scanned, targets)
    start = 0 if at is None else max(0, at - SNIPPET_WINDOW_CHARS // 4)
    stop = start + SNIPPET_WINDOW_CHARS
    if start > 0:  # not half a word: begin after the first separator
        cut = re.search(r"\s", value[start:at] if at is not None else value[start:stop])
        start = start + cut.end() if cut else start
    if stop < len(value):
        space = value.rfind(" ", start, stop)
        stop = space if space > start else stop
    return start, value[start:stop], at is not None


def snippet(texts: Sequence[str | None], wanted: Sequence[str], words: int = SNIPPET_WORDS) -> str | None:
    """HTML of the window of `words` words with the most matching stems, matches in <mark>…</mark>.

    Bounded: only an excerpt of SNIPPET_WINDOW_CHARS around each text's first match (within its first
    SNIPPET_SCAN_CHARS) is tokenised. The text is HTML-escaped; the window is taken from the first of `texts`
    with the best count, so a hit in the decision text wins over one in the title or a section when they tie.
    None when no text is given. CPU-bound: callers on an event loop run it in a thread.
    """
    targets = set(wanted)
    best: tuple[int, int, str, list[re.Match[str]], list[bool], int, bool] | None = None
    for full in texts:
        if not full:
            continue
        offset, value, _ = _excerpt(full, targets)
        spans = list(_TOKEN.finditer(value))
        if not spans:
            continue
        hits = [s in targets for s in _stem_all([m.group(0).lower() for m in spans])]
        start, count = _best_window(hits, words)
        if best is None or count > best[0]:
            best = (count, start, value, spans, hits, offset, offset + len(value) < len(full))
    if best is None:
        return None
    _, start, value, spans, hits, offset, cut_after = best
    window = range(start, min(start + words, len(spans)))
    out: list[str] = ["…"] if start > 0 or offset > 0 else []
    pos = spans[window.start].start()
    for i in window:
        span = spans[i]
        out.append(html.escape(_flat(value[pos : span.start()])))
        word = html.escape(span.group(0))
        out.append(f"<mark>{word}</mark>" if hits[i] else word)
        pos = span.end()
    if window.stop < len(spans):
        out.append(html.escape(_flat(value[pos : spans[window.stop].start()])).rstrip() + " …")
    elif cut_after:
        out.append(html.escape(_flat(value[pos:])).rstrip() + " …")
    else:
        out.append(html.escape(_flat(value[pos:])))
    return "".join(out).strip()


def _flat(value: str) -> str:
    return re.sub(r"\s+", " ", value)


def _best_window(hits: list[bool], words: int) -> tuple[int, int]:
    """(start, hit count) of the window of `words` tokens with most hits; a few words of context before."""
    if not any(hits):
        return 0, 0
    best_start, best_count, count = 0, 0, 0
    for i, hit in enumerate(hits):
        count += hit
        if i >= words:
            count -= hits[i - words]
        if count > best_count:
            best_count, best_start = count, max(0, i - words + 1)
    first_hit = next(i for i in range(best_start, len(hits)) if hits[i])
    # A few words of context before the first hit of the window, so the match is not the first word shown.
    start = max(0, first_hit - 6)
    return start, best_count


def pg_headline_html(headline: str | None) -> str | None:
    """ts_headline output (marked with PG_MARK_START/STOP) as escaped HTML with <mark> tags."""
    if headline is None:
        return None
    escaped = html.escape(_flat(headline).strip())
    return escaped.replace(PG_MARK_START, "<mark>").replace(PG_MARK_STOP, "</mark>")


# --- the index ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndexRow:
    """What the index holds for one item: the three searchable texts."""

    item_id: str
    title: str
    decision: str
    body: str


def sections_text(sections: Sequence[dict[str, Any]]) -> str:
    """Every section's heading and text, one after the other (the `body` of the index)."""
    return "\n".join(f"{s.get('name', '')}\n{s.get('text', '')}" for s in sections)


# Characters of each field (title, decision, sections together) an item is indexed by, by default
# (`MINUTES_INDEX_MAX_CHARS`): a 49 MB case presentation stemmed whole held ~400 MB in the store. The stored
# text stays whole; words past the limit are not found by a search.
INDEX_MAX_CHARS = 200_000

# The first characters of the sections' stored JSON: the database cuts the text (a cheap copy), where taking
# the sections apart (json_each, json_array_elements) parses all of it — 0.3 s a page of 20 items of 1.2 MB.
_SQLITE_SECTIONS = text(
    "SELECT id AS item_id, substr(sections, 1, :n) AS raw FROM agenda_items "
    "WHERE id IN (SELECT value FROM json_each(:ids))"
)
_PG_SECTIONS = text(
    "SELECT id AS item_id, left(CAST(sections AS text), :n) AS raw FROM agenda_items "
    "WHERE id = ANY(CAST(:ids AS text[]))"
)
_DECODER = json.JSONDecoder()
_CUT_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{0,3})?$")


async def bounded_sections(conn: AsyncConnection, item_ids: Sequence[str], max_chars: int) -> dict[str, str]:
    """`sections_text` of each item, cut to `max_chars`, without reading any item's sections whole.

    The database sends the first characters of the stored JSON (about twice `max_chars`: escapes and keys
    take room), which `sections_prefix` reads as far as it goes: the process never holds more of an item
    than that, however large it is.
    """
    if not item_ids:
        return {}
    n = 2 * max_chars + 1000
    if conn.dialect.name == "sqlite":
        result = await conn.execute(_SQLITE_SECTIONS, {"ids": orjson.dumps(list(item_ids)).decode(), "n": n})
    else:
        result = await conn.execute(_PG_SECTIONS, {"ids": list(item_ids), "n": n})
    return {row.item_id: sections_prefix(row.raw or "")[:max_chars] for row in result}


def sections_prefix(raw: str) -> str:
    """`sections_text` of the sections in `raw`, a prefix of their JSON array (the last one may be cut)."""
    pos = raw.find("[") + 1
    if not pos:
        return ""
    pieces: list[str] = []
    size = len(raw)
    while pos < size:
        while pos < size and raw[pos] in " \t\r\n,":
            pos += 1
        if pos >= size or raw[pos] == "]":
            break
        try:
            section, pos = _DECODER.raw_decode(raw, pos)
        except ValueError:  # the one the cut went through: its name and as much of its text as is there
            pieces.append(f"{_partial_field(raw, pos, 'name')}\n{_partial_field(raw, pos, 'text')}")
            break
        if isinstance(section, dict):
            pieces.append(f"{section.get('name', '')}\n{section.get('text', '')}")
    return "\n".join(pieces)


def _partial_field(raw: str, pos: int, key: str) -> str:
    """The string value of `key` in the object starting at `pos` that the cut went through ("" if absent).

    With `str.find`, not a regular expression: Python's `re` takes about a microsecond per character of a
    string body, a second for a page of cut sections."""
    at = raw.find(f'"{key}"', pos)  # a quote inside a value is escaped, so this is the key
    colon = raw.find(":", at + len(key) + 2) if at >= 0 else -1
    start = raw.find('"', colon + 1) + 1 if colon >= 0 else 0
    if not start:
        return ""
    end = start
    while True:
        end = raw.find('"', end)
        if end < 0:
            return _partial_string(raw[start:])
        backslashes = len(raw[start:end]) - len(raw[start:end].rstrip("\\"))
        if backslashes % 2 == 0:
            return _partial_string(raw[start:end])
        end += 1


def _partial_string(body: str) -> str:
    """The value of a JSON string's body that may be cut anywhere (even inside an escape)."""
    trailing = len(body) - len(body.rstrip("\\"))
    if trailing % 2:  # a lone backslash: the cut split an escape
        body = body[:-1]
    elif trailing == 0:
        body = _CUT_ESCAPE.sub("", body)
    try:
        value = json.loads(f'"{body}"')
    except ValueError:
        return ""
    return value if isinstance(value, str) else ""


def fts_rowid(item_id: str) -> int:
    """The FTS5 rowid of an item: a stable signed 64-bit hash (the item ids are text)."""
    return int.from_bytes(hashlib.blake2b(item_id.encode(), digest_size=8).digest(), "big", signed=True)


_SQLITE_DELETE = text("DELETE FROM item_search WHERE rowid = :rowid")
_SQLITE_PRESENT = text("SELECT rowid FROM item_search_ids WHERE rowid IN (SELECT value FROM json_each(:rowids))")
_SQLITE_INSERT = text(
    "INSERT INTO item_search (rowid, title, decision, body) VALUES (:rowid, :title, :decision, :body)"
)
_SQLITE_IDS = text("INSERT OR REPLACE INTO item_search_ids (rowid, item_id) VALUES (:rowid, :item_id)")
_PG_UPSERT = text(
    "INSERT INTO item_search (item_id, tsv) VALUES (:item_id, "
    "setweight(to_tsvector('danish', :title), 'A') || setweight(to_tsvector('danish', :decision), 'B') || "
    "setweight(to_tsvector('danish', :body), 'C')) "
    "ON CONFLICT (item_id) DO UPDATE SET tsv = EXCLUDED.tsv"
)


async def index_items(conn: AsyncConnection, rows: Sequence[IndexRow]) -> None:
    """Write (or rewrite) the index entries of `rows` in the caller's transaction (executemany).

    Idempotent: an item indexed again replaces its entry (one FTS5 row, one tsvector row per item).
    """
    if not rows:
        return
    if conn.dialect.name == "sqlite":
        params = [
            {
                "rowid": fts_rowid(r.item_id),
                "item_id": r.item_id,
                "title": stemmed(r.title),
                "decision": stemmed(r.decision),
                "body": stemmed(r.body),
            }
            for r in rows
        ]
        # Only entries that exist are deleted: most items are indexed once, and an FTS5 delete of a rowid
        # it does not hold still costs a lookup per row. The id map says which are there, in one query.
        rowids = orjson.dumps([p["rowid"] for p in params]).decode()
        present = {r[0] for r in await conn.execute(_SQLITE_PRESENT, {"rowids": rowids})}
        if present:
            await conn.execute(_SQLITE_DELETE, [{"rowid": rowid} for rowid in sorted(present)])
        await conn.execute(_SQLITE_INSERT, params)
        await conn.execute(_SQLITE_IDS, [{"rowid": p["rowid"], "item_id": p["item_id"]} for p in params])
    elif conn.dialect.name == "postgresql":
        params = [{"item_id": r.item_id, "title": r.title, "decision": r.decision, "body": r.body} for r in rows]
        await conn.execute(_PG_UPSERT, params)
    else:
        raise NotImplementedError(f"no search index for {conn.dialect.name!r}")

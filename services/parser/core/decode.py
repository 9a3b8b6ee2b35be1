"""Bytes to text for plain-text and HTML documents, and repair of mojibake (UTF-8 read as cp1252)."""

from __future__ import annotations

import re
from collections import Counter
from itertools import product
from typing import Final

# Characters whose UTF-8 bytes, misread as cp1252 or latin-1, give the familiar `Ã¸`-style pairs.
_MOJIBAKE_SOURCE: Final = "æøåÆØÅéèêëüöäóáíúñçÉÜÖÄ–—‘’‚“”„•…€§°½«»´"


def _mojibake_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for char in _MOJIBAKE_SOURCE:
        raw = char.encode("utf-8")
        for codec in ("cp1252", "latin-1"):
            try:
                garbled = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            table.setdefault(garbled, char)
    return table


_MOJIBAKE: Final = _mojibake_table()
# Longest first so a three-byte sequence (`â€“`) is replaced before any two-byte prefix of it.
_MOJIBAKE_RE: Final = re.compile("|".join(re.escape(k) for k in sorted(_MOJIBAKE, key=len, reverse=True)))
# A damaged pair: `Ã` followed by a character that is no valid continuation (seen: `DrÃ,ftet`,
# where `Ã¸` lost its second byte to a comma). Which letter it was is recovered from the document.
_DAMAGED: Final = re.compile(r"Ã[,.;:'`´\"?]")
_SPACES: Final = re.compile(r"(\s+)")
_EDGE_PUNCT: Final = re.compile(r"^\W+|\W+$")
_GUESSES: Final = ("ø", "æ", "å")
_HAS_GUESS: Final = re.compile("[æøåÆØÅ]")
_WORD: Final = re.compile(r"[^\W\d_]{2,}")


def decode_text(data: bytes) -> str:
    """Decode text bytes: BOMs, UTF-8, else cp1252 (a superset of latin-1 for printable text)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # cp1252 leaves five bytes undefined; latin-1 maps them to C1 controls that cleanup removes later.
    return data.decode("cp1252", errors="ignore") if _cp1252_clean(data) else data.decode("latin-1")


def _cp1252_clean(data: bytes) -> bool:
    return not any(b in data for b in (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d"))


def repair_mojibake(text: str) -> str:
    """Undo UTF-8-read-as-cp1252 pairs (`Ã¸` -> `ø`) and guess damaged ones from the document's words."""
    if "Ã" not in text and "Â" not in text and "â€" not in text:
        return text
    text = _MOJIBAKE_RE.sub(lambda m: _MOJIBAKE[m.group(0)], text)
    if _DAMAGED.search(text) is None:
        return text
    # Only words with æ/ø/å can support a guess, so only they enter the vocabulary.
    vocabulary = Counter(
        w.casefold() for w in _WORD.findall(text) if "Ã" not in w and not w.isascii() and _HAS_GUESS.search(w)
    )
    # Split on whitespace (linear) rather than matching words around the pair with a regex.
    tokens = _SPACES.split(text)
    for i, token in enumerate(tokens):
        if "Ã" in token and _DAMAGED.search(token):
            tokens[i] = _repair_word(token, vocabulary)
    return "".join(tokens)


def _repair_word(word: str, vocabulary: Counter[str]) -> str:
    """Pick ø/æ/å for each damaged pair by what the same document spells elsewhere."""
    # Keep punctuation that merely ends the word (`DrÃ,ftet.`): only pairs count.
    pieces = _DAMAGED.split(word)
    holes = len(pieces) - 1
    if holes > 3:  # beyond three the combinations are not worth trying; ø is the commonest of the three
        return "ø".join(pieces)
    best, best_score = "ø".join(pieces), 0
    for letters in product(_GUESSES, repeat=holes):
        candidate = pieces[0] + "".join(letter + rest for letter, rest in zip(letters, pieces[1:], strict=True))
        score = _evidence(candidate.casefold(), vocabulary)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _evidence(candidate: str, vocabulary: Counter[str]) -> int:
    """How strongly the document supports a spelling: the whole word, else a shared stem."""
    core = _EDGE_PUNCT.sub("", candidate)
    if core in vocabulary:
        return 100 + vocabulary[core]
    # A stem up to one letter past the last repaired letter (`drøf` for `drøftet` from `drøftelse`).
    cut = max(core.rfind(g) for g in _GUESSES) + 2
    stem = core[:cut]
    if len(stem) < 3:
        return 0
    return sum(n for w, n in vocabulary.items() if w.startswith(stem))

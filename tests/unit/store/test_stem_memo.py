"""The memoised stemming gives PyStemmer's stems, word for word, and its memo stays bounded."""

from __future__ import annotations

import pytest
import Stemmer

from services.store import search

TEXT = (
    "Økonomiudvalget anbefaler, at Byrådet godkender fleksjobbet; fleksjobbene og ledighedsydelsen "
    "blev godkendt. Udvalgets indstilling: 2030-fremskrivningen tages til efterretning."
)


def test_memoised_stems_are_pystemmers() -> None:
    words = search.tokens(TEXT)
    direct = Stemmer.Stemmer("danish").stemWords(words)
    assert search.stems(TEXT) == direct
    assert search.stems(TEXT) == direct  # the second time from the memo
    assert search.stemmed(TEXT) == " ".join(direct)
    assert "fleksjob" in search.stems("fleksjobbene")


def test_a_full_memo_is_emptied_and_refilled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search, "_STEMS", {})
    monkeypatch.setattr(search, "_STEMS_MAX", 5)
    words = search.tokens(TEXT)
    assert len(set(words)) > 5
    assert search.stems(TEXT) == Stemmer.Stemmer("danish").stemWords(words)
    assert len(search._STEMS) <= len(set(words))
    # New words beyond the bound empty the memo first: it then holds only this call's words.
    new = ["vindmøllerne", "solcellerne"]
    assert search.stems(" ".join(new)) == Stemmer.Stemmer("danish").stemWords(new)
    assert set(search._STEMS) == {"vindmøllerne", "solcellerne"}

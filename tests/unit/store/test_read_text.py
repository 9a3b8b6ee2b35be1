"""Pure parts of the read layer: the cursor codec, the query parser, snippets and the KLE subject."""

from __future__ import annotations

import base64

import orjson
import pytest

from services.readmodel import cursor
from services.readmodel.cursor import CursorError
from services.store import search
from services.store.kle import kle_of
from services.store.search import SearchSyntaxError


def test_a_cursor_round_trips_and_every_kind_of_tampering_is_refused_clearly() -> None:
    fp = cursor.fingerprint("decisions", {"q": "skole"})
    token = cursor.encode(fp, [0.25, "2025-03-03", "ab" * 32, 4])
    assert cursor.decode(token, fp, 4) == [0.25, "2025-03-03", "ab" * 32, 4]

    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    body, mac = raw[:-8], raw[-8:]
    forged_body = body.replace(b"2025-03-03", b"2024-03-03")
    forged = base64.urlsafe_b64encode(forged_body + mac).rstrip(b"=").decode()
    with pytest.raises(CursorError, match="changed or cut short"):
        cursor.decode(forged, fp, 4)
    with pytest.raises(CursorError, match="changed or cut short"):
        cursor.decode(token[:-6], fp, 4)
    with pytest.raises(CursorError, match=r"changed or cut short \(not base64"):
        cursor.decode("%%%not-base64%%%", fp, 4)
    with pytest.raises(CursorError, match="another search or filter"):
        cursor.decode(token, cursor.fingerprint("decisions", {"q": "skoler"}), 4)
    with pytest.raises(CursorError, match="another search or filter"):
        cursor.decode(token, cursor.fingerprint("meetings", {"q": "skole"}), 4)
    with pytest.raises(CursorError, match="start again without a cursor"):
        cursor.decode("", fp, 4)
    # A well-formed cursor of the wrong shape (made for another list) is refused as well.
    other = cursor.encode(fp, ["2025-03-03", "x"])
    with pytest.raises(CursorError, match="not one this service made"):
        cursor.decode(other, fp, 4)
    assert orjson.loads(body)["k"][1] == "2025-03-03"


def test_the_query_syntax_parses_into_groups_and_exclusions() -> None:
    q = search.parse_query('Skolerne "kollektiv trafik" budget OR dagtilbud -vindmøller -"grøn omstilling"')
    assert q.groups == ((("skolerne",),), (("kollektiv", "trafik"),), (("budget",), ("dagtilbud",)))
    assert q.excluded == (("vindmøller",), ("grøn", "omstilling"))
    assert search.fts5_expression(q) == (
        '(("skol" AND "kollektiv trafik" AND ("budg" OR "dagtilbud")) NOT "vindmøl") NOT "grøn omstilling"'
    )
    assert search.tsquery_expression(q) == (
        "'skolerne' & ('kollektiv' <-> 'trafik') & ('budget' | 'dagtilbud') & !'vindmøller' & "
        "!('grøn' <-> 'omstilling')"
    )
    # A hyphenated word is a phrase; punctuation separates; "or" in lower case is the operator too.
    hyphen = search.parse_query("2030-fremskrivning, skole or børn")
    assert hyphen.groups == ((("2030", "fremskrivning"),), (("skole",), ("børn",)))
    for bad in ("-skole", "", "   ", "OR", '"..."'):
        with pytest.raises(SearchSyntaxError):
            search.parse_query(bad)
    with pytest.raises(SearchSyntaxError, match="too long"):
        search.parse_query("ord " * 200)


def test_snippets_mark_inflections_and_escape_the_text() -> None:
    text = "Indledning. " * 30 + "Borgere i <fleksjob> & fleksjobbet blev drøftet. " + "Afslutning. " * 30
    html = search.snippet(["", text], search.parse_query("fleksjobbene").positive_stems)
    assert html is not None
    assert "&lt;<mark>fleksjob</mark>&gt; &amp; <mark>fleksjobbet</mark>" in html
    assert html.startswith("…") and html.endswith("…")
    assert search.snippet([None, ""], ["x"]) is None


@pytest.mark.parametrize(
    ("case_number", "kle"),
    [
        ("00.22.04-P35-4-18", "00.22.04"),
        ("15.20.00G01-1-20", "15.20.00"),
        ("81.14.00-G01-2-18", "81.14.00"),
        ("EMN-2025-000502", None),
        ("21-013699", None),
        ("12/27845", None),
        ("18.08.2025", None),
        ("15.20", None),
        (None, None),
    ],
)
def test_the_kle_subject_of_a_case_number(case_number: str | None, kle: str | None) -> None:
    assert kle_of(case_number) == kle

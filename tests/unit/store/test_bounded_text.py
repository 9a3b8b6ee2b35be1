"""Large items cost bounded work: the sections read as a cut prefix of their JSON, snippets from an excerpt,
and the store's deliveries in runs of bounded size."""

from __future__ import annotations

import orjson

from services.store import search
from services.store.handlers import chunks_by_size
from shared.stream_worker import Entry

SECTIONS = [
    {"name": "Sagsfremstilling", "text": 'Linje ét\n"citat" og \\ bagstreg æøå \u2028 slut'},
    {"name": "Indstilling", "text": "At udvalget godkender."},
]


def test_every_cut_of_the_sections_json_reads_as_the_beginning_of_their_text() -> None:
    raw = orjson.dumps(SECTIONS).decode()
    whole = search.sections_text(SECTIONS)
    assert search.sections_prefix(raw) == whole
    for cut in range(len(raw)):
        got = search.sections_prefix(raw[:cut])
        # A cut inside a key or an escape loses at most that; what is read is the text's beginning.
        assert whole.startswith(got.rstrip("\n")), (cut, raw[:cut], got)
    assert search.sections_prefix(raw[: raw.index("bagstreg") + 3]).endswith("og \\ bag")


def test_a_snippet_of_a_long_text_shows_the_match_from_a_bounded_excerpt() -> None:
    filler = "udvalget drøfter planen for området. " * 1000  # 37,000 characters
    text = filler + "Her nævnes fleksjobbet i sagen. " + filler * 100  # 3.7 MB
    html = search.snippet([None, "Titel", text], search.parse_query("fleksjob").positive_stems)
    assert html is not None and "<mark>fleksjobbet</mark>" in html
    assert html.startswith("…") and html.endswith("…") and len(html) < 400, html
    beyond = "x " * search.SNIPPET_SCAN_CHARS + "fleksjobbet"
    # Past the scanned beginning a match is not looked for: the text's start is shown, unmarked.
    shown = search.snippet([beyond], ["fleksjob"])
    assert shown is not None and "<mark>" not in shown and shown.startswith("x x")


def test_a_delivery_is_stored_in_order_in_runs_of_bounded_size() -> None:
    sizes = [10, 3_000_000, 2_000_000, 5_000_000, 100, 100, 4_000_000]
    entries = [Entry(f"{i}-0", b"x" * size) for i, size in enumerate(sizes)]
    runs = chunks_by_size(entries, limit=4_000_000)
    assert [e.id for run in runs for e in run] == [e.id for e in entries]
    assert [[len(e.payload) for e in run] for run in runs] == [
        [10, 3_000_000], [2_000_000], [5_000_000], [100, 100], [4_000_000]
    ]

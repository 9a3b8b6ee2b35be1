"""The pure pieces behind the overview and the meeting page: the place list and its picker rules, the SVG
charts, the month series, and which sections and items the meeting page shows (invented items only)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from selectolax.lexbor import LexborHTMLParser

from services.api import charts
from services.api.errors import ApiError
from services.api.filters import build_filter
from services.api.minutes_view import is_procedural, shown_sections
from services.readmodel.overview import month_series
from services.readmodel.results import ItemOut, SectionOut
from shared import places


def test_the_list_holds_98_municipalities_and_5_regions() -> None:
    kinds = Counter(p.kind for p in places.places())
    assert kinds == {"municipality": 98, "region": 5}
    assert len({p.code for p in places.places()}) == 103
    assert {p.name for p in places.places() if p.kind == "region"} == {
        "Region Hovedstaden", "Region Sjælland", "Region Syddanmark", "Region Midtjylland", "Region Nordjylland",
    }  # fmt: skip
    assert len({p.name for p in places.places()}) == 103


def test_every_place_is_found_as_people_write_it() -> None:
    for place in places.places():
        forms = [place.name, place.name.upper(), place.name.lower(), f"  {place.name}  "]
        if place.kind == "municipality":
            forms += [f"{place.name} Kommune", f"{place.name.upper()} KOMMUNE", f"{place.name.lower()}  kommune"]
        for typed in forms:
            assert places.lookup(typed) == place, typed
            assert places.canonical(typed) == place.name
            assert place.name.lower() in places.spellings(typed)
            assert f"{place.name.lower()} kommune" in places.spellings(typed)


def test_long_forms_and_unknown_names() -> None:
    # A genitive long form listed in the data file maps to the short name.
    copenhagen = next(p for p in places.places() if p.code == 101)
    assert places.lookup("københavns kommune") == copenhagen
    assert "københavns kommune" in places.spellings("København")
    # A name the list does not know still drops its `Kommune`, so both stored forms match it.
    assert places.lookup("Testrup Kommune") is None
    assert places.canonical("Testrup Kommune") == "Testrup"
    assert places.spellings("Testrup Kommune") == {"testrup", "testrup kommune"}
    assert places.lookup("") is None and places.lookup("   ") is None


def test_a_misspelling_gets_close_names() -> None:
    for place in places.places():
        if place.kind != "municipality" or len(place.name) < 6:
            continue
        dropped = place.name[0] + place.name[2:]  # one letter left out
        assert place.name in places.suggest(dropped), dropped
        assert place.name in places.suggest(f"{dropped} Kommune"), dropped
    assert "Region Midtjylland" in places.suggest("midtjyland")
    assert places.suggest("xqzvw") == []


def _svg(markup: str) -> LexborHTMLParser:
    return LexborHTMLParser(f"<body>{markup}</body>")


def test_column_chart_draws_one_bar_per_value_scaled_to_the_largest() -> None:
    bars = [charts.Bar("jan", 4, "januar: 4"), charts.Bar("", 0, "februar: 0"), charts.Bar("mar", 8, "marts: 8")]
    html = _svg(charts.column_chart("c", "Titel <x>", "Beskrivelse", bars))
    svg = html.css_first("svg")
    assert svg is not None and svg.attributes["role"] == "img"
    assert svg.attributes["aria-labelledby"] == "c-t c-d"
    assert html.css_first("title#c-t").text() == "Titel <x>"  # type: ignore[union-attr]
    rects = html.css("rect.bar")
    assert [r.css_first("title").text() for r in rects] == ["januar: 4", "februar: 0", "marts: 8"]  # type: ignore[union-attr]
    heights = [float(r.attributes["height"] or 0) for r in rects]
    assert heights[1] == 0 and heights[2] == 2 * heights[0] > 0
    assert [t.text() for t in html.css("text.tick")] == ["jan", "mar"]


def test_share_chart_bars_are_their_share_of_the_total() -> None:
    html = _svg(charts.share_chart("s", "Udfald", "Andele", [charts.Bar("A", 3, "A: 3"), charts.Bar("B", 1, "B: 1")]))
    widths = [float(r.attributes["width"] or 0) for r in html.css("rect.bar")]
    assert widths[0] == 3 * widths[1]
    assert [t.text() for t in html.css("text.value")] == ["75 %", "25 %"]


def test_month_series_fills_the_gaps_and_keeps_the_latest() -> None:
    per_day = Counter({dt.date(2024, 11, 5): 2, dt.date(2024, 11, 20): 1, dt.date(2025, 2, 3): 4})
    series = month_series(per_day)
    assert [(m.month, m.decisions) for m in series] == [
        (dt.date(2024, 11, 1), 3), (dt.date(2024, 12, 1), 0), (dt.date(2025, 1, 1), 0), (dt.date(2025, 2, 1), 4),
    ]  # fmt: skip
    assert [m.month for m in month_series(per_day, limit=2)] == [dt.date(2025, 1, 1), dt.date(2025, 2, 1)]
    assert month_series(Counter()) == []


def _item(sections: list[tuple[str, str]], **fields: object) -> ItemOut:
    values: dict[str, object] = {
        "id": "d:0", "document_id": "d", "position": 0, "number": 1, "title": "Et punkt",
        "case_number": "99.99.99-A00-1-31", "kle": None, "is_closed": False,
        "decision_text": "Udvalget godkendte\nindstillingen.",
        "attachments": ["Notat om sagen", "Kort over området"],
        "sections": [SectionOut(name=n, text=t) for n, t in sections],
    }  # fmt: skip
    values.update(fields)
    return ItemOut.model_validate(values)


def test_sections_leave_out_what_the_page_shows_elsewhere() -> None:
    item = _item([
        ("", "99.99.99-A00-1-31"),  # the case number line
        ("", "Sagsnr.: 99.99.99-A00-1-31"),
        ("Resume", "Sagen handler om noget."),
        ("Bilag", "Notat om sagen\nKort over området"),  # the attachment list
        ("Beslutning", "Udvalget godkendte indstillingen."),  # the decision, as its own section
        ("BESLUTNING", "Udvalget, 1. marts: Fraværende: Ingen\nUdvalget godkendte indstillingen."),
        ("", "99.99.99-A00-1-31\nUdvalget godkendte indstillingen."),
        ("Indstilling", "Forvaltningen indstiller, at udvalget godkender."),
    ])  # fmt: skip
    shown = [(s.name, s.text) for s in shown_sections(item)]
    assert shown == [
        ("Resume", "Sagen handler om noget."),
        ("BESLUTNING", "Udvalget, 1. marts: Fraværende: Ingen"),  # what else the decision's section says
        ("Indstilling", "Forvaltningen indstiller, at udvalget godkender."),
    ]


def test_sections_that_only_mention_them_stay() -> None:
    kept = [
        ("Sagsfremstilling", "Sagen 99.99.99-A00-1-31 blev rejst i fjor, og udvalget godkendte indstillingen."),
        ("Bilag", "Notat om sagen"),  # not every attachment: kept as printed
    ]
    assert [(s.name, s.text) for s in shown_sections(_item(kept))] == kept
    undecided = _item([("Beslutning", "Udsat.")], decision_text=None)
    assert [s.text for s in shown_sections(undecided)] == ["Udsat."]


def test_procedural_items_are_the_formalities_only() -> None:
    for title in ("Godkendelse af dagsorden", "godkendelse af dagsordenen", "Godkendelse af referat",
                  "Meddelelser", "Meddelelser - Udvalget - marts", "Eventuelt", "Underskrifter"):  # fmt: skip
        assert is_procedural(title), title
    for title in ("Godkendelse af budget 2026", "Orientering om skolestruktur", "Lokalplan for eventuelle boliger"):
        assert not is_procedural(title), title


def test_dates_as_danes_write_them_and_as_iso() -> None:
    want = dt.date(2025, 8, 31)
    for typed in ("2025-08-31", "31.08.2025", "31-8-2025", "31/08/2025"):
        assert build_filter({"date_from": typed}).date_from == want, typed
    for bad in ("31.13.2025", "08/31/2025", "31.08.25"):
        with pytest.raises(ApiError, match="is not a date"):
            build_filter({"date_from": bad})

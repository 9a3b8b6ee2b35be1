"""Bad input is bad input (issue 22): a native export with values of the wrong type, and markup nested
thousands of levels deep, are refused at once with a reason naming what is wrong; never read as an empty
meeting, never a RecursionError (which the pipeline would retry as if transient)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest

from services.parser.core import DocumentError, TooDeeplyNested, UnsupportedDocument, parse_document
from services.parser.core.nesting import MAX_DEPTH, check_markup
from tests.unit.parser.test_native_formats import _decided, _fa_doc, _fa_item, _field, _sbsys

ROOT = Path(__file__).resolve().parents[3]


def _doc(**changes: Any) -> bytes:
    """A valid two-item FirstAgenda meeting with some top-level keys replaced."""
    doc = json.loads(_fa_doc([_fa_item(1, "Sag A", _decided("Godkendt.")), _fa_item(2, "Sag B", _decided("Udsat."))]))
    doc.update(changes)
    return json.dumps(doc, ensure_ascii=False).encode()


def _refusal(data: bytes) -> str:
    with pytest.raises(UnsupportedDocument) as err:
        parse_document(data)
    return str(err.value)


def test_the_valid_export_these_tests_break_parses() -> None:
    meeting = parse_document(_doc())
    assert meeting.committee == "Økonomiudvalget" and [i.number for i in meeting.items] == [1, 2]
    assert meeting.warnings == ()


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"Udvalg": "Økonomiudvalget"}, "Udvalg is a text ('Økonomiudvalget'), expected an object"),
        ({"Moede": ["2023-03-01"]}, "Moede is a list of 1, expected an object"),
        ({"Dagsordenpunkter": "1. Sag A"}, "Dagsordenpunkter is a text ('1. Sag A'), expected a list"),
        ({"Dagsordenpunkter": {"1": "Sag A"}}, "Dagsordenpunkter is an object, expected a list"),
        ({"Moede": {"Dato": 20230301, "Sted": "Rådhuset"}}, "Moede.Dato is a number (20230301), expected a text"),
        ({"Moede": {"Dato": "2023-03-01", "Afsluttet": "ja"}},
         "Moede.Afsluttet is a text ('ja'), expected true or false"),
        ({"Moede": {"Dato": "2023-03-01", "Moededeltagere": "Anne Holm"}},
         "Moede.Moededeltagere is a text ('Anne Holm'), expected a list"),
        ({"Udvalg": {"Navn": 7}}, "Udvalg.Navn is a number (7), expected a text"),
    ],
    ids=["committee-text", "meeting-list", "items-text", "items-object", "date-number", "flag-text",
         "members-text", "name-number"],
)
def test_a_meeting_value_of_the_wrong_type_is_refused_by_name(changes: dict[str, Any], named: str) -> None:
    reason = _refusal(_doc(**changes))
    assert reason.startswith("FirstAgenda JSON with values of the wrong type: "), reason
    assert named in reason


def test_an_item_of_the_wrong_type_is_refused_by_its_position_not_dropped() -> None:
    good = _fa_item(1, "Sag A", _decided("Godkendt."))
    numbered_as_list = _fa_item(2, "Sag B", _decided("Udsat."), Punktnummer=[2])
    fields_as_text = {**_fa_item(3, "Sag C", ""), "Felter": "<p>Godkendt.</p>"}
    items: list[Any] = [good, numbered_as_list, "4. Sag D", None, fields_as_text]
    reason = _refusal(_fa_doc(items))
    assert "Dagsordenpunkter[1].Punktnummer is a list of 1, expected a number or a text" in reason
    assert "Dagsordenpunkter[2] is a text ('4. Sag D'), expected an object" in reason
    assert "Dagsordenpunkter[3] is null, expected an object" in reason
    assert "(and 1 more)" in reason  # the fourth problem (Felter) is counted, not listed


def test_nulls_and_keys_the_reader_does_not_use_are_accepted() -> None:
    item = _fa_item(1, "Sag A", _decided("Godkendt."), Documents=None, IsOpen=True, Sorting=1, CaseNumber=None)
    item["Felter"].append({"Navn": None, "Html": None, "Tekst": None, "DocumentId": 12})
    meeting = parse_document(_fa_doc([item]))
    assert meeting.items[0].decision is not None and meeting.items[0].decision.text == "Godkendt."


def test_an_item_without_a_readable_number_is_a_warning_on_the_meeting() -> None:
    unnumbered = _fa_item(0, "Eventuelt", _decided("Intet."))
    unnumbered["Punktnummer"] = "—"
    meeting = parse_document(_fa_doc([_fa_item(1, "Sag A", _decided("Godkendt.")), unnumbered]))
    assert [i.number for i in meeting.items] == [1]
    assert "skipped 1 agenda item without a readable number: Dagsordenpunkter[1] 'Eventuelt'" in meeting.warnings


def test_items_none_of_which_has_a_number_refuse_the_document() -> None:
    item = _fa_item(1, "Sag A", _decided("Godkendt."))
    item["Punktnummer"] = None
    reason = _refusal(_fa_doc([item]))
    assert reason == ("FirstAgenda JSON whose agenda items have no readable number (Punktnummer, Number, Sorting): "
                      "1 agenda item listed, none numbered")


def test_an_unreadable_meeting_date_is_refused_not_stored_without_a_date() -> None:
    reason = _refusal(_doc(Moede={"Dato": "første mandag i marts", "Sted": "Rådhuset"}))
    assert reason == "FirstAgenda JSON with an unreadable meeting date: Moede.Dato 'første mandag i marts'"


# --- nesting -----------------------------------------------------------------------------------------

DEEP = 50_000


def _deep(tag: str = "div", depth: int = DEEP) -> str:
    return f"<{tag}>" * depth + "Godkendt." + f"</{tag}>" * depth


def _deep_docx() -> bytes:
    """A Word document whose body nests 300 content controls (`w:sdt`) in one another."""
    document = docx.Document()
    document.add_heading("Referat", 1)
    document.add_paragraph("Beslutning: Godkendt.")
    buffer = io.BytesIO()
    document.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "word/document.xml":
                text = data.decode()
                at = text.index("<w:body>") + len("<w:body>")
                wrap = "<w:sdt><w:sdtContent>" * 300, "</w:sdtContent></w:sdt>" * 300
                text = text[:at] + wrap[0] + "<w:p><w:r><w:t>dyb</w:t></w:r></w:p>" + wrap[1] + text[at:]
                data = text.encode()
            zout.writestr(info, data)
    return out.getvalue()


DEEP_DOCUMENTS = {
    "firstagenda-field": (_fa_doc([_fa_item(1, "Sag", "<h3>Beslutning</h3>" + _deep())]), "a field nests"),
    "sbsys-field": (_sbsys(_field("Beslutning", _deep(), feedback=True)), "the field 'Beslutning' nests"),
    "html-page": (f"<html><body><h1>Referat</h1><h2>1. Sag</h2>{_deep('span')}</body></html>".encode(),
                  "the HTML page nests"),
    "xml-elements": (f"<Publication><Agendas>{_deep('Agenda')}</Agendas></Publication>".encode(),
                     "the XML export nests"),
    "docx": (_deep_docx(), "the DOCX nests its XML elements more than 256 levels deep"),
}


@pytest.mark.parametrize("name", sorted(DEEP_DOCUMENTS))
def test_pathological_nesting_is_refused_at_once_in_every_format(name: str) -> None:
    data, reason = DEEP_DOCUMENTS[name]
    with pytest.raises(TooDeeplyNested) as err:
        parse_document(data, f"{name}.{'docx' if name == 'docx' else 'bin'}")
    assert str(err.value).startswith(reason), str(err.value)
    assert isinstance(err.value, DocumentError)  # the pipeline's "permanent" class: dead-lettered, not retried


def test_nesting_up_to_the_bound_is_read() -> None:
    meeting = parse_document(_fa_doc([_fa_item(1, "Sag", "<h3>Beslutning</h3>" + _deep("div", 400))]))
    assert meeting.items[0].decision is not None and meeting.items[0].decision.text == "Godkendt."


def test_unclosed_paragraphs_and_void_elements_do_not_count_as_depth() -> None:
    sloppy = "<div>" + "<p>Linje<br><img src=x>" * (MAX_DEPTH * 4) + "</div>"
    check_markup(sloppy, "a field")  # thousands of tags, all siblings to a browser: no refusal
    check_markup("<svg>" + "<path d='M0 0'/>" * (MAX_DEPTH * 2) + "</svg>", "a field")  # self-closed
    check_markup("<SCRIPT>" + "<div>" * (MAX_DEPTH * 2) + "</SCRIPT><!-- " + "<div>" * MAX_DEPTH * 2 + " -->", "a")
    with pytest.raises(TooDeeplyNested):
        check_markup("<span>" * (MAX_DEPTH + 1), "a field")


def test_a_recursion_error_anywhere_in_a_parse_becomes_the_parsers_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    import services.parser.core as core

    def recurse(data: bytes, filename: str | None) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(core, "_parse", recurse)
    with pytest.raises(TooDeeplyNested, match="nests too deeply to read"):
        core.parse_document(b"Referat")


def test_minutes_parse_prints_one_line_and_exits_non_zero(tmp_path: Path) -> None:
    deep = tmp_path / "dyb.json"
    deep.write_bytes(DEEP_DOCUMENTS["firstagenda-field"][0])
    wrong = tmp_path / "forkert.json"
    wrong.write_bytes(_doc(Udvalg="Økonomiudvalget"))
    for path, reason in ((deep, "a field nests its elements more than 512 levels deep"),
                         (wrong, "FirstAgenda JSON with values of the wrong type: Udvalg is a text")):
        run = subprocess.run([sys.executable, "-m", "minutes_cli.parse_main", str(path), "--json"], cwd=ROOT,
                             capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 2
        assert run.stdout == ""
        assert run.stderr.startswith(f"error: {reason}"), run.stderr
        assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr

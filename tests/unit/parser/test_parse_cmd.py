"""`minutes parse FILE`: the readable summary ends with the parser's warnings; a refusal is an error with its reason."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from minutes_cli.parse_cmd import _summary, parse
from services.parser.core import parse_text
from tests.unit.parser.test_assess import PROSE_MINUTES

UNDECIDED = """Referat

Udvalget for Natur og Fritid
Mødedato: 14. marts 2024
Mødested: Mødelokale 2, Rådhuset

Punkt 1: Orientering om stier i naturområderne

Sagsfremstilling
Forvaltningen orienterer om arbejdet med stier i kommunens naturområder.

Indstilling
Forvaltningen indstiller, at orienteringen tages til efterretning.
"""


def test_the_summary_prints_each_warning_after_the_items() -> None:
    meeting = parse_text(UNDECIDED).model_copy(update={"warnings": ("minutes without any decision", "[odd] text")})
    out = io.StringIO()
    _summary(meeting, Console(file=out, width=160, color_system=None))
    lines = out.getvalue().splitlines()
    assert lines[-2:] == ["warning: minutes without any decision", "warning: [odd] text"]
    assert any("Orientering om stier" in line for line in lines[:-2])


def test_a_layout_not_recognised_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "referat.txt"
    doc.write_text(PROSE_MINUTES, encoding="utf-8")
    assert parse(doc, as_json=True) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: layout not recognised: minutes with a header (")

"""`minutes --help` (and every command's `--help`) must not import the pipeline's heavy libraries: each start of
the CLI paid ~2 s for them before (issue 20). Checked in a fresh interpreter, by what is in `sys.modules` after
the help was built, not by timing, so that a load on the machine cannot make it pass or fail."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# pydantic is not here: typer itself converts a subcommand's parameters through pydantic (typer._adapters);
# only the top-level help is checked for it.
HEAVY = ("faststream", "sqlalchemy", "sqlmodel", "redis", "pyarrow", "alembic", "structlog", "pydantic_settings")

_PROBE = """
import json, sys
from minutes_cli.main import app
try:
    app(sys.argv[1:], prog_name="minutes")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = json.loads(sys.stdin.read())
print(json.dumps({"code": code, "loaded": sorted({m.split(".")[0] for m in sys.modules} & set(heavy))}))
"""


def _help_imports(*args: str) -> tuple[object, list[str], str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args, "--help"],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    *help_lines, last = done.stdout.strip().splitlines()
    result = json.loads(last)
    return result["code"], result["loaded"], "\n".join(help_lines)


@pytest.mark.parametrize(
    "args", [(), ("decisions",), ("search",), ("export",), ("up",), ("service",), ("subscriptions",), ("dlq",),
             ("sources",), ("sources", "add")]
)
def test_help_imports_no_heavy_library(args: tuple[str, ...]) -> None:
    code, loaded, text = _help_imports(*args)
    assert code == 0
    assert "Usage: minutes" in text  # the help was really built, not an early exit
    assert loaded == [], f"`minutes {' '.join(args)} --help` imported {loaded}"


def test_top_level_help_imports_no_pydantic() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "--help"],
        input=json.dumps(["pydantic"]),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"code": 0, "loaded": []}


def test_the_probe_sees_an_import() -> None:
    """The check can fail: the same probe in a process that did import one of them reports it."""
    done = subprocess.run(
        [sys.executable, "-c", "import redis\n" + _PROBE, "--help"],
        input=json.dumps(HEAVY),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout.strip().splitlines()[-1])["loaded"] == ["redis"]


def test_outcome_choices_are_the_contracts() -> None:
    """`--outcome` is offered from the light enum; it must be the very enum the contracts use."""
    from shared.contracts import meeting, outcome

    assert meeting.Outcome is outcome.Outcome

"""Options and settings shared by every `minutes` command."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from shared.contracts.outcome import Outcome

if TYPE_CHECKING:
    from services.readmodel.filter import ReadFilter
    from shared.settings import Settings

# Help and usage errors in click's plain layout: typer's rich layout imports rich's markdown, syntax and traceback
# renderers (~0.4 s, more than everything else `minutes --help` does). The help texts are the same words.
HELP_MARKUP: Literal["markdown", "rich"] | None = None

DataOpt = Annotated[
    Path | None, typer.Option("--data", help="Data dir (SQLite, blobs, embedded Redis). Env: MINUTES_DATA_DIR.")
]


def make_settings(data: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, with command-line options taking precedence."""
    from shared.settings import Settings  # pydantic-settings: paid by the commands that read settings only

    values = {k: v for k, v in overrides.items() if v is not None}
    if data is not None:
        values["data_dir"] = data
    return Settings(**values)


def configure_logging(level: str, fmt: Literal["auto", "json", "console"], *, service: str) -> None:
    """`shared.logging.configure_logging`, imported when a command runs: structlog (and the rich traceback
    renderer it brings) costs more than the rest of `minutes --help`."""
    from shared.logging import configure_logging as configure

    configure(level, fmt, service=service)


_KLE = re.compile(r"\d{2}(\.\d{2}){0,2}")
# ReadFilter's field names where the commands' options are named otherwise.
_OPTION_OF_FIELD = {"date_from": "since", "date_to": "until", "q": "query"}


def read_filter(
    *,
    q: str | None = None,
    municipality: str | None = None,
    region: str | None = None,
    committee: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    outcome: Outcome | None = None,
    case_number: str | None = None,
    kle: str | None = None,
    absent: str | None = None,
    match: str | None = None,
    all_versions: bool = False,
) -> ReadFilter:
    """The read model's filter of `minutes search` / `export` / `decisions` options (one place, so the commands
    refuse a bad value the same way): a bad value is a usage error naming the option, never a traceback."""
    from pydantic import ValidationError

    from services.readmodel.filter import ReadFilter

    if kle is not None and not _KLE.fullmatch(kle):
        raise typer.BadParameter(f"--kle takes NN, NN.NN or NN.NN.NN (e.g. 15.20), not {kle!r}")
    try:
        return ReadFilter(
            q=q,
            municipality=municipality,
            region=region,
            committee=committee,
            date_from=since.date() if since else None,
            date_to=until.date() if until else None,
            outcome=outcome,
            case_number=case_number,
            kle=kle,
            absent=absent,
            match=match,
            all_versions=all_versions,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "filter"
        option = _OPTION_OF_FIELD.get(field, field).replace("_", "-")
        raise typer.BadParameter(f"--{option}: {first['msg']}") from None

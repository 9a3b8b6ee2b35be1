"""Options and settings shared by every `minutes` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from shared.settings import Settings

DataOpt = Annotated[
    Path | None, typer.Option("--data", help="Data dir (SQLite, blobs, embedded Redis). Env: MINUTES_DATA_DIR.")
]


def make_settings(data: Path | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, with command-line options taking precedence."""
    values = {k: v for k, v in overrides.items() if v is not None}
    if data is not None:
        values["data_dir"] = data
    return Settings(**values)

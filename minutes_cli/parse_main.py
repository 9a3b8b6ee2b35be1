"""`python -m minutes_cli.parse_main FILE [--json]`: the parse command without the typer app."""

from __future__ import annotations

import sys
from pathlib import Path

from minutes_cli.parse_cmd import parse


def main(argv: list[str] | None = None) -> int:
    """Run `parse` on the one file named on the command line."""
    args = sys.argv[1:] if argv is None else argv
    files = [a for a in args if not a.startswith("--")]
    if len(files) != 1:
        print("usage: python -m minutes_cli.parse_main FILE [--json]", file=sys.stderr)
        return 2
    return parse(Path(files[0]), as_json="--json" in args)


if __name__ == "__main__":
    sys.exit(main())

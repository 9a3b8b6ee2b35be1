"""The `minutes` command: run the pipeline, its services, and the user-facing tools."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from minutes_cli import commands
from minutes_cli.options import DataOpt, make_settings
from shared.logging import configure_logging

app = typer.Typer(
    help="Danish municipal minutes -> structured decisions, with live decision events.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
dlq_app = typer.Typer(help="Inspect and re-queue dead-lettered messages.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")

# Exit status of a service that refuses to start on bad state (EX_CONFIG): `minutes up` does not restart it.
REFUSED = 78


class ServiceName(StrEnum):
    """The services `minutes service` can run."""

    ingest = "ingest"
    parser = "parser"
    store = "store"


@app.command()
def up(
    inbox: Annotated[Path | None, typer.Option(help="Folder to watch. Env: MINUTES_INBOX.")] = None,
    data: DataOpt = None,
    parsers: Annotated[int | None, typer.Option(min=1, help="Parser worker processes.")] = None,
    stores: Annotated[int | None, typer.Option(min=1, help="Store worker processes.")] = None,
) -> None:
    """Run the whole pipeline locally: embedded Redis (unless MINUTES_REDIS_URL), ingest, parsers, store."""
    from minutes_cli.supervisor import Stack, StartRefused
    from shared.redis_server import redact

    settings = make_settings(data, inbox=inbox, parsers=parsers, stores=stores)
    configure_logging(settings.log_level, settings.log_format, service="up")
    env = {"MINUTES_LOG_FORMAT": "console"} if sys.stderr.isatty() and settings.log_format == "auto" else {}
    stack = Stack(settings, env=env)
    try:
        url = stack.start()
    except StartRefused as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.secho(
        f"minutes is up: drop files into {settings.inbox.resolve()} — decisions on {redact(url)} "
        f"stream minutes:decisions (`minutes decisions --follow --data {settings.data_dir}`). Ctrl-C stops.",
        fg=typer.colors.GREEN,
        err=True,
    )
    try:
        stack.wait()
    finally:
        codes = stack.stop()
        typer.echo(f"stopped: {codes}", err=True)


@app.command()
def service(name: ServiceName, data: DataOpt = None) -> None:
    """Run one service in the foreground (what docker compose runs)."""
    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service=name.value)
    from shared.service import run_app

    if name is ServiceName.ingest:
        from services.ingest.app import create_app
    elif name is ServiceName.parser:
        from services.parser.app import create_app  # type: ignore[assignment]
    else:
        from services.store.app import create_app  # type: ignore[assignment]
    from services.store.state_check import DatabaseCorrupt

    try:
        run_app(create_app(settings))
    except DatabaseCorrupt as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(REFUSED) from exc


@app.command()
def parse(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Minutes file: txt, pdf, html, docx.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the ParsedMeeting as one JSON object.")] = False,
) -> None:
    """Parse one document and print the meeting, its items and decisions."""
    from minutes_cli.parse_cmd import parse as run_parse

    raise typer.Exit(run_parse(file, as_json))


@app.command(name="eval")
def evaluate(
    gold: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of gold annotations (*.json).")],
    docs: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of the original documents.")],
    minimum: Annotated[float, typer.Option("--min", min=0, max=1, help="Exit 1 below this overall score.")] = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object with every failed check.")] = False,
    show_all: Annotated[bool, typer.Option("--all", help="List passed checks too.")] = False,
) -> None:
    """Score the parser against gold annotations: per document and field, gold beside parsed value."""
    from minutes_cli.eval_cmd import evaluate as run_eval

    raise typer.Exit(run_eval(gold, docs, minimum, as_json, show_all))


@app.command()
def migrate(data: DataOpt = None) -> None:
    """Create or upgrade the database schema (Alembic)."""
    import asyncio

    from services.store.db import migrate as run_migrate

    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="migrate")
    asyncio.run(run_migrate(settings.effective_database_url))


@app.command()
def check(data: DataOpt = None) -> None:
    """Check the database, Redis persistence, pending and dead-lettered messages; re-announce lost events."""
    import asyncio

    from minutes_cli.check_cmd import print_report, run_check

    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="check")
    raise typer.Exit(print_report(asyncio.run(run_check(settings))))


commands.register(app, dlq_app)

if __name__ == "__main__":
    app()

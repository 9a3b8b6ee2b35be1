"""User-facing commands: ingest, decisions, dlq, asyncapi, bench."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from minutes_cli.options import DataOpt, make_settings
from shared.contracts.meeting import Outcome
from shared.logging import configure_logging


def register(app: typer.Typer, dlq_app: typer.Typer) -> None:
    """Attach the commands of this module to the CLI."""
    app.command()(ingest)
    app.command()(decisions)
    app.command()(asyncapi)
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(bench)
    dlq_app.command("list")(dlq_list)
    dlq_app.command("retry")(dlq_retry)


def ingest(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files or folders (recursive).")],
    data: DataOpt = None,
) -> None:
    """One-shot backfill of files or folders into a running pipeline, with progress and a final count."""
    from minutes_cli.ingest_cmd import ingest as run_ingest

    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="ingest-cli")
    raise typer.Exit(run_ingest(paths, settings))


def decisions(
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Follow the live decisions stream.")] = False,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Meetings on/after DATE.")] = None,
    municipality: Annotated[str | None, typer.Option(help="Municipality name, e.g. Favrskov.")] = None,
    committee: Annotated[str | None, typer.Option(help="Committee name (substring, any case).")] = None,
    outcome: Annotated[Outcome | None, typer.Option(help="Only this outcome.")] = None,
    match: Annotated[str | None, typer.Option(help="Text in the title or decision (any case).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many stored decisions.")] = 1000,
    all_versions: Annotated[
        bool, typer.Option(help="Stored: also decisions of superseded versions (e.g. before a correction).")
    ] = False,
    from_start: Annotated[bool, typer.Option(help="With --follow: replay the stream from its start.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines (the default when not on a TTY).")] = False,
    data: DataOpt = None,
) -> None:
    """List stored decisions, or follow new ones live, filtered."""
    from minutes_cli.decisions_cmd import DecisionFilter, follow_decisions, print_decisions, stored_decisions

    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="decisions")
    flt = DecisionFilter(
        since=since.date() if since else None,
        municipality=municipality,
        committee=committee,
        outcome=outcome,
        match=match,
        all_versions=all_versions,
    )
    json_lines = as_json or not sys.stdout.isatty()
    if follow:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(follow_decisions(settings, flt, json_lines=json_lines, from_start=from_start))
        return
    rows = asyncio.run(stored_decisions(settings, flt, limit))
    print_decisions(rows, json_lines=json_lines)


def dlq_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    data: DataOpt = None,
) -> None:
    """Show dead-lettered messages: service, reason, attempts, document."""
    from minutes_cli.dlq_cmd import list_entries

    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="dlq")
    asyncio.run(list_entries(settings, json_lines=as_json or not sys.stdout.isatty()))


def dlq_retry(
    entry_id: Annotated[str | None, typer.Argument(help="Dead-letter entry id (from `dlq list`).")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Re-queue every re-queueable entry.")] = False,
    data: DataOpt = None,
) -> None:
    """Re-queue dead-lettered messages onto the stream they came from."""
    from minutes_cli.dlq_cmd import retry_entries

    if not entry_id and not all_:
        raise typer.BadParameter("give an entry id or --all")
    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="dlq")
    raise typer.Exit(asyncio.run(retry_entries(settings, None if all_ else entry_id)))


def asyncapi(
    out: Annotated[Path, typer.Option(help="Folder for the AsyncAPI documents.")] = Path("docs/asyncapi"),
) -> None:
    """Write the AsyncAPI document FastStream generates for each service."""
    from minutes_cli.asyncapi_cmd import write_specs

    for path in write_specs(out):
        typer.echo(str(path))


def bench(ctx: typer.Context) -> None:
    """End-to-end benchmark (see `minutes bench --help`); options are passed to `python -m bench`."""
    from bench.__main__ import main as bench_main

    raise typer.Exit(bench_main(list(ctx.args)))

"""User-facing commands: ingest, decisions, dlq, asyncapi, bench.

What a command needs is imported when it runs (even asyncio): `minutes --help` imports only typer."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from minutes_cli.options import DataOpt, configure_logging, make_settings, read_filter
from minutes_cli.search_cmd import search
from shared.contracts.outcome import Outcome


def register(app: typer.Typer, dlq_app: typer.Typer) -> None:
    """Attach the commands of this module to the CLI."""
    app.command()(ingest)
    app.command()(decisions)
    app.command()(search)
    app.command()(asyncapi)
    # help_option_names=[]: `--help` and `-h` go to the benchmark's own parser, which lists its options.
    app.command(
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
        add_help_option=False,
    )(bench)
    dlq_app.command("list")(dlq_list)
    dlq_app.command("retry")(dlq_retry)


def ingest(
    paths: Annotated[list[Path], typer.Argument(exists=True, help="Files or folders (recursive).")],
    wait: Annotated[
        float,
        typer.Option(min=0, help="Seconds to wait for the parser's verdicts on the new documents (0: don't)."),
    ] = 60.0,
    data: DataOpt = None,
) -> None:
    """One-shot backfill of files or folders into a running pipeline, with progress and a final count."""
    from minutes_cli.ingest_cmd import ingest as run_ingest

    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="ingest-cli")
    raise typer.Exit(run_ingest(paths, settings, wait_s=wait))


def decisions(
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Follow the live stream as a durable consumer group.")
    ] = False,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Meetings on/after DATE.")] = None,
    municipality: Annotated[str | None, typer.Option(help="Municipality name, e.g. Favrskov.")] = None,
    committee: Annotated[str | None, typer.Option(help="Committee name (substring, any case).")] = None,
    outcome: Annotated[Outcome | None, typer.Option(help="Only this outcome.")] = None,
    match: Annotated[str | None, typer.Option(help="Text in the title or decision (any case).")] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="At most N stored decisions [default: all with --json or a pipe, 1000 in a table]."),
    ] = None,
    all_versions: Annotated[
        bool, typer.Option(help="Stored: also decisions of superseded versions (e.g. before a correction).")
    ] = False,
    group: Annotated[
        str | None,
        typer.Option(help="With --follow: the consumer group that remembers what you saw [default: cli-USER@HOST]."),
    ] = None,
    from_start: Annotated[
        bool, typer.Option(help="With --follow: replay every decision the stream still holds, then follow.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines (the default when not on a TTY).")] = False,
    data: DataOpt = None,
) -> None:
    """List stored decisions, or follow new ones live, filtered."""
    from minutes_cli.decisions_cmd import follow_decisions, print_stored

    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="decisions")
    flt = read_filter(
        since=since, municipality=municipality, committee=committee, outcome=outcome, match=match,
        all_versions=all_versions,
    )
    json_lines = as_json or not sys.stdout.isatty()
    if not follow and (group or from_start):
        raise typer.BadParameter("--group and --from-start go with --follow")
    if follow:
        import asyncio

        from minutes_cli.follow import default_group  # redis: only for --follow

        if all_versions or limit is not None:
            raise typer.BadParameter("--all-versions and --limit are for stored decisions, not --follow")
        raise typer.Exit(
            asyncio.run(
                follow_decisions(
                    settings, flt, json_lines=json_lines, from_start=from_start, group=group or default_group()
                )
            )
        )
    print_stored(settings, flt, json_lines=json_lines, limit=limit)


def dlq_list(
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    data: DataOpt = None,
) -> None:
    """Show dead-lettered messages: service, reason, attempts, document."""
    import asyncio

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
    import asyncio

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

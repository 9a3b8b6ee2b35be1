"""The `minutes` command: run the pipeline, its services, and the user-facing tools."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from minutes_cli import commands, errors, export_cmd
from minutes_cli.options import HELP_MARKUP, DataOpt, configure_logging, make_settings

app = typer.Typer(
    help="Danish municipal minutes -> structured decisions, with live decision events.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=HELP_MARKUP,
)
dlq_app = typer.Typer(
    help="Inspect and re-queue dead-lettered messages.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP
)
app.add_typer(dlq_app, name="dlq")

# Exit status of a service that refuses to start on bad state (EX_CONFIG): `minutes up` does not restart it.
REFUSED = 78



@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks (also MINUTES_LOG_LEVEL=DEBUG).")] = False,
) -> None:
    """Danish municipal minutes -> structured decisions, with live decision events."""
    errors.DEBUG["on"] = debug  # MINUTES_LOG_LEVEL=DEBUG is read only when a failure is shown: errors.debug_on


def _raise_interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def follow_hint() -> str:
    """How to run `minutes` from this shell: on PATH, through ./dev, or by the path of the script."""
    if shutil.which("minutes"):
        return "minutes"
    script = os.path.join(os.path.dirname(sys.executable), "minutes")
    if os.path.isfile("dev") and os.path.samefile(os.path.dirname(sys.executable), os.path.join(".venv", "bin")):
        return "./dev minutes"
    return script if os.path.isfile(script) else f"{sys.executable} -m minutes_cli.main"

class ServiceName(StrEnum):
    """The services `minutes service` can run."""

    ingest = "ingest"
    parser = "parser"
    store = "store"
    api = "api"
    alerts = "alerts"


@app.command()
def up(
    inbox: Annotated[Path | None, typer.Option(help="Folder to watch. Env: MINUTES_INBOX.")] = None,
    data: DataOpt = None,
    parsers: Annotated[int | None, typer.Option(min=1, help="Parser worker processes.")] = None,
    stores: Annotated[int | None, typer.Option(min=1, help="Store worker processes.")] = None,
    api_port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Port of the web page and read API. Env: MINUTES_API_PORT.")
    ] = None,
) -> None:
    """Run the whole pipeline locally: embedded Redis (unless MINUTES_REDIS_URL), ingest, parsers, store, and
    the web page with its read API."""
    from minutes_cli.supervisor import Stack, StartRefused
    from shared import streams
    from shared.redis_server import redact

    settings = make_settings(data, inbox=inbox, parsers=parsers, stores=stores, api_port=api_port)
    configure_logging(settings.log_level, settings.log_format, service="up")
    env = {"MINUTES_LOG_FORMAT": "console"} if sys.stderr.isatty() and settings.log_format == "auto" else {}
    # Until `wait` takes over, SIGTERM and SIGHUP (closed terminal) unwind like Ctrl-C: start() then stops
    # whatever it had started, so no redis-server or service is left behind.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)
    stack = Stack(settings, env=env, api=True)
    try:
        url = stack.start()
    except StartRefused as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    supervised = True
    try:
        if not stack.ingest_ready.wait(120):
            typer.secho("ingest has not reported watching the inbox after 120 s; see its log", err=True)
        page = stack.wait_api(30)
        if page is None:
            typer.secho("the web page and read API did not start; see the [api] lines above", err=True)
        opened = f"open {page} in a browser; " if page else ""
        typer.secho(
            f"minutes is up: {opened}drop files into {settings.inbox.resolve()} — decisions on {redact(url)} stream "
            f"{streams.DECISIONS} (`{follow_hint()} decisions --follow --data {settings.data_dir}`). Ctrl-C stops.",
            fg=typer.colors.GREEN,
            err=True,
        )
        supervised = stack.wait()
    except KeyboardInterrupt:
        pass
    finally:
        codes = stack.stop()
        typer.echo(f"stopped: {codes}", err=True)
    if not supervised:
        raise typer.Exit(1)


@app.command()
def service(name: ServiceName, data: DataOpt = None) -> None:
    """Run one service in the foreground (what docker compose runs); `api` serves the read API and web page."""
    from minutes_cli.runlock import DataDirLock, held_by_parent

    if name is ServiceName.api:
        from shared.memory import use_system_malloc

        use_system_malloc()  # re-executes with PYTHONMALLOC=malloc: a burst of live clients' memory comes back

    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service=name.value)
    from shared.memory import release_large_buffers
    from shared.service import run_app

    release_large_buffers()  # a large document's buffers are returned once freed (shared/memory.py)

    if not held_by_parent(settings.data_dir):
        # A lone service shares the data dir with other lone services, never with a `minutes up`.
        lock = DataDirLock(settings.data_dir, f"minutes service {name.value}")
        try:
            lock.acquire(shared=True)
        except OSError as exc:  # a read-only data dir (the service keeps nothing there): run unlocked
            typer.echo(f"warning: cannot lock data dir {settings.data_dir}: {exc}", err=True)

    if name is ServiceName.api:
        from services.api.server import serve

        raise typer.Exit(serve(settings))
    if name is ServiceName.ingest:
        from services.ingest.app import create_app
    elif name is ServiceName.parser:
        from services.parser.app import create_app  # type: ignore[assignment]
    elif name is ServiceName.alerts:
        from services.alerts.app import create_app  # type: ignore[assignment]
    else:
        from services.store.app import create_app  # type: ignore[assignment]
    from services.store.state_check import DatabaseCorrupt

    try:
        run_app(create_app(settings))
    except DatabaseCorrupt as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(REFUSED) from exc


@app.command()
def health(
    name: Annotated[ServiceName | None, typer.Argument(help="Service to check; none: only Redis.")] = None,
    data: DataOpt = None,
) -> None:
    """Exit 0 when the service is ready to work, else 1 with the reason (the container health check)."""
    from minutes_cli.health_cmd import health as check_health

    reason = check_health(name.value if name else None, make_settings(data))
    if reason is not None:
        typer.echo(f"unhealthy: {reason}", err=True)
        raise typer.Exit(1)
    typer.echo("healthy")


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
    from services.store.db import schema_revision

    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="migrate")
    url = settings.effective_database_url
    shown = make_url_safe(url)
    before = asyncio.run(schema_revision(url)) if settings.database_url or settings.sqlite_path.exists() else None
    asyncio.run(run_migrate(url))
    after = asyncio.run(schema_revision(url))
    if before == after:
        typer.echo(f"{shown}: schema already at {after} (latest); nothing to do")
    elif before is None:
        typer.echo(f"{shown}: schema created at {after}")
    else:
        typer.echo(f"{shown}: schema upgraded from {before} to {after}")


def make_url_safe(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@app.command()
def check(
    data: DataOpt = None,
    blob_sample: Annotated[
        int | None,
        typer.Option(min=0, help="Read and hash this many randomly chosen blobs (0: all; default "
                     "MINUTES_CHECK_BLOB_SAMPLE, 0)."),
    ] = None,
    blobs: Annotated[
        bool, typer.Option(help="Verify the stored blobs (`minutes up` skips it: hashing every blob at each start "
                           "would delay it, and a faulty blob does not stop the pipeline).")
    ] = True,
) -> None:
    """Check the database, Redis persistence, pending and dead-lettered messages and the stored documents'
    original files (sha256); re-announce lost events. Exit 65: database corrupt; 1: blobs missing or corrupt."""
    import asyncio

    from minutes_cli.check_cmd import print_report, run_check

    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="check")
    raise typer.Exit(print_report(asyncio.run(run_check(settings, blob_sample=blob_sample, blobs=blobs))))


commands.register(app, dlq_app)
export_cmd.register(app)

from minutes_cli.subscriptions_cmd import app as subscriptions_app  # noqa: E402

app.add_typer(subscriptions_app, name="subscriptions")

from minutes_cli.sources_cmd import app as sources_app  # noqa: E402

app.add_typer(sources_app, name="sources")


def main() -> None:
    """Entry point of the `minutes` script: the CLI, with expected failures explained in a line or two."""
    errors.run(app)


if __name__ == "__main__":
    main()

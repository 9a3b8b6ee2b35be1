"""`minutes sources`: follow agenda portals (services/ingest/sources/): add, list, remove, poll, backfill."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import urlsplit

import typer

from minutes_cli.errors import UserError
from minutes_cli.options import HELP_MARKUP, DataOpt, configure_logging, make_settings

# The tables, the database and the client are imported when a subcommand runs (see options.py).
if TYPE_CHECKING:
    from services.ingest.sources.poller import PollResult
    from services.ingest.sources.state import Source
    from shared.settings import Settings

app = typer.Typer(
    help="Follow agenda portals: new agendas and minutes are fetched and go through the pipeline.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
)

T = TypeVar("T")
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON (the default when not on a TTY).")]


def _settings(data: Any, name: str) -> Settings:
    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service=f"sources-{name}")
    return settings


def _run(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(engine)` on the store's database (which must exist and be migrated)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from minutes_cli.decisions_cmd import run_on_store
    from services.ingest.sources.state import SourceError

    try:
        return run_on_store(settings, work)
    except SourceError as exc:
        raise UserError(str(exc), "`minutes sources list` shows the sources") from None
    except (OperationalError, ProgrammingError) as exc:
        if "sources" in str(exc) and ("no such table" in str(exc) or "does not exist" in str(exc)):
            raise UserError("the database has no sources table yet", "run `minutes migrate`") from None
        raise


def _parse_date(value: str | None, what: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{what} {value!r} is not a date", "write it as YYYY-MM-DD") from None


def _state(source: Source) -> str:
    if source.error:
        since = source.error_since.strftime("%Y-%m-%d %H:%M") if source.error_since else "?"
        return f"failing since {since} UTC: {source.error}"
    if source.last_ok_at is None:
        return "not polled yet"
    return "ok"


@app.command("add")
def add(
    type_: Annotated[str, typer.Argument(metavar="TYPE", help="Portal system: firstagenda.")],
    url: Annotated[str, typer.Argument(help="The portal's address, e.g. https://dagsordener.greve.dk")],
    name: Annotated[str | None, typer.Option(help="Name of the source (default: the portal's host).")] = None,
    municipality: Annotated[str | None, typer.Option(help="The municipality publishing there.")] = None,
    committee: Annotated[
        list[str] | None, typer.Option(help="Follow only committees whose name contains this (repeatable).")
    ] = None,
    since: Annotated[str | None, typer.Option(help="Only meetings on or after this date (YYYY-MM-DD).")] = None,
    data: DataOpt = None,
) -> None:
    """Follow a portal: ingest polls it (every MINUTES_SOURCES_POLL_S) and fetches what it publishes."""
    import asyncio

    from services.ingest.sources import state
    from services.ingest.sources.poller import check_source_url
    from services.ingest.sources.types import TYPES
    from shared.urlsafety import UrlRefused

    settings = _settings(data, "add")
    if type_ not in TYPES:
        raise UserError(f"unknown source type {type_!r}", f"known types: {', '.join(TYPES)}")
    try:
        asyncio.run(check_source_url(url, allow_private=settings.allow_private_urls))
    except UrlRefused as exc:
        raise UserError(f"source refused: {exc}") from None
    source = state.Source(
        name=name or urlsplit(url).netloc, type=type_, url=url.rstrip("/"), municipality=municipality,
        committees=tuple(committee or ()), since=_parse_date(since, "--since"),
    )
    _run(settings, lambda engine: state.add_source(engine, source))
    typer.echo(f"following {source.name} ({source.type} {source.url}); `minutes sources poll` fetches it now")


@app.command("list")
def list_(as_json: JsonOpt = False, data: DataOpt = None) -> None:
    """The sources with their state: last poll, meetings seen, the error they are in and since when."""
    from services.ingest.sources import state

    settings = _settings(data, "list")
    found = _run(settings, state.list_sources)
    if as_json or not sys.stdout.isatty():
        for source in found:
            typer.echo(json.dumps(source.as_json(), ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("name", "type", "municipality", "url", "meetings", "last poll", "state")
    for source in found:
        last = source.last_poll_at.strftime("%Y-%m-%d %H:%M") if source.last_poll_at else "never"
        table.add_row(source.name, source.type, source.municipality or "", source.url, str(source.meetings_seen),
                      last, _state(source))
    Console().print(table)


@app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="The source's name.")], data: DataOpt = None) -> None:
    """Stop following a source (what it brought stays stored)."""
    from services.ingest.sources import state

    settings = _settings(data, "remove")
    _run(settings, lambda engine: state.remove_source(engine, name))
    typer.echo(f"removed {name}")


def _poll(settings: Settings, name: str | None, since: dt.date | None, bar: bool) -> dict[str, PollResult]:
    import asyncio

    from services.ingest.sources.once import poll_now
    from services.ingest.sources.state import SourceError
    from shared.broker import RedisNotConfigured

    def busy(source: str) -> None:
        typer.echo(f"{source}: being polled by another process (the ingest service) right now; skipped", err=True)

    def run(progress: Any = None) -> dict[str, PollResult]:
        from minutes_cli.decisions_cmd import require_database

        require_database(settings)
        try:
            return asyncio.run(poll_now(settings, name, since=since, progress=progress, on_busy=busy))
        except SourceError as exc:
            raise UserError(str(exc), "`minutes sources list` shows the sources") from None
        except RedisNotConfigured as exc:
            raise UserError(f"cannot poll: {exc}", "start `minutes up` or set MINUTES_REDIS_URL") from None

    if not bar:
        return run()
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]Fetching"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    ) as progress_bar:
        task = progress_bar.add_task("fetch", total=None)
        return run(lambda done, total: progress_bar.update(task, completed=done, total=total))


def _report(results: dict[str, PollResult]) -> int:
    failed = 0
    for source, result in results.items():
        line = (f"{source}: {result.listed} meetings listed, {result.fetched} fetched, "
                f"{result.published} new documents, {result.not_modified} unchanged")
        if result.error:
            failed += 1
            line += f"; stopped: {result.error} (retried on the next poll)"
        typer.echo(line)
    return 1 if failed else 0


@app.command("poll")
def poll(
    name: Annotated[str | None, typer.Argument(help="One source (default: every source).")] = None,
    data: DataOpt = None,
) -> None:
    """Poll now: fetch what the portal published since the last poll and hand it to the pipeline."""
    settings = _settings(data, "poll")
    raise typer.Exit(_report(_poll(settings, name, None, bar=sys.stderr.isatty())))


@app.command("backfill")
def backfill(
    name: Annotated[str, typer.Argument(help="The source's name.")],
    since: Annotated[str, typer.Option(help="Fetch every meeting on or after this date (YYYY-MM-DD).")],
    data: DataOpt = None,
) -> None:
    """Fetch a source's older meetings (its since-date moves back); a restart resumes where it stopped."""
    settings = _settings(data, "backfill")
    raise typer.Exit(_report(_poll(settings, name, _parse_date(since, "--since"), bar=True)))

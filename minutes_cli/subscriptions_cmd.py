"""`minutes subscriptions`: follow decisions by webhook or Apprise notification (services/alerts/)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from minutes_cli.errors import UserError
from minutes_cli.options import HELP_MARKUP, DataOpt, configure_logging, make_settings
from shared.contracts.outcome import Outcome

# The tables and the database are imported when a subcommand runs, not when `minutes` starts (see options.py).
if TYPE_CHECKING:
    from shared.settings import Settings

app = typer.Typer(
    help="Follow decisions: webhooks (Standard Webhooks) and Apprise notifications.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
)

T = TypeVar("T")
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON (the default when not on a TTY).")]


def _run(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    from minutes_cli.decisions_cmd import run_on_store

    return run_on_store(settings, work)


def _settings(data: Any, name: str) -> Settings:
    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service=f"subscriptions-{name}")
    return settings


def _json_out(as_json: bool) -> bool:
    return as_json or not sys.stdout.isatty()


def _filter_text(sub: Any) -> str:
    parts = [
        f"{label}={value}"
        for label, value in (
            ("municipality", sub.municipality), ("region", sub.region), ("committee", sub.committee),
            ("outcome", sub.outcome), ("case", sub.case_number), ("phrase", sub.phrase),
        )
        if value
    ]
    return ", ".join(parts) or "every decision"


@app.command("add")
def add(
    webhook: Annotated[str | None, typer.Option(help="POST matching events here (http/https).")] = None,
    apprise: Annotated[
        str | None, typer.Option(help="Notify people through this Apprise URL (mailto://, ntfy://, slack://…).")
    ] = None,
    digest: Annotated[str, typer.Option(help="Apprise: none (one message per decision), hourly or daily.")] = "none",
    language: Annotated[
        str, typer.Option(help="Apprise: the language of the messages, da (Danish) or en (English).")
    ] = "da",
    municipality: Annotated[str | None, typer.Option(help="Municipality name (exact, any case).")] = None,
    region: Annotated[str | None, typer.Option(help="Region name (exact, any case).")] = None,
    committee: Annotated[str | None, typer.Option(help="Committee (substring, any case).")] = None,
    outcome: Annotated[Outcome | None, typer.Option(help="Only this outcome.")] = None,
    case_number: Annotated[str | None, typer.Option("--case", help="Follow a case: every body deciding on it.")] = None,
    phrase: Annotated[str | None, typer.Option(help="Full-text query, as `minutes search` (Danish stemming).")] = None,
    name: Annotated[str, typer.Option(help="A label for you.")] = "",
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Register a subscription; a webhook's signing secret is printed once, now."""
    from pydantic import ValidationError

    from services.alerts.subscriptions import SubscriptionError, SubscriptionSpec, add_subscription

    if (webhook is None) == (apprise is None):
        raise typer.BadParameter("give exactly one of --webhook URL or --apprise URL")
    settings = _settings(data, "add")
    try:
        spec = SubscriptionSpec(
            name=name, municipality=municipality, region=region, committee=committee, outcome=outcome,
            case_number=case_number, phrase=phrase, channel="webhook" if webhook else "apprise",
            url=webhook or apprise or "", digest=digest, language=language,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = f"--{first['loc'][0]}: " if first["loc"] else ""
        raise typer.BadParameter(f"{where}{first['msg']}".replace("Value error, ", "")) from None
    try:
        created = _run(
            settings, lambda engine: add_subscription(engine, spec, allow_private=settings.allow_private_urls)
        )
    except SubscriptionError as exc:
        raise UserError(f"subscription refused: {exc}") from None
    if _json_out(as_json):
        sys.stdout.write(created.model_dump_json() + "\n")
        return
    from rich.console import Console

    console = Console()
    console.print(f"subscription [bold]{created.id}[/bold]: {_filter_text(created)} → {created.channel} {created.url}")
    if created.secret:
        console.print(f"signing secret (shown only now): [bold]{created.secret}[/bold]")


@app.command("list")
def list_(as_json: JsonOpt = False, data: DataOpt = None) -> None:
    """Every subscription with its state (a disabled one says why)."""
    from services.alerts.subscriptions import list_subscriptions

    settings = _settings(data, "list")
    subs = _run(settings, list_subscriptions)
    if _json_out(as_json):
        for sub in subs:
            sys.stdout.write(sub.model_dump_json() + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(subs)} subscription{'s' if len(subs) != 1 else ''}")
    for col in ("id", "filter", "channel", "url", "state", "pending", "delivered"):
        table.add_column(col, overflow="fold")
    for sub in subs:
        state = "enabled" if sub.enabled else f"[red]disabled[/red]: {sub.disabled_reason or ''}"
        channel = sub.channel + (f" ({sub.digest} digest)" if sub.digest != "none" else "")
        channel += f", {sub.language}" if sub.channel == "apprise" else ""
        table.add_row(sub.id, _filter_text(sub), channel, sub.url, state, str(sub.pending), str(sub.delivered))
    Console().print(table)


def _unknown(subscription_id: str) -> UserError:
    return UserError(f"no subscription {subscription_id!r}", "`minutes subscriptions list` shows them")


@app.command("remove")
def remove(subscription_id: Annotated[str, typer.Argument(metavar="ID")], data: DataOpt = None) -> None:
    """Delete a subscription with its deliveries and attempts."""
    from services.alerts.subscriptions import remove_subscription

    settings = _settings(data, "remove")
    if not _run(settings, lambda engine: remove_subscription(engine, subscription_id)):
        raise _unknown(subscription_id)
    typer.echo(f"removed {subscription_id}")


@app.command("enable")
def enable(subscription_id: Annotated[str, typer.Argument(metavar="ID")], data: DataOpt = None) -> None:
    """Deliver again to a disabled subscription, starting with what waited."""
    from services.alerts.subscriptions import enable_subscription

    settings = _settings(data, "enable")
    if _run(settings, lambda engine: enable_subscription(engine, subscription_id)) is None:
        raise _unknown(subscription_id)
    typer.echo(f"enabled {subscription_id}")


@app.command("disable")
def disable(subscription_id: Annotated[str, typer.Argument(metavar="ID")], data: DataOpt = None) -> None:
    """Stop delivering to a subscription (what matches meanwhile waits for an enable)."""
    from services.alerts.subscriptions import disable_subscription

    settings = _settings(data, "disable")
    if _run(settings, lambda engine: disable_subscription(engine, subscription_id, "disabled by hand")) is None:
        raise _unknown(subscription_id)
    typer.echo(f"disabled {subscription_id}")


@app.command("attempts")
def attempts(
    subscription_id: Annotated[str, typer.Argument(metavar="ID")],
    limit: Annotated[int, typer.Option(min=1, help="The latest N attempts.")] = 50,
    as_json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """The latest attempts of a subscription's failed deliveries and their retries (and replays, digests):
    status code or error, duration. Deliveries that succeeded at once are counted in `list`."""
    from services.alerts.subscriptions import get_subscription, list_attempts

    settings = _settings(data, "attempts")

    async def work(engine: Any) -> Any:
        if await get_subscription(engine, subscription_id) is None:
            raise _unknown(subscription_id)
        return await list_attempts(engine, subscription_id, limit=limit)

    rows = _run(settings, work)
    if _json_out(as_json):
        for row in rows:
            sys.stdout.write(row.model_dump_json() + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"latest {len(rows)} attempts of {subscription_id}")
    for col in ("at", "event (webhook-id)", "result", "ms", "replay"):
        table.add_column(col, overflow="fold")
    for r in rows:
        result = f"[green]{r.status_code or 'ok'}[/green]" if r.ok else f"[red]{r.error or r.status_code}[/red]"
        table.add_row(r.attempted_at.isoformat(timespec="seconds"), r.event_id, result, f"{r.duration_ms:.0f}",
                      "yes" if r.replay else "")
    Console().print(table)


@app.command("replay")
def replay(
    since: Annotated[
        dt.datetime, typer.Option(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"],
                                  help="Re-deliver events published from this time on (UTC).")
    ],
    subscription_id: Annotated[str | None, typer.Option("--id", help="Only this subscription.")] = None,
    data: DataOpt = None,
) -> None:
    """Deliver again the matching events the stream holds since TIME (same webhook-id: receivers dedupe)."""
    import redis.asyncio as aioredis

    from services.alerts.subscriptions import get_subscription
    from services.alerts.worker import replay as run_replay
    from shared.broker import resolve_redis_url
    from shared.stream_worker import OutOfStreamTime, millis_at

    settings = _settings(data, "replay")
    when = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
    try:
        millis_at(when)
    except OutOfStreamTime as exc:
        raise typer.BadParameter(str(exc), param_hint="--since") from None

    async def work(engine: Any) -> int:
        if subscription_id is not None and await get_subscription(engine, subscription_id) is None:
            raise _unknown(subscription_id)
        client = aioredis.Redis.from_url(resolve_redis_url(settings))
        try:
            return await run_replay(engine, client, when, subscription_id=subscription_id)
        finally:
            await client.aclose()

    added = _run(settings, work)
    typer.echo(json.dumps({"enqueued": added, "since": when.isoformat()}) if not sys.stdout.isatty()
               else f"{added} deliveries enqueued from {when.isoformat()}; the alerts worker sends them")

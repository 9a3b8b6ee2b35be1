"""`minutes ingest PATH...`: the backfill with a rich progress bar, the parser's verdicts, and a final count table."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from services.ingest.backfill import BackfillReport, backfill
from services.ingest.files import display_name
from services.ingest.handlers import IngestResult
from shared import streams
from shared.broker import RedisNotConfigured, resolve_redis_url
from shared.contracts.events import DeadLettered
from shared.settings import Settings
from shared.stream_worker import newest_id, page

# Rejected files listed one by one before the rest are only counted.
SHOW_REJECTED = 20
# Loggers that write a line per file: DEBUG-only while the bar is shown, or they drown it.
PER_FILE_LOGGERS = ("services.ingest.handlers", "services.ingest.intake")


@dataclass
class Verdicts:
    """What the parser said about the documents this run published."""

    rejected: list[tuple[Path, str]] = field(default_factory=list)
    pending: int = 0  # documents whose parse had not finished when the wait ended
    waited_s: float = 0.0


class RateColumn(ProgressColumn):
    """Files per second so far."""

    def render(self, task: Task) -> Text:
        """The task's speed as files/s."""
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} files/s" if speed else "", style="cyan")


def ingest(paths: list[Path], settings: Settings, console: Console | None = None, wait_s: float = 60.0) -> int:
    """Ingest files and folders once; exit 0, 1 when files were rejected, 2 without a Redis, 130 on Ctrl-C."""
    console = console or Console(stderr=True)
    try:
        redis_url = resolve_redis_url(settings)
    except RedisNotConfigured as exc:
        console.print(f"[red]Cannot ingest:[/red] {exc}. Start `minutes up` or set MINUTES_REDIS_URL.")
        return 2
    if settings.log_level.upper() != "DEBUG":
        for name in PER_FILE_LOGGERS:
            logging.getLogger(name).setLevel(logging.ERROR)
    report = BackfillReport()
    verdicts = Verdicts()
    interrupted = False
    with Progress(
        TextColumn("[bold]Ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[green]new {task.fields[new]}[/] · known {task.fields[known]} · [red]rejected {task.fields[bad]}"),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("ingest", total=None, new=0, known=0, bad=0)

        def progress(results: Sequence[IngestResult], total: int) -> None:
            bar.update(
                task, total=total, advance=len(results), new=report.new, known=report.known, bad=len(report.rejected)
            )

        try:
            start_id = asyncio.run(_dead_letter_end(redis_url))
            asyncio.run(backfill(paths, settings, progress, report=report))
            if report.new_ids and wait_s > 0:
                bar.update(task, description="parsing")
                verdicts = asyncio.run(wait_for_verdicts(redis_url, report.new_ids, start_id, wait_s))
        except KeyboardInterrupt:
            interrupted = True
    if interrupted:
        console.print(f"[yellow]Interrupted[/yellow] after {report.done} of {report.total} files; so far:")
    console.print(summary_table(report, verdicts))
    rejected = report.rejected + verdicts.rejected
    if rejected:
        console.print(rejected_table(rejected))
    if interrupted:
        return 130
    return 1 if rejected else 0


async def _dead_letter_end(redis_url: str) -> str:
    client = Redis.from_url(redis_url)
    try:
        last = await newest_id(client, streams.DEAD_LETTER)
    finally:
        await client.aclose()
    return last or "0-0"


def _id(value: Any) -> tuple[int, int]:
    text = value.decode() if isinstance(value, bytes) else str(value)
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


async def wait_for_verdicts(redis_url: str, new_ids: dict[str, Path], after: str, wait_s: float) -> Verdicts:
    """Wait (up to `wait_s`) until the parser group has handled everything on the documents stream now,
    then collect the parser's dead letters of this run's documents."""
    client = Redis.from_url(redis_url)
    started = time.monotonic()
    finished = False
    try:
        info: Any = await client.xinfo_stream(streams.DOCUMENTS)
        target = _id(info["last-generated-id"])
        while not finished and time.monotonic() - started < wait_s:
            groups: Any = await client.xinfo_groups(streams.DOCUMENTS)
            parser = next((g for g in groups if _name(g) == streams.PARSER_GROUP), None)
            if parser is None or int(parser["consumers"]) == 0:
                break  # no parser has ever read this stream: nothing to wait for
            # Delivered up to our last document and nothing unacknowledged: every verdict is in.
            finished = _id(parser["last-delivered-id"]) >= target and int(parser["pending"]) == 0
            if not finished:
                await asyncio.sleep(0.25)
        rejected = []
        async for entry in page(client, streams.DEAD_LETTER, start="(" + after if after != "0-0" else "-"):
            event = DeadLettered.model_validate_json(entry.payload)
            if event.service == "parser" and event.document_id in new_ids:
                rejected.append((new_ids[event.document_id], f"parser: {event.error}"))
    finally:
        await client.aclose()
    # Unfinished: the documents without a rejection are not known to be accepted, only "pending".
    pending = 0 if finished else len(new_ids) - len(rejected)
    return Verdicts(rejected, pending, time.monotonic() - started)


def _name(group: Any) -> str:
    name = group.get("name")
    return name.decode() if isinstance(name, bytes) else str(name)


def summary_table(report: BackfillReport, verdicts: Verdicts | None = None) -> Table:
    """New / already known / rejected counts (ingest's rejections and the parser's)."""
    verdicts = verdicts or Verdicts()
    table = Table(title="Ingest", show_header=True)
    table.add_column("Result")
    table.add_column("Files", justify="right")
    table.add_row("[green]new documents[/green]", str(report.new - len(verdicts.rejected) - verdicts.pending))
    table.add_row("already known", str(report.known))
    for reason, count in sorted(report.reasons().items()):
        table.add_row(f"[red]rejected[/red]: {reason}", str(count))
    if verdicts.rejected:
        table.add_row("[red]rejected by the parser[/red] (see below)", str(len(verdicts.rejected)))
    if verdicts.pending:
        table.add_row(
            f"[yellow]pending[/yellow]: not parsed after {verdicts.waited_s:.0f} s (`minutes dlq list` later)",
            str(verdicts.pending),
        )
    if report.gone:
        table.add_row("vanished while reading", str(report.gone))
    table.add_row("[bold]total[/bold]", str(report.total))
    return table


def rejected_table(rejected: list[tuple[Path, str]]) -> Table:
    """The rejected files with their reasons (the first SHOW_REJECTED)."""
    table = Table(title="Rejected files", show_header=True)
    table.add_column("File", overflow="fold")
    table.add_column("Reason", overflow="fold")
    for path, reason in rejected[:SHOW_REJECTED]:
        table.add_row(display_name(str(path)), reason)
    hidden = len(rejected) - SHOW_REJECTED
    if hidden > 0:
        table.add_row(f"… and {hidden} more", "")
    return table

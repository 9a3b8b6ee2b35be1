"""`minutes ingest PATH...`: the backfill with a rich progress bar and a final count table."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from services.ingest.backfill import BackfillReport, backfill
from services.ingest.files import display_name
from services.ingest.handlers import IngestResult
from shared.broker import RedisNotConfigured, resolve_redis_url
from shared.settings import Settings

# Rejected files listed one by one before the rest are only counted.
SHOW_REJECTED = 20


def ingest(paths: list[Path], settings: Settings, console: Console | None = None) -> int:
    """Ingest files and folders once; exit code 0, 1 when some files were rejected, 2 without a Redis."""
    console = console or Console(stderr=True)
    try:
        resolve_redis_url(settings)
    except RedisNotConfigured as exc:
        console.print(f"[red]Cannot ingest:[/red] {exc}. Start `minutes up` or set MINUTES_REDIS_URL.")
        return 2
    with Progress(
        TextColumn("[bold]Ingesting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("ingest", total=None)

        def progress(results: Sequence[IngestResult], total: int) -> None:
            bar.update(task, total=total, advance=len(results))

        report = asyncio.run(backfill(paths, settings, progress))
    console.print(summary_table(report))
    if report.rejected:
        console.print(rejected_table(report))
    return 1 if report.rejected else 0


def summary_table(report: BackfillReport) -> Table:
    """New / already known / rejected counts."""
    table = Table(title="Ingest", show_header=True)
    table.add_column("Result")
    table.add_column("Files", justify="right")
    table.add_row("[green]new documents[/green]", str(report.new))
    table.add_row("already known", str(report.known))
    for reason, count in sorted(report.reasons().items()):
        table.add_row(f"[red]rejected[/red]: {reason}", str(count))
    if report.gone:
        table.add_row("vanished while reading", str(report.gone))
    table.add_row("[bold]total[/bold]", str(report.total))
    return table


def rejected_table(report: BackfillReport) -> Table:
    """The rejected files with their reasons (the first SHOW_REJECTED)."""
    table = Table(title="Rejected files", show_header=True)
    table.add_column("File", overflow="fold")
    table.add_column("Reason", overflow="fold")
    for path, reason in report.rejected[:SHOW_REJECTED]:
        table.add_row(display_name(str(path)), reason)
    hidden = len(report.rejected) - SHOW_REJECTED
    if hidden > 0:
        table.add_row(f"… and {hidden} more", "")
    return table

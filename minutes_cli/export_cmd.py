"""`minutes export`: every stored decision (or item, or meeting for OParl) matching the filters, streamed."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from minutes_cli.errors import UserError
from minutes_cli.options import DataOpt, configure_logging, make_settings, read_filter
from services.store.exports.formats import Counts, Format, Rows
from shared.contracts.outcome import Outcome

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from services.readmodel.filter import ReadFilter
    from shared.settings import Settings


def register(app: typer.Typer) -> None:
    """Attach `minutes export` to the CLI."""
    app.command(name="export")(export)


def export(
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", dir_okay=False, help="Write to FILE (default: stdout; Parquet: a file or a pipe)."
        ),
    ] = None,
    rows: Annotated[
        Rows, typer.Option(help="Flat formats: one row per decision, or per agenda item (decided or not).")
    ] = Rows.decisions,
    municipality: Annotated[str | None, typer.Option(help="Municipality name (exact, any case).")] = None,
    region: Annotated[str | None, typer.Option(help="Region name (exact, any case).")] = None,
    committee: Annotated[str | None, typer.Option(help="Committee name (substring, any case).")] = None,
    since: Annotated[
        dt.datetime | None, typer.Option("--since", "--from", formats=["%Y-%m-%d"], help="Meetings on/after DATE.")
    ] = None,
    until: Annotated[
        dt.datetime | None, typer.Option("--until", "--to", formats=["%Y-%m-%d"], help="Meetings on/before DATE.")
    ] = None,
    outcome: Annotated[Outcome | None, typer.Option(help="Only this outcome.")] = None,
    case: Annotated[
        str | None, typer.Option("--case", "--case-number", help="Case number (spacing and case ignored).")
    ] = None,
    kle: Annotated[str | None, typer.Option(help="KLE subject prefix: NN, NN.NN or NN.NN.NN.")] = None,
    absent: Annotated[str | None, typer.Option(help="A member absent for the item (any case).")] = None,
    query: Annotated[str | None, typer.Option("--query", "-q", help="Full-text query (as `minutes search`).")] = None,
    all_versions: Annotated[bool, typer.Option(help="Also superseded versions of meetings.")] = False,
    raw: Annotated[bool, typer.Option(
        "--raw", help="CSV: text cells as stored, even those a spreadsheet would run as a formula (default: `'` first)."
    )] = False,
    excel: Annotated[
        bool, typer.Option("--excel", help="CSV for a Danish spreadsheet: a UTF-8 BOM and `;` between fields.")
    ] = False,
    data: DataOpt = None,
) -> None:
    """Export stored decisions as JSON lines, CSV, Parquet or OParl 1.1 (every matching row, streamed)."""
    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="export")
    flt = read_filter(
        q=query, municipality=municipality, region=region, committee=committee, since=since, until=until,
        outcome=outcome, case_number=case, kle=kle, absent=absent, all_versions=all_versions,
    )  # fmt: skip
    if excel and fmt is not Format.csv:
        raise UserError(f"--excel is for CSV, not {fmt.value}", "give --format csv --excel")
    if fmt is Format.parquet and output is None and sys.stdout.isatty():
        raise UserError(
            "Parquet is binary: not written to a terminal", "give -o FILE.parquet, or pipe it (`… | duckdb …`)"
        )
    import asyncio

    counts = asyncio.run(run_export(settings, fmt, flt, rows, output, raw=raw, excel=excel))
    if output is not None:
        what = f"{counts.rows} {rows.value}"
        if fmt is Format.oparl:
            what = f"{counts.meetings} meetings, {counts.rows} items"
        typer.echo(f"wrote {what} to {output}", err=True)


async def run_export(
    settings: Settings,
    fmt: Format,
    flt: ReadFilter,
    rows: Rows,
    output: Path | None,
    *,
    raw: bool = False,
    excel: bool = False,
) -> Counts:
    """Stream the export into `output` (atomically: a failed export leaves no partial file) or stdout."""
    from minutes_cli.decisions_cmd import require_database
    from services.store.db import create_engine
    from services.store.exports import stream_export

    require_database(settings)
    engine = create_engine(settings.effective_database_url)
    counts = Counts()
    chunks = stream_export(
        engine, fmt, flt, rows=rows, public_api_url=settings.public_api_url, counts=counts, raw=raw, excel=excel
    )
    try:
        if output is None:
            await _write(chunks, sys.stdout.buffer)
            return counts
        partial = output.with_name(output.name + ".partial")
        try:
            with partial.open("wb") as fh:
                await _write(chunks, fh)
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
        return counts
    except BrokenPipeError:  # `| head`: the reader went away; stop quietly
        _silence_stdout()
        return counts
    finally:
        await chunks.aclose()
        await engine.dispose()


async def _write(chunks: AsyncIterator[bytes], out: BinaryIO) -> None:
    async for chunk in chunks:
        out.write(chunk)
    out.flush()


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail a second time.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)

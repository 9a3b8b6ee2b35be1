"""`minutes search QUERY`: full-text search of the stored decisions (Danish stemming), best match first."""

from __future__ import annotations

import datetime as dt
import re
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from minutes_cli.errors import UserError
from minutes_cli.options import DataOpt, configure_logging, make_settings, read_filter
from shared.contracts.outcome import Outcome

# What draws the results is imported when the command runs, not when `minutes` starts (see options.py).
if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from shared.settings import Settings

_MARK = re.compile(r"<mark>(.*?)</mark>")
DEFAULT_LIMIT = 20


def search(
    query: Annotated[
        str,
        typer.Argument(
            help='Words (all must occur, any inflection), "a phrase", OR between alternatives, -word to exclude.'
        ),
    ],
    municipality: Annotated[str | None, typer.Option(help="Municipality name, e.g. Favrskov.")] = None,
    region: Annotated[str | None, typer.Option(help="Region name, e.g. Region Midtjylland.")] = None,
    committee: Annotated[str | None, typer.Option(help="Committee name (substring, any case).")] = None,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Meetings on/after DATE.")] = None,
    until: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Meetings on/before DATE.")] = None,
    outcome: Annotated[Outcome | None, typer.Option(help="Only this outcome.")] = None,
    case_number: Annotated[
        str | None, typer.Option("--case-number", "--case", help="Only this case number (spacing and case ignored).")
    ] = None,
    kle: Annotated[str | None, typer.Option(help="KLE subject of SBSYS case numbers: NN, NN.NN or NN.NN.NN.")] = None,
    absent: Annotated[str | None, typer.Option(help="Items this member was absent from (name, any case).")] = None,
    all_versions: Annotated[bool, typer.Option(help="Also superseded versions of meetings.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=500, help="At most N hits.")] = DEFAULT_LIMIT,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines (the default when not on a TTY).")] = False,
    data: DataOpt = None,
) -> None:
    """Search the stored decisions (title, sections, decision text), best match first."""
    settings = make_settings(data)
    configure_logging(settings.log_level, settings.log_format, service="search")
    flt = read_filter(
        q=query, municipality=municipality, region=region, committee=committee, since=since, until=until,
        outcome=outcome, case_number=case_number, kle=kle, absent=absent, all_versions=all_versions,
    )  # fmt: skip
    json_lines = as_json or not sys.stdout.isatty()
    import asyncio

    asyncio.run(_run(settings, flt, limit, json_lines))


async def _run(settings: Settings, flt: object, limit: int, json_lines: bool) -> None:
    from rich.console import Console

    from minutes_cli.decisions_cmd import require_database
    from services.readmodel import decisions
    from services.readmodel.filter import ReadFilter
    from services.store.db import create_engine
    from services.store.search import SearchSyntaxError

    assert isinstance(flt, ReadFilter)
    require_database(settings)
    engine = create_engine(settings.effective_database_url)
    try:
        try:
            page = await decisions.search_decisions(engine, flt, limit=limit)
        except SearchSyntaxError as exc:
            raise UserError(
                f"cannot search for {flt.q!r}: {exc}", "e.g. minutes search 'fleksjob \"lokalplan\"'"
            ) from None
        total = await decisions.count_decisions(engine, flt) if page.next_cursor else len(page.items)
    finally:
        await engine.dispose()
    if json_lines:
        for hit in page.items:
            sys.stdout.write(hit.model_dump_json() + "\n")
        sys.stdout.flush()
        return
    console = Console()
    console.print(hits_table(page.items, total))
    if total > len(page.items):
        console.print(f"showing {len(page.items)} of {total} hits: use --limit N for more", style="yellow")


def _snippet_text(snippet: str | None, fallback: str) -> Text:
    """The HTML snippet as rich text: <mark> as bold, entities unescaped."""
    import html

    from rich.text import Text

    from minutes_cli.decisions_cmd import clean_text

    if not snippet:
        return Text(clean_text(fallback))
    out = Text()
    pos = 0
    for m in _MARK.finditer(snippet):
        out.append(html.unescape(snippet[pos : m.start()]))
        out.append(html.unescape(m.group(1)), style="bold yellow")
        pos = m.end()
    out.append(html.unescape(snippet[pos:]))
    return out


def hits_table(hits: list, total: int) -> Table:  # type: ignore[type-arg]
    """The terminal table of search hits."""
    from minutes_cli.decisions_cmd import clean_text, decision_table

    title = f"{total} hits" if total == len(hits) else f"{len(hits)} of {total} hits"
    table = decision_table(title)
    table.add_column("match", ratio=6, min_width=20)
    for h in hits:
        where = h.provenance.original_name + (f" p. {h.provenance.page}" if h.provenance.page else "")
        table.add_row(
            str(h.meeting_date or ""),
            h.municipality or h.region or "",
            h.committee or "",
            f"{h.item_number}. {clean_text(h.item_title, 80)}\n[dim]{where}[/dim]",
            h.outcome.value,
            _snippet_text(h.snippet, h.decision_text),
        )
    return table

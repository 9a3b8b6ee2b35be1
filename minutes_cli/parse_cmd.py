"""`minutes parse FILE [--json]`: parse one minutes document and show or print the result."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from services.parser.core import DocumentError, parse_document
from shared.contracts.meeting import ParsedMeeting

_DECISION_WIDTH = 80


def parse(file: Path, as_json: bool) -> int:
    """Parse FILE; print JSON (for --json or a pipe) or a readable summary. Exit code 2 on a bad document."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    try:
        meeting = parse_document(data, file.name)
    except DocumentError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if as_json or not sys.stdout.isatty():
        sys.stdout.write(meeting.model_dump_json() + "\n")
    else:
        _summary(meeting, Console())
    return 0


def _summary(meeting: ParsedMeeting, console: Console) -> None:
    """Meeting header lines and a table of the items."""
    where = f"{meeting.municipality} ({meeting.municipality_code})" if meeting.municipality else "unknown municipality"
    # Printed text may contain `[...]`: escape it so rich does not read it as markup.
    console.print(f"[bold]{meeting.kind.value.title()}[/bold] · {escape(meeting.committee or '?')} · {escape(where)}")
    when = " ".join(x for x in (str(meeting.meeting_date or "?"), meeting.start_time or "") if x)
    console.print(f"{when} · {escape(meeting.location or 'no location')}")
    if meeting.participants:
        console.print(f"Participants: {escape(', '.join(meeting.participants))}")
    table = Table(show_lines=False)
    for column in ("#", "Title", "Case", "Outcome", "Decision"):
        table.add_column(column, overflow="fold")
    for item in meeting.items:
        decision = item.decision
        text = " ".join(decision.text.split()) if decision else ""
        if len(text) > _DECISION_WIDTH:
            text = text[: _DECISION_WIDTH - 1] + "…"
        outcome = decision.outcome.value if decision else "—"
        closed = item.is_closed and "lukket" not in item.title.casefold()
        title = f"{item.title} (lukket)" if closed else item.title
        table.add_row(str(item.number), escape(title), escape(item.case_number or ""), outcome, escape(text))
    console.print(table)
    # After the table, so the last thing read is what the parser doubts about what was just shown.
    for warning in meeting.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")

"""Exports of stored decisions and items: jsonl, csv, parquet and OParl 1.1, streamed with no row cap.

`stream_export(engine, fmt, flt, rows=..., public_api_url=...)` is the one entry point: an async generator
of `bytes` chunks over the read model's server-side cursors (`iter_decisions` in services/readmodel/decisions.py,
`iter_items` in services/readmodel/items.py), so memory stays flat whatever the number of rows. The CLI
(`minutes export`) writes the chunks to a file or stdout; the HTTP API returns them as a streaming response:

    StreamingResponse(stream_export(engine, fmt, flt, rows=rows, public_api_url=url),
                      media_type=MEDIA_TYPES[fmt],
                      headers={"Content-Disposition": f'attachment; filename="{filename(fmt, rows)}"'})

Columns of the flat formats: `columns.py` (and docs/exports.md); the OParl mapping: `oparl.py`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from services.store.exports.formats import MEDIA_TYPES, Counts, Format, Rows, filename

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from services.readmodel.filter import ReadFilter

__all__ = ["MEDIA_TYPES", "Counts", "Format", "Rows", "filename", "stream_export"]


async def stream_export(
    engine: AsyncEngine,
    fmt: Format,
    flt: ReadFilter,
    *,
    rows: Rows = Rows.decisions,
    public_api_url: str,
    counts: Counts | None = None,
    raw: bool = False,
    excel: bool = False,
) -> AsyncGenerator[bytes, None]:
    """Every row matching `flt` in format `fmt`, as bytes chunks; see `stream.stream_export` (`raw`: CSV cells
    as stored, without the leading `'` that keeps a formula from running; `excel`: CSV with a BOM and `;`, for
    a Danish spreadsheet).

    Imported lazily: pyarrow and the read model load only when an export runs, not with every `minutes` command.
    """
    from services.store.exports.stream import stream_export as run

    chunks = run(engine, fmt, flt, rows=rows, public_api_url=public_api_url, counts=counts, raw=raw, excel=excel)
    try:
        async for chunk in chunks:
            yield chunk
    finally:  # closed with the caller's generator: the read model's cursor is released at once
        await chunks.aclose()

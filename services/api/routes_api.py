"""JSON endpoints under /api/v1 and the health checks; thin: the reads are the read model's (services/readmodel)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from services.api import health
from services.api.bootstrap import ApiDeps, app_deps
from services.api.download import inline_pdf, is_pdf, original_file
from services.api.errors import ApiError
from services.api.filters import api_filter, query_of
from services.api.limits import Slot
from services.readmodel import decisions, items, meetings
from services.readmodel.cursor import CursorError
from services.readmodel.filter import ReadFilter
from services.readmodel.results import CaseView, DecisionHit, DocumentInfo, MeetingDetail, MeetingSummary, Page
from services.store.exports import MEDIA_TYPES, Format, Rows, filename, stream_export
from services.store.search import SearchSyntaxError

router = APIRouter()
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


class ErrorBody(BaseModel):
    """Every error: a short message and the status."""

    error: str
    status: int


class DecisionPage(BaseModel):
    """A page of decisions; follow `next` (or pass `next_cursor` as `cursor`) for the next one."""

    items: list[DecisionHit]
    next_cursor: str | None = None
    next: str | None = Field(default=None, description="URL of the next page; null on the last page.")
    limit: int


class MeetingPage(BaseModel):
    """A page of meetings."""

    items: list[MeetingSummary]
    next_cursor: str | None = None
    next: str | None = None
    limit: int


class DocumentOut(DocumentInfo):
    """A stored document's provenance and where to download its original file."""

    download_url: str | None
    view_url: str | None = Field(
        default=None,
        description="A PDF shown inline (`/api/v1/documents/{id}/document.pdf`, `#page=N` for a page); None: no PDF.",
    )


class Health(BaseModel):
    """The answer of /healthz and /readyz."""

    status: str
    detail: str


ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorBody, "description": "Bad parameter (the message names it)"},
    404: {"model": ErrorBody, "description": "Not found"},
    503: {"model": ErrorBody, "description": "Database unavailable"},
}


# Blob references name the server's folders or buckets: they stay inside; the download URL is what clients get.
_PAGE_NO_REF: Any = {"items": {"__all__": {"provenance": {"blob_ref"}}}}


Deps = Annotated[ApiDeps, Depends(app_deps)]
Filter = Annotated[ReadFilter, Depends(api_filter)]
Cursor = Annotated[str | None, Query(max_length=2048, description="`next_cursor` of the previous page.")]
Limit = Annotated[int | None, Query(ge=1, description="Rows per page; capped at the server's maximum.")]


def page_limit(deps: ApiDeps, limit: int | None) -> int:
    """The page size: the request's, capped at `MINUTES_API_MAX_PAGE_SIZE`."""
    return min(limit or deps.settings.api_page_size, deps.settings.api_max_page_size)


def check_digest(document_id: str) -> str:
    """A document id is the sha256 of its bytes: 64 lowercase hex digits."""
    if not _DIGEST.match(document_id):
        raise ApiError(400, "document_id: expected 64 hex digits (the sha256 of the file)")
    return document_id


async def decisions_page(deps: ApiDeps, flt: ReadFilter, cursor: str | None, limit: int) -> Page[DecisionHit]:
    """`search_decisions` with its errors as 400s (shared by the API and the page)."""
    try:
        return await decisions.search_decisions(deps.engine, flt, cursor=cursor, limit=limit)
    except CursorError:
        raise ApiError(400, "cursor: not a cursor of this query (start again without it)") from None
    except SearchSyntaxError as exc:
        raise ApiError(400, f"q: {exc}") from None


@router.get(
    "/api/v1/decisions", response_model=DecisionPage, response_model_exclude=_PAGE_NO_REF, responses=ERRORS,
    tags=["decisions"],
)
async def list_decisions(
    request: Request, deps: Deps, flt: Filter, cursor: Cursor = None, limit: Limit = None
) -> DecisionPage:
    """Decisions of complete meetings (current versions unless `all_versions`), newest meeting first, or best
    match first with `q`. Keyset pagination: no row is lost or repeated across pages while new ones arrive."""
    size = page_limit(deps, limit)
    page = await decisions_page(deps, flt, cursor, size)
    nxt = f"{request.url.path}?{query_of(flt, limit=str(size), cursor=page.next_cursor)}" if page.next_cursor else None
    return DecisionPage(items=page.items, next_cursor=page.next_cursor, next=nxt, limit=size)


@router.get("/api/v1/meetings", response_model=MeetingPage, responses=ERRORS, tags=["meetings"])
async def list_meetings(
    request: Request, deps: Deps, flt: Filter, cursor: Cursor = None, limit: Limit = None
) -> MeetingPage:
    """Complete meetings, newest first; item-level filters keep meetings with at least one matching item."""
    size = page_limit(deps, limit)
    try:
        page = await meetings.list_meetings(deps.engine, flt, cursor=cursor, limit=size)
    except CursorError:
        raise ApiError(400, "cursor: not a cursor of this query (start again without it)") from None
    except SearchSyntaxError as exc:
        raise ApiError(400, f"q: {exc}") from None
    nxt = f"{request.url.path}?{query_of(flt, limit=str(size), cursor=page.next_cursor)}" if page.next_cursor else None
    return MeetingPage(items=page.items, next_cursor=page.next_cursor, next=nxt, limit=size)


@router.get(
    "/api/v1/meetings/{document_id}", response_model=MeetingDetail, response_model_exclude={"document": {"blob_ref"}},
    responses=ERRORS, tags=["meetings"],
)
async def get_meeting(document_id: str, deps: Deps) -> MeetingDetail:
    """One meeting (one stored document) in full: header, participants, every item in order, versions, source."""
    meeting = await meetings.get_meeting(deps.engine, check_digest(document_id))
    if meeting is None:
        raise ApiError(404, "no meeting with this document id")
    return meeting


@router.get(
    "/api/v1/cases/{case_number:path}", response_model=CaseView, response_model_exclude=_PAGE_NO_REF,
    responses=ERRORS, tags=["cases"],
)
async def get_case(
    case_number: str,
    deps: Deps,
    all_versions: Annotated[bool, Query(description="Also items of superseded versions.")] = False,
) -> CaseView:
    """Every item with this case number across meetings and committees, oldest meeting first."""
    if not case_number or len(case_number) > 200:
        raise ApiError(400, "case_number: 1 to 200 characters")
    case = await items.get_case(deps.engine, case_number, all_versions=all_versions)
    if case is None:
        raise ApiError(404, "no item with this case number")
    return case


def download_url(info: DocumentInfo) -> str | None:
    """Where the original file of a document is served (None when the store has no blob reference)."""
    return f"/api/v1/documents/{info.document_id}/file" if info.blob_available else None


def view_url(info: DocumentInfo) -> str | None:
    """Where a PDF document is served inline for the browser's viewer (None: no blob, or not a PDF)."""
    return f"/api/v1/documents/{info.document_id}/document.pdf" if info.blob_available and is_pdf(info) else None


@router.get(
    "/api/v1/documents/{document_id}", response_model=DocumentOut, response_model_exclude={"blob_ref"},
    responses=ERRORS, tags=["documents"],
)
async def get_document(document_id: str, deps: Deps) -> DocumentOut:
    """Provenance of a stored document: original name, when it arrived, version, blob reference."""
    info = await meetings.get_document(deps.engine, check_digest(document_id))
    if info is None:
        raise ApiError(404, "no document with this id")
    return DocumentOut(**info.model_dump(), download_url=download_url(info), view_url=view_url(info))


@router.get(
    "/api/v1/documents/{document_id}/file",
    responses={**ERRORS, 200: {"content": {"application/octet-stream": {}}, "description": "The original bytes"}},
    response_class=Response,
    tags=["documents"],
)
async def get_document_file(document_id: str, deps: Deps) -> Response:
    """The original file as dropped (bytes from the blob store), named as it was dropped."""
    info = await meetings.get_document(deps.engine, check_digest(document_id))
    if info is None:
        raise ApiError(404, "no document with this id")
    return await original_file(deps.blobs, info)


@router.get(
    "/api/v1/documents/{document_id}/document.pdf",
    responses={**ERRORS, 200: {"content": {"application/pdf": {}}, "description": "The PDF, to view inline"}},
    response_class=Response,
    tags=["documents"],
)
async def get_document_pdf(document_id: str, deps: Deps) -> Response:
    """A PDF document served inline for the browser's viewer: link `…/document.pdf#page=N` to open it at an
    item's page (`page` of the item). 404 for a document that is not a PDF; `/file` downloads any document."""
    info = await meetings.get_document(deps.engine, check_digest(document_id))
    if info is None:
        raise ApiError(404, "no document with this id")
    return await inline_pdf(deps.blobs, info)


@router.get("/healthz", response_model=Health, tags=["health"])
async def healthz() -> Health:
    """The process answers (liveness); says nothing about the database."""
    return Health(status="ok", detail="alive")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}}, tags=["health"])
async def readyz(deps: Deps) -> Response:
    """Ready: the database answers, its schema is at the head of the migrations, and under `minutes up` every
    process of the pipeline runs (503 otherwise, with the reason)."""
    ready, detail = await health.readiness(deps.engine, deps.settings.data_dir)
    body = Health(status="ready" if ready else "unavailable", detail=detail)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get(
    "/api/v1/exports/{fmt}",
    responses={
        **ERRORS,
        200: {
            "content": {
                media: {}
                for media in ("application/x-ndjson", "text/csv", "application/vnd.apache.parquet", "application/json")
            },
            "description": "Every matching row, streamed (no row cap)",
        },
    },
    response_class=Response,
    tags=["exports"],
)
async def export(
    fmt: Format,
    deps: Deps,
    flt: Filter,
    rows: Annotated[Rows, Query(description="One row per decision or per agenda item (flat formats).")] = (
        Rows.decisions
    ),
    raw: Annotated[bool, Query(description="CSV: text cells as stored, even those a spreadsheet would run as a "
                                           "formula (by default they start with `'`).")] = False,
    excel: Annotated[
        bool, Query(description="CSV for a Danish spreadsheet: a UTF-8 BOM and `;` between fields.")
    ] = False,
) -> Response:
    """Every matching decision (or item) as JSON lines, CSV, Parquet, or OParl 1.1 meetings with their agenda
    items; streamed from the database cursor, so it has no row cap (the same as `minutes export`). At most
    `MINUTES_API_MAX_EXPORTS` run at once (429 with `Retry-After` beyond), on connections of their own."""
    if excel and fmt is not Format.csv:
        raise ApiError(400, f"excel: for csv, not {fmt.value}")
    slot = deps.export_slots.take()
    chunks = stream_export(deps.exports, fmt, flt, rows=rows, public_api_url=deps.settings.public_api_url,
                           raw=raw, excel=excel)
    # The first chunk before the headers: a bad query is still a 400 then, not a cut-off 200.
    try:
        first = await anext(chunks, b"")
    except BaseException as exc:
        await chunks.aclose()
        slot.release()
        if isinstance(exc, SearchSyntaxError):
            raise ApiError(400, f"q: {exc}") from None
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            yield first
            async for chunk in chunks:
                yield chunk
        finally:  # a client that leaves mid-export frees the database cursor now
            await chunks.aclose()

    disposition = f'attachment; filename="{filename(fmt, rows)}"'
    return _ExportResponse(
        body(), chunks, slot, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition}
    )


class _ExportResponse(StreamingResponse):
    """Closes the export (its connection back to the pool) and gives its slot back however the response
    ends, also when the client left before the body started (the body's own `finally` never runs then)."""

    def __init__(self, body: AsyncIterator[bytes], chunks: Any, slot: Slot, **kw: Any) -> None:
        super().__init__(body, **kw)
        self._chunks = chunks
        self._slot = slot

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            try:
                with contextlib.suppress(RuntimeError):  # still running: its own task closes it
                    await self._chunks.aclose()
            finally:
                self._slot.release()

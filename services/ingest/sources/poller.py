"""One poll of one source: read the portal's list, fetch each meeting not seen in this publication, and hand
its bytes to the pipeline exactly as a dropped file — content-addressed blob, blob record, DocumentReceived
(through ingest's seen set, so the same bytes are never announced twice) — then remember it.

Order per meeting: fetch, store the blob, publish, then record it in `source_meetings`. A kill between
publish and record fetches that one meeting again on the next poll; its bytes are the same document, which
the seen set does not publish again. Anything the portal does wrong (down, slow, 429/5xx, HTML, truncated
JSON, wrong types) ends the poll with an error the caller records; the meetings done so far stay done.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from services.ingest import files
from services.ingest.handlers import IngestDeps, publish_unseen
from services.ingest.intake import keep_record
from services.ingest.sources import state
from services.ingest.sources.client import FetchFailed, PoliteClient, Validators
from services.ingest.sources.types import Listed, PortalGarbage, SourceType, source_type
from shared.blobs import BlobRecord
from shared.contracts.events import DocumentReceived, utcnow
from shared.logging import get_logger
from shared.urlsafety import Resolver, UrlRefused, check_http_url, system_resolver

log = get_logger(__name__)

# Called after each meeting handled: (meetings handled so far, meetings to handle).
Progress = Callable[[int, int], None]


@dataclass
class PollResult:
    """What one poll did."""

    listed: int = 0
    to_fetch: int = 0
    fetched: int = 0
    published: int = 0
    not_modified: int = 0
    error: str | None = None
    retry_after_s: float | None = None
    document_ids: list[str] = field(default_factory=list)


async def check_source_url(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
    """A source URL must be http(s) without credentials, and (unless allowed) its host must resolve to
    global addresses only: the rule of every outbound URL (shared/urlsafety.py)."""
    await check_http_url(url, allow_private=allow_private, resolver=resolver, what="source")


def wanted(listed: Listed, source: state.Source, since: dt.date | None) -> bool:
    """Whether the source follows this meeting: its committee filters (any one, part of the name, any case)
    and its since-date."""
    if source.committees:
        name = listed.committee.casefold()
        if not any(text.casefold() in name for text in source.committees):
            return False
    return since is None or (listed.meeting_date is not None and listed.meeting_date >= since)


async def poll_source(
    source: state.Source,
    client: PoliteClient,
    deps: IngestDeps,
    engine: AsyncEngine,
    *,
    since: dt.date | None = None,
    progress: Progress | None = None,
) -> PollResult:
    """Poll one source (whose lease the caller holds); never raises for what the portal does."""
    result = PollResult()
    kind = source_type(source.type)
    try:
        await _poll(source, kind, client, deps, engine, since or source.since, progress, result)
    except (FetchFailed, PortalGarbage, UrlRefused) as exc:
        result.error = f"{type(exc).__name__}: {exc}" if isinstance(exc, PortalGarbage) else str(exc)
        result.retry_after_s = getattr(exc, "retry_after_s", None)
    return result


async def _poll(
    source: state.Source, kind: SourceType, client: PoliteClient, deps: IngestDeps, engine: AsyncEngine,
    since: dt.date | None, progress: Progress | None, result: PollResult,
) -> None:
    # The list is asked conditionally only after a poll that finished: otherwise a 304 would hide the
    # meetings an interrupted poll had not fetched yet.
    validators = Validators(source.list_etag, source.list_last_modified) if source.error is None else None
    answer = await client.get(kind.list_url(source.url), validators)
    if answer.not_modified:
        return
    listing = [item for item in kind.parse_listing(answer.body) if wanted(item, source, since)]
    result.listed = len(listing)
    stored = await state.fetched(engine, source.name)
    todo = [
        item for item in listing
        if item.meeting_id not in stored or stored[item.meeting_id].version != item.version
    ]
    # Oldest first: a backfill that is stopped has the older meetings, and an agenda comes before its minutes.
    todo.sort(key=lambda item: (item.meeting_date or dt.date.min, item.released or ""))
    result.to_fetch = len(todo)
    if progress:
        progress(0, len(todo))
    for done, item in enumerate(todo, start=1):
        await _one(source, kind, client, deps, engine, item, stored.get(item.meeting_id), result)
        if progress:
            progress(done, len(todo))
    # Only now is the list's version worth remembering (see above).
    result_validators = answer.validators
    await state.update_source(
        engine, source.name, list_etag=result_validators.etag, list_last_modified=result_validators.last_modified
    )


async def _one(
    source: state.Source, kind: SourceType, client: PoliteClient, deps: IngestDeps, engine: AsyncEngine,
    item: Listed, before: state.Fetched | None, result: PollResult,
) -> None:
    api_url = kind.meeting_api_url(source.url, item.meeting_id)
    page_url = kind.meeting_page_url(source.url, item.meeting_id)
    validators = Validators(before.etag, before.last_modified) if before else None
    answer = await client.get(api_url, validators)
    document_id = before.document_id if before else None
    if answer.not_modified:
        result.not_modified += 1
    else:
        kind.check_meeting(answer.body)
        result.fetched += 1
        document_id, new = await _hand_over(source, item, answer.body, page_url, api_url, deps, engine)
        result.published += int(new)
        result.document_ids.append(document_id)
    await state.record_meeting(
        engine, source.name, item, etag=answer.validators.etag, last_modified=answer.validators.last_modified,
        document_id=document_id, page_url=page_url, api_url=api_url,
    )


def _name(source: state.Source, item: Listed) -> str:
    """The name the document is shown under, as if it had been dropped: committee, date, kind, id."""
    date = item.meeting_date.isoformat() if item.meeting_date else "undated"
    parts = [item.committee, date, item.title, item.meeting_id]
    return files.display_name(" ".join(part for part in parts if part) + ".json")


async def _hand_over(
    source: state.Source, item: Listed, body: bytes, page_url: str, api_url: str, deps: IngestDeps,
    engine: AsyncEngine,
) -> tuple[str, bool]:
    """The dropped-file path: blob, record, DocumentReceived unless these bytes were published before."""
    hasher = deps.hash_factory()
    hasher.update(body)
    digest = hasher.hexdigest()
    blob_ref = await asyncio.to_thread(deps.blobs.put, body, digest)
    content_type = files.sniff_content_type(body)
    received_at = utcnow()
    name = _name(source, item)
    record = BlobRecord(
        document_id=digest, original_name=name, size=len(body), content_type=content_type, source=page_url,
        received_at=received_at,
    )
    await asyncio.to_thread(keep_record, deps.blobs, record)
    await state.remember_document(engine, digest, source.name, item.meeting_id, page_url=page_url, api_url=api_url)
    event = DocumentReceived(
        document_id=digest, original_name=name, size=len(body), content_type=content_type, blob_ref=blob_ref,
        source=page_url, received_at=received_at,
    )
    [new] = await publish_unseen([event], deps)
    if new:
        log.info("document received", source=source.name, meeting=item.meeting_id, document_id=digest,
                 file=name, size=len(body))
    return digest, new

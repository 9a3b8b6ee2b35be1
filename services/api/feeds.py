"""Atom feeds (RFC 4287, written by feedgen): `GET /feeds/decisions.atom?<filters>`, one feed per filter.

The entries are the newest public events that match — what the store announced on `minutes:decisions`,
read from its outbox table (durable, unlike the trimmed stream), so a decision and each revision of it
are separate entries. Ids are stable: the feed's is a `urn:uuid:` derived from the canonical filter (the
same filter in any parameter order is the same feed), an entry's is `urn:uuid:<event_id>`; a feed reader
fetching twice sees the same entries under the same ids.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from feedgen.feed import FeedGenerator
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts import messages
from services.api.bootstrap import ApiDeps, deps_of
from services.api.errors import ApiError
from services.api.filters import api_filter, query_of
from services.api.i18n import CATALOG
from services.readmodel.filter import Event, Matcher, ReadFilter, event_facts
from services.store.models import outbox
from services.store.search import SearchSyntaxError
from shared import streams
from shared.contracts.events import PublicEvent

router = APIRouter()

# Entries per feed, and how many announcements are looked at to find them (newest first).
FEED_ENTRIES = 50
SCAN_LIMIT = 5000
_SCAN_BATCH = 500
FEED_NAMESPACE = uuid.UUID("0b6f3f5e-9a55-4c39-8f0e-5d3c2a7e41b9")
ATOM_TYPE = "application/atom+xml; charset=utf-8"
_PUBLIC = TypeAdapter(PublicEvent)


def feed_id(flt: ReadFilter) -> str:
    """The feed's id: the same for the same filter, whatever the order or spelling of empty parameters."""
    return f"urn:uuid:{uuid.uuid5(FEED_NAMESPACE, 'decisions?' + query_of(flt))}"


async def newest_matching(engine: AsyncEngine, matcher: Matcher, limit: int = FEED_ENTRIES) -> list[Event]:
    """The newest announced events that match, newest first (at most `limit`, within SCAN_LIMIT)."""
    found: list[Event] = []
    before: int | None = None
    scanned = 0
    while len(found) < limit and scanned < SCAN_LIMIT:
        stmt = sa.select(outbox.c.id, outbox.c.payload).where(
            outbox.c.stream == streams.DECISIONS, outbox.c.sent_at.is_not(None)
        )
        if before is not None:
            stmt = stmt.where(outbox.c.id < before)
        async with engine.connect() as conn:
            rows = (await conn.execute(stmt.order_by(outbox.c.id.desc()).limit(_SCAN_BATCH))).all()
        if not rows:
            break
        scanned += len(rows)
        before = rows[-1].id
        for row in rows:
            try:
                event = _PUBLIC.validate_json(row.payload)
            except ValidationError:
                continue  # an event type this server does not know: not an entry
            facts = await event_facts(engine, event.item_id) if matcher.needs_facts else None
            if matcher.accepts(event, facts):
                found.append(event)
                if len(found) == limit:
                    break
    return found


def _base(deps: ApiDeps) -> str:
    """The web page's public address (MINUTES_PUBLIC_URL; see `Settings.page_url` for what stands in for it)."""
    return deps.settings.page_url


def item_link(base: str, event: Event) -> str:
    """The decision on its meeting page in the web UI (the item's anchor)."""
    return messages.decision_url(base, event)


def render_feed(
    deps: ApiDeps, flt: ReadFilter, events: list[Event], self_url: str, lang: str = messages.DEFAULT
) -> bytes:
    """The Atom document for `events` (newest first), its words in `lang` (Danish unless asked)."""
    base = _base(deps)
    fg = FeedGenerator()
    fg.id(feed_id(flt))
    query = query_of(flt)
    what = f"{CATALOG['site_title'].of(lang)}: {CATALOG['results'].of(lang).lower()}"
    fg.title(what + (f" ({query})" if query else ""))
    fg.subtitle(CATALOG["tagline"].of(lang))
    fg.language(lang)
    fg.author({"name": "minutes"})
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=f"{base}?{query}" if query else base, rel="alternate", type="text/html")
    fg.generator("minutes (feedgen)")
    newest: dt.datetime | None = None
    for event in events:
        fe: Any = fg.add_entry(order="append")
        fe.id(f"urn:uuid:{event.event_id}")
        fe.title(messages.entry_title(event, lang))
        fe.updated(event.occurred_at)
        fe.published(event.occurred_at)
        fe.author({"name": event.committee or event.municipality or "minutes"})
        fe.link(href=item_link(base, event), rel="alternate", type="text/html")
        fe.summary(event.decision_text[:300] or event.item_title)
        fe.content(messages.entry_content(event, lang), type="text")
        fe.category(term=event.outcome.value, label=messages.outcome_label(event, lang))
        newest = max(newest, event.occurred_at) if newest else event.occurred_at
    # An empty feed still needs `updated`: the epoch, so an empty feed's document stays the same.
    fg.updated(newest or dt.datetime(1970, 1, 1, tzinfo=dt.UTC))
    out: bytes = fg.atom_str(pretty=True)
    return out


@router.get(
    "/feeds/decisions.atom",
    tags=["feeds"],
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}, "description": "An Atom 1.0 feed"}},
)
async def decisions_feed(
    request: Request,
    flt: Annotated[ReadFilter, Depends(api_filter)],
    lang: Annotated[
        Literal["da", "en"], Query(description="Language of the titles and texts: da (default) or en.")
    ] = "da",
) -> Response:
    """An Atom feed of the newest decisions and revisions matching the filter (the filters of
    `/api/v1/decisions`), each entry linking to the decision on its meeting page (under MINUTES_PUBLIC_URL)."""
    deps = deps_of(request)
    try:
        matcher = Matcher(flt)
    except SearchSyntaxError as exc:
        raise ApiError(400, f"q: {exc}") from None
    events = await newest_matching(deps.engine, matcher)
    asked = query_of(flt, lang=lang if lang != messages.DEFAULT else None)
    self_url = f"{_base(deps)}feeds/decisions.atom" + (f"?{asked}" if asked else "")
    body = render_feed(deps, flt, events, self_url, lang)
    return Response(body, media_type=ATOM_TYPE, headers={"Cache-Control": "no-cache"})

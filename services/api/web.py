"""The web page: server-rendered HTML (Jinja2), usable without JavaScript; htmx only makes it live."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from services.alerts.case_path import case_path
from services.api import i18n
from services.api.bootstrap import deps_of
from services.api.errors import ApiError
from services.api.filters import FILTER_KEYS, build_filter, query_of
from services.api.minutes_view import is_procedural, shown_sections
from services.api.routes_api import check_digest, decisions_page, page_limit
from services.readmodel import decisions, items, meetings
from shared.contracts.meeting import Outcome
from shared.places import Place, lookup, places, suggest

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
router = APIRouter(include_in_schema=False)
_MARK = re.compile(r"(</?mark>)")


@lru_cache(maxsize=1)
def htmx_integrity() -> str:
    """The Subresource Integrity of the vendored htmx (static/VERSIONS.md says where it came from)."""
    digest = hashlib.sha384((STATIC / "htmx.min.js").read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode()


def snippet_html(snippet: str | None) -> Markup:
    """A search snippet with only its <mark> tags kept: every other character is escaped again here."""
    if not snippet:
        return Markup("")
    out = []
    for part in _MARK.split(snippet):
        out.append(part if part in ("<mark>", "</mark>") else str(escape(html.unescape(part))))
    return Markup("".join(out))


def replace_municipality(query: str, name: str) -> str:
    """An encoded filter query with the municipality field set to `name` (a suggestion's link)."""
    pairs = [(k, v) for k, v in parse_qsl(query) if k not in ("municipality", "cursor")]
    return urlencode([("municipality", name), *pairs])


def overview_query(query: str) -> str:
    """The place and committee of an encoded filter query: what an overview page is of."""
    return urlencode([(k, v) for k, v in parse_qsl(query) if k in ("municipality", "region", "committee")])


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["snippet"] = snippet_html
    templates.env.filters["replace_municipality"] = replace_municipality
    templates.env.filters["overview_query"] = overview_query
    templates.env.globals["htmx_integrity"] = htmx_integrity
    templates.env.globals["outcomes"] = [o.value for o in Outcome]
    templates.env.globals["quote"] = lambda value: quote(str(value), safe="")
    templates.env.globals["is_procedural"] = is_procedural
    templates.env.globals["shown_sections"] = shown_sections
    templates.env.globals["places"] = places  # the picker's list (read on first use)
    return templates


TEMPLATES = _templates()


def _lang(request: Request) -> tuple[str, bool]:
    asked = request.query_params.get("lang")
    return i18n.pick_language(asked, request.headers.get("accept-language")), asked in i18n.LANGUAGES


def _context(request: Request, **values: Any) -> dict[str, Any]:
    lang, explicit = _lang(request)
    t = i18n.translator(lang)

    def url(path: str, **params: str | None) -> str:
        # Links keep an explicitly chosen language; otherwise the browser's choice applies on every page.
        pairs = {k: v for k, v in params.items() if v}
        if explicit:
            pairs["lang"] = lang
        return f"{path}?{urlencode(pairs)}" if pairs else path

    def qurl(path: str, query: str) -> str:
        # A path with an already encoded query string (filters, cursor), plus an explicitly chosen language.
        parts = [p for p in (query, f"lang={lang}" if explicit else "") if p]
        return f"{path}?{'&'.join(parts)}" if parts else path

    def other_language_url() -> str:
        pairs = [(k, v) for k, v in request.query_params.multi_items() if k not in ("lang", "part")]
        pairs.append(("lang", t("other_language_code")))
        return f"{request.url.path}?{urlencode(pairs)}"

    def date(value: dt.date | None) -> str:
        if value is None:
            return "–"
        month = i18n.MONTHS[value.month - 1].of(lang)
        return f"{value.day}. {month} {value.year}" if lang == "da" else f"{value.day} {month} {value.year}"

    def when(value: dt.datetime | None) -> str:
        if value is None:
            return t("not_available")
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    return {
        "request": request,
        "lang": lang,
        "t": t,
        "url": url,
        "qurl": qurl,
        "explicit_lang": explicit,
        "other_language_url": other_language_url(),
        "date": date,
        "when": when,
        "outcome_label": lambda o: t(f"outcome_{getattr(o, 'value', o)}"),
        **values,
    }


def render(request: Request, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A page (or fragment) in the request's language, never cached: a refresh shows new decisions."""
    response = TEMPLATES.TemplateResponse(request, template, _context(request, **values), status_code=status)
    response.headers["Cache-Control"] = "no-cache"
    return response


def render_error(request: Request, status: int, message: str) -> Response:
    """The error page of the web page (the API answers errors in JSON)."""
    return render(request, "error.html", status=status, status_code=status, message=message)


def raw_filter(request: Request) -> dict[str, str | None]:
    """The filter fields of the request as sent (a plain form sends every field, filled or not)."""
    return {key: request.query_params.get(key) for key in FILTER_KEYS}


def picked_place(raw: dict[str, str | None]) -> tuple[dict[str, str | None], Place | None, list[str]]:
    """The picker's field: a region picked there filters by region (the field offers both); a name no
    place has gets close names to suggest. Returns the raw filter to build, the place, the suggestions."""
    typed = (raw.get("municipality") or "").strip()
    if not typed:
        return raw, None, []
    place = lookup(typed)
    if place is None:
        return raw, None, suggest(typed)
    if place.kind == "region" and not (raw.get("region") or "").strip():
        return {**raw, "municipality": None, "region": place.name}, place, []
    return raw, place, []


@router.get("/", response_class=HTMLResponse)
async def index(request: Request) -> Response:
    """Search box, filters and the decisions that match, newest meeting (or best match) first."""
    deps = deps_of(request)
    form = raw_filter(request)
    raw, _place, suggestions = picked_place(form)
    cursor = request.query_params.get("cursor") or None
    part = request.query_params.get("part")
    # htmx asks for a fragment: the next page's rows, or the result list of a live search.
    live = request.headers.get("hx-target") == "results"
    fragment = "_more.html" if part == "more" else "_results.html" if live else None
    try:
        flt = build_filter(raw)
        size = page_limit(deps, None)
        page = await decisions_page(deps, flt, cursor, size)
        total = await decisions.count_decisions(deps.engine, flt)
    except ApiError as exc:
        # The form stays, with the message beside it: the person corrects the field and searches again.
        return render(
            request,
            fragment or "index.html",
            status=exc.status,
            form=form,
            suggestions=suggestions,
            error=exc.message,
            hits=[],
            total=0,
            next_query=None,
            filter_query="",
            first_page=True,
        )
    next_query = query_of(flt, cursor=page.next_cursor) if page.next_cursor else None
    return render(
        request,
        fragment or "index.html",
        form=form,
        suggestions=suggestions,
        filtered=any((v or "").strip() for v in form.values()),
        error=None,
        hits=page.items,
        total=total,
        next_query=next_query,
        filter_query=query_of(flt),
        first_page=cursor is None,
    )


@router.get("/fragments/new", response_class=HTMLResponse)
async def new_decisions(request: Request) -> Response:
    """htmx polls this on the first page: a link to reload when more decisions match than were shown."""
    deps = deps_of(request)
    try:
        flt = build_filter(picked_place(raw_filter(request))[0])
        seen = int(request.query_params.get("seen") or 0)
    except (ApiError, ValueError):
        return HTMLResponse("", headers={"Cache-Control": "no-cache"})
    total = await decisions.count_decisions(deps.engine, flt)
    return render(request, "_new.html", fresh=max(0, total - seen), filter_query=query_of(flt))


@router.get("/meetings/{document_id}", response_class=HTMLResponse)
async def meeting_page(request: Request, document_id: str) -> Response:
    """One meeting: header, attendance, every item in order with sections, attachments and decision."""
    meeting = await meetings.get_meeting(deps_of(request).engine, check_digest(document_id))
    if meeting is None:
        raise ApiError(404, "no meeting with this document id")
    return render(request, "meeting.html", meeting=meeting)


@router.get("/cases/{case_number:path}", response_class=HTMLResponse)
async def case_page(request: Request, case_number: str) -> Response:
    """Every item with this case number across meetings and committees, oldest meeting first."""
    if not case_number or len(case_number) > 200:
        raise ApiError(400, "case_number: 1 to 200 characters")
    case = await items.get_case(deps_of(request).engine, case_number)
    if case is None:
        raise ApiError(404, "no item with this case number")
    path = await case_path(deps_of(request).engine, case_number)  # AU → ØK → BY, from the items and their history
    return render(request, "case.html", case=case, path=path)

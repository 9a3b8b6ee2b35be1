"""The overview pages: one municipality (or region, or committee, or any filter) in figures — its meetings,
its decisions per month and outcome shares as server-drawn charts, its busiest cases."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.api import charts, i18n
from services.api.bootstrap import deps_of
from services.api.errors import ApiError
from services.api.filters import build_filter, query_of
from services.api.web import picked_place, raw_filter, render
from services.readmodel import meetings, overview
from services.readmodel.results import Overview

router = APIRouter(include_in_schema=False)
RECENT_MEETINGS = 20


def _month_bars(view: Overview, lang: str) -> list[charts.Bar]:
    t = i18n.translator(lang)
    bars = []
    dense = len(view.months) > 12
    for m in view.months:
        name = i18n.MONTHS[m.month.month - 1].of(lang)
        # Many months: only January and the first bar say the year, the others nothing (they would overlap).
        if dense:
            label = f"{m.month.year}" if m.month.month == 1 or m is view.months[0] else ""
        else:
            label = f"{name[:3]} {str(m.month.year)[2:]}"
        bars.append(charts.Bar(label, m.decisions, t("chart_month_bar", month=f"{name} {m.month.year}", n=m.decisions)))
    return bars


def _outcome_bars(view: Overview, lang: str) -> list[charts.Bar]:
    t = i18n.translator(lang)
    total = view.decisions or 1
    return [
        charts.Bar(
            t(f"outcome_{o.outcome.value}"),
            o.decisions,
            t(
                "chart_share_bar",
                outcome=t(f"outcome_{o.outcome.value}"),
                n=o.decisions,
                share=round(100 * o.decisions / total),
            ),
        )
        for o in view.outcomes
    ]


@router.get("/overview", response_class=HTMLResponse)
async def overview_page(request: Request) -> Response:
    """Figures of the decisions a filter selects: `?municipality=Aarhus Kommune`, `&committee=...`."""
    deps = deps_of(request)
    raw, place, suggestions = picked_place(raw_filter(request))
    flt = build_filter(raw)
    if not (flt.municipality or flt.region or flt.committee):
        raise ApiError(400, "municipality, region or committee: the overview of which?")
    view = await overview.overview(deps.engine, flt)
    recent = await meetings.list_meetings(deps.engine, flt, limit=RECENT_MEETINGS)
    lang = i18n.pick_language(request.query_params.get("lang"), request.headers.get("accept-language"))
    t = i18n.translator(lang)
    place_name = place.name if place is not None else flt.municipality or flt.region
    subject = " · ".join(v for v in (place_name, flt.committee) if v)
    month_chart = (
        charts.column_chart(
            "months",
            t("chart_months_title", subject=subject),
            t("chart_months_desc", n=view.decisions, months=len(view.months)),
            _month_bars(view, lang),
        )
        if view.months
        else None
    )
    share_chart = (
        charts.share_chart(
            "outcomes",
            t("chart_outcomes_title", subject=subject),
            t("chart_outcomes_desc", n=view.decisions),
            _outcome_bars(view, lang),
        )
        if view.outcomes
        else None
    )
    return render(
        request,
        "overview.html",
        subject=subject,
        flt=flt,
        form=raw,
        place=place,
        suggestions=suggestions,
        view=view,
        recent=recent.items,
        month_chart=month_chart,
        share_chart=share_chart,
        filter_query=query_of(flt),
    )

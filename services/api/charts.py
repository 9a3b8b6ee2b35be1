"""Charts of the overview pages as inline SVG, drawn on the server: no script, no library, readable by a
screen reader (`role="img"` with its `<title>` and `<desc>`, a `<title>` per bar) and always followed on the
page by the same figures as a table (the template's job).

Pure functions of plain values: the page passes the texts in its language.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

_WIDTH = 480  # narrow enough that the 12px labels stay legible scaled to a phone
_HEIGHT = 200
_TOP = 16
_BOTTOM = 36  # room for the month labels
_LEFT = 36  # room for the scale
_BAR_GAP = 0.25  # share of a slot left empty between bars


@dataclass(frozen=True)
class Bar:
    """One bar: its short axis label (may be empty), its value and what a screen reader says for it."""

    label: str
    value: int
    spoken: str


def _head(chart_id: str, title: str, desc: str, height: int, css: str) -> str:
    return (
        f'<svg class="chart {css}" role="img" aria-labelledby="{chart_id}-t {chart_id}-d" '
        f'viewBox="0 0 {_WIDTH} {height}" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>'
    )


def column_chart(chart_id: str, title: str, desc: str, bars: Sequence[Bar]) -> Markup:
    """Vertical bars over a time axis (decisions per month), with a scale of 0 and the maximum."""
    top = max((b.value for b in bars), default=0) or 1
    plot_w, plot_h = _WIDTH - _LEFT - 8, _HEIGHT - _TOP - _BOTTOM
    slot = plot_w / max(len(bars), 1)
    base = _TOP + plot_h
    out = [_head(chart_id, title, desc, _HEIGHT, "columns")]
    out.append(
        f'<g class="axis" aria-hidden="true"><line x1="{_LEFT}" y1="{base}" x2="{_WIDTH - 8}" y2="{base}"/>'
        f'<text x="{_LEFT - 6}" y="{base}" text-anchor="end">0</text>'
        f'<text x="{_LEFT - 6}" y="{_TOP + 10}" text-anchor="end">{top}</text></g>'
    )
    for i, bar in enumerate(bars):
        h = plot_h * bar.value / top
        x = _LEFT + i * slot + slot * _BAR_GAP / 2
        out.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{slot * (1 - _BAR_GAP):.1f}" '
            f'height="{h:.1f}"><title>{escape(bar.spoken)}</title></rect>'
        )
        if bar.label:
            out.append(
                f'<text class="tick" aria-hidden="true" x="{x + slot * (1 - _BAR_GAP) / 2:.1f}" y="{base + 16}" '
                f'text-anchor="middle">{escape(bar.label)}</text>'
            )
    out.append("</svg>")
    return Markup("".join(out))


def share_chart(chart_id: str, title: str, desc: str, bars: Sequence[Bar]) -> Markup:
    """Horizontal bars, one per category, each as long as its share of the total, labelled with it."""
    total = sum(b.value for b in bars) or 1
    row, label_w = 28, 150
    height = row * max(len(bars), 1) + 8
    plot_w = _WIDTH - label_w - 50
    out = [_head(chart_id, title, desc, height, "shares")]
    for i, bar in enumerate(bars):
        y = 4 + i * row
        w = plot_w * bar.value / total
        share = round(100 * bar.value / total)
        out.append(
            f'<text class="label" aria-hidden="true" x="{label_w - 8}" y="{y + 17}" text-anchor="end">'
            f"{escape(bar.label)}</text>"
            f'<rect class="bar share-bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}">'
            f"<title>{escape(bar.spoken)}</title></rect>"
            f'<text class="value" aria-hidden="true" x="{label_w + w + 6:.1f}" y="{y + 17}">{share} %</text>'
        )
    out.append("</svg>")
    return Markup("".join(out))

"""Small server-rendered SVG bar charts: nothing fetched by the browser, nothing run in it.

Each chart is an ``<svg role="img">`` with a title and a description in words, and every figure
drawn is also in the table that follows it on the page (the table is the accessible form; the
chart is a picture of it). Bars are horizontal so long labels (room names, categories) read
without rotation; a second series (last year) is drawn lighter and hatched, so the two differ by
more than colour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

COLOURS = ("#1d5f8a", "#b0c4d8")
LABEL_WIDTH = 190
VALUE_WIDTH = 90
BAR = 16
GAP = 10
WIDTH = 640


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[int], str],
    *,
    max_value: int | None = None,
) -> Markup:
    """Grouped horizontal bars: one group per label, one bar per series. Negative values draw as
    zero-length bars (their figure is still written beside them and in the table)."""
    top = max([max_value or 0, *(v for s in series for v in s.values)])
    scale_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    group_height = len(series) * BAR + GAP
    legend_height = 24 if len(series) > 1 else 0
    height = legend_height + max(1, len(labels)) * group_height + 4
    parts: list[str] = [
        f'<svg class="chart" id="{escape(chart_id)}" role="img" aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d"'  # noqa: E501
        f' viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet"'
        ' xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(_describe(labels, series, fmt))}</desc>',
        f'<defs><pattern id="{escape(chart_id)}-hatch" width="6" height="6" patternUnits="userSpaceOnUse"'
        f' patternTransform="rotate(45)"><rect width="6" height="6" fill="{COLOURS[1]}"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#5b7a99" stroke-width="2"/></pattern></defs>',
    ]
    if len(series) > 1:
        x = LABEL_WIDTH
        for index, s in enumerate(series):
            fill = COLOURS[0] if index == 0 else f"url(#{escape(chart_id)}-hatch)"
            parts.append(
                f'<rect x="{x}" y="4" width="14" height="14" fill="{fill}" stroke="#333" stroke-width=".5"/>'
            )
            parts.append(f'<text x="{x + 20}" y="16" font-size="13">{escape(s.name)}</text>')
            x += 30 + 8 * len(s.name)
    if not labels:
        parts.append(
            f'<text x="0" y="{legend_height + 14}" font-size="13">Nothing to show for this period.</text>'
        )
    for row, label in enumerate(labels):
        y0 = legend_height + row * group_height
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y0 + len(series) * BAR / 2 + 5:.0f}" font-size="13"'
            f' text-anchor="end">{escape(_short(label))}</text>'
        )
        for index, s in enumerate(series):
            value = s.values[row] if row < len(s.values) else 0
            width = 0 if top <= 0 or value <= 0 else max(1.0, scale_width * value / top)
            y = y0 + index * BAR
            fill = COLOURS[0] if index == 0 else f"url(#{escape(chart_id)}-hatch)"
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 1}" width="{width:.1f}" height="{BAR - 2}" fill="{fill}"/>'
            )
            parts.append(
                f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + BAR - 4}" font-size="12">{escape(fmt(value))}</text>'  # noqa: E501
            )
    parts.append(
        f'<line x1="{LABEL_WIDTH}" y1="{legend_height}" x2="{LABEL_WIDTH}" y2="{height - 2}" stroke="#333"/>'
    )
    parts.append("</svg>")
    # Every piece of text in it went through escape() above.
    return Markup("".join(parts))  # noqa: S704


def _short(label: str, limit: int = 26) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _describe(labels: Sequence[str], series: Sequence[Series], fmt: Callable[[int], str]) -> str:
    if not labels:
        return "No figures for this period."
    bits = []
    for row, label in enumerate(labels):
        values = ", ".join(f"{s.name} {fmt(s.values[row])}" for s in series if row < len(s.values))
        bits.append(f"{label}: {values}")
    text = "; ".join(bits)
    return text if len(text) < 600 else f"{len(labels)} bars; the figures are in the table below the chart."

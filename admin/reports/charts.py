"""Server-side SVG charts with pygal, shown as images beside their data tables.

The SVG is embedded as a ``data:`` image: no script runs in it and the page's CSP
(``img-src 'self' data:``) allows it, while pygal's own inline styles stay inside the image.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import pygal
from pygal.style import Style

from kindpakket.money import format_euro

_STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1a1a1a",
    foreground_strong="#1a1a1a",
    foreground_subtle="#4a4a4a",
    colors=("#0b5d3b", "#0a4a8f", "#7a4a00", "#b00020"),
    font_family="system-ui, Arial, sans-serif",
    label_font_size=14,
    major_label_font_size=14,
    value_font_size=12,
    title_font_size=16,
    legend_font_size=13,
    tooltip_font_size=13,
)


@dataclass(frozen=True)
class Chart:
    """A rendered chart: ``src`` for an ``<img>``, ``alt`` text naming its data table."""

    key: str
    title: str
    src: str
    alt: str


def bar_chart(
    key: str,
    title: str,
    labels: Sequence[str],
    cents: Sequence[int],
    *,
    alt: str,
    horizontal: bool = False,
    lang: str = "nl",
) -> Chart:
    """Render money per label as a bar chart (horizontal for long names)."""
    kind = pygal.HorizontalBar if horizontal else pygal.Bar
    height = max(240, 60 + 30 * len(labels)) if horizontal else 320
    chart = kind(
        style=_STYLE,
        width=480,  # drawn small so its text stays readable when a phone shrinks it
        # pygal swaps the axes of a horizontal chart: thin out the value axis either way.
        **(
            {"x_labels_major_count": 4, "show_minor_x_labels": False}
            if horizontal
            else {"y_labels_major_count": 5, "show_minor_y_labels": False}
        ),
        height=height,
        show_legend=False,
        js=[],  # no script from a CDN: the image is static
        disable_xml_declaration=False,
        x_label_rotation=0 if horizontal else 30,
        truncate_label=22,
        margin=12,
        value_formatter=lambda euros: format_euro(round((euros or 0) * 100), lang),
        print_values=False,
    )
    chart.title = title
    chart.x_labels = list(labels)
    # pygal plots floats; these euros are for drawing only (tables carry exact cents).
    chart.add(title, [c / 100 for c in cents])
    svg = chart.render()
    data = base64.b64encode(svg if isinstance(svg, bytes) else svg.encode()).decode("ascii")
    return Chart(key, title, f"data:image/svg+xml;base64,{data}", alt)

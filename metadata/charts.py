"""Server-side SVG charts for the open datasets' pages: accessible, readable on a phone, no JavaScript.

Framework-free: the caller passes plain values and already translated texts; the result is SVG markup
(text) to embed in a page. A horizontal bar chart puts each label above its bar (so long labels stay
readable at 360 px) and writes each value as text at the end of its bar.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

#: The most bars a chart draws; the caller says so when rows were left out.
MAX_BARS = 30
#: Drawing units: the viewBox is WIDTH wide and scales to the container (never wider than it).
WIDTH = 360
ROW_HEIGHT = 34
LABEL_SIZE = 12
BAR_HEIGHT = 13
VALUE_ROOM = 90
LABEL_CHARS = 52


@dataclass(frozen=True)
class Bar:
    """One bar: its label and its value (None when the row has no value to plot)."""

    label: str
    value: float | int | None


@dataclass(frozen=True)
class ChartSummary:
    """What a chart shows, for its description: how many bars, the smallest and the largest."""

    count: int
    lowest: Bar | None
    highest: Bar | None


def plotted(bars: Sequence[Bar], limit: int = MAX_BARS) -> list[Bar]:
    """The bars a chart draws: those with a value, in the given order, at most *limit*."""
    return [b for b in bars if isinstance(b.value, (int, float)) and not isinstance(b.value, bool)][:limit]


def summarise(bars: Sequence[Bar]) -> ChartSummary:
    """The number of bars and the bars with the lowest and highest values."""
    if not bars:
        return ChartSummary(0, None, None)
    return ChartSummary(len(bars), min(bars, key=lambda b: b.value), max(bars, key=lambda b: b.value))


def _shorten(text: str, limit: int = LABEL_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    description: str,
    format_value: Callable[[float | int], str] = str,
    id_prefix: str = "chart",
) -> str:
    """A horizontal bar chart as SVG markup, with ``role="img"``, a <title> and a <desc>.

    *bars* are drawn in the order given (call :func:`plotted` first to drop rows without a value and to
    cut at the limit). Negative values draw no bar; their value is still written.
    """
    title_id, desc_id = f"{id_prefix}-title", f"{id_prefix}-desc"
    height = max(1, len(bars)) * ROW_HEIGHT + 8
    largest = max((b.value for b in bars if b.value and b.value > 0), default=0)
    room = WIDTH - VALUE_ROOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="system-ui, sans-serif" font-size="{LABEL_SIZE}">',
        f"<title id={quoteattr(title_id)}>{escape(title)}</title>",
        f"<desc id={quoteattr(desc_id)}>{escape(description)}</desc>",
    ]
    for index, bar in enumerate(bars):
        top = index * ROW_HEIGHT + 4
        value = bar.value or 0
        width = round(room * value / largest, 1) if largest and value > 0 else 0
        shown = format_value(bar.value)
        parts.append(f'<g class="bar"><title>{escape(bar.label)}: {escape(shown)}</title>')
        parts.append(f'<text x="0" y="{top + LABEL_SIZE}" fill="#222">{escape(_shorten(bar.label))}</text>')
        parts.append(
            f'<rect x="0" y="{top + LABEL_SIZE + 3}" width="{width}" height="{BAR_HEIGHT}" '
            'fill="#8a2d12"></rect>'
        )
        parts.append(
            f'<text x="{width + 4}" y="{top + LABEL_SIZE + 3 + BAR_HEIGHT - 2}" fill="#222" '
            f'font-variant-numeric="tabular-nums">{escape(shown)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)

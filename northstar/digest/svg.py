"""Inline SVG charts: no script, no external file, coordinates rounded so the same
series always yields the same bytes.

A sparkline carries its own reading aids: the first and last period under the x axis,
the series' lowest and highest value at their height on the left, and horizontal
reference lines (a target, a guardrail's warn and breach thresholds) labelled with their
value on the right. The value range always includes the reference lines, so a guardrail
chart shows how far the series is from its thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

FONT = 'font-family="Helvetica, Arial, sans-serif"'
# Approximate width of one character of the 9px label font, to size the margins.
CHAR = 5.2
LINE_STYLES = {
    "target": ("#5b6473", "4 3"),
    "warn": ("#c98a00", "5 3"),
    "breach": ("#c62828", "5 3"),
}


@dataclass(frozen=True)
class RefLine:
    """A horizontal line at `value`: kind is target, warn or breach; `text` its label."""

    value: float
    kind: str
    text: str


def coord(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = "#5b6473") -> str:
    return (
        f'<text x="{coord(x)}" y="{coord(y)}" font-size="9" {FONT} fill="{fill}" '
        f'text-anchor="{anchor}">{escape(text)}</text>'
    )


def _spread(positions: list[tuple[float, int]], gap: float, low: float, high: float) -> dict:
    """Label heights (index -> y) at least `gap` apart, within [low, high] where they fit:
    pushed down from the top, then back up from `high` if the last one ran past it."""
    order = sorted(positions)
    ys: list[float] = []
    for y, _ in order:
        ys.append(max(y, low) if not ys else max(y, ys[-1] + gap))
    for i in range(len(ys) - 1, -1, -1):
        ys[i] = min(ys[i], high if i == len(ys) - 1 else ys[i + 1] - gap)
    return {index: y for (_, index), y in zip(order, ys, strict=True)}


def sparkline(
    values: list[float | None],
    *,
    label: str,
    width: int = 160,
    height: int = 36,
    target: float | None = None,
    stroke: str = "#1f5fa8",
    lines: list[RefLine] | None = None,
    first: str | None = None,
    last: str | None = None,
    low_text: str | None = None,
    high_text: str | None = None,
) -> str:
    """A line through `values` (None breaks the line), the last point marked, reference
    `lines` (and `target`, a dashed line without a label) and, when given, the axis
    labels: `first`/`last` period under the x axis, `low_text`/`high_text` (the series'
    minimum and maximum, formatted by the caller) at their heights."""
    lines = list(lines or [])
    if target is not None:
        lines.append(RefLine(target, "target", ""))
    known = [v for v in values if v is not None]
    title = f"<title>{escape(label)}</title>"
    head = (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label, quote=True)}">{title}'
    )
    if not known:
        return head + "</svg>"
    axis = first is not None or low_text is not None
    left = 4.0 + (CHAR * max(len(low_text or ""), len(high_text or "")) + 4 if axis else 0)
    bottom = 14.0 if first is not None else 4.0
    low, high = min(known), max(known)
    # A target far outside the series (a 60,000 target for a series near 6,000) would
    # flatten it into one line: it is named at the edge with an arrow instead. Guardrail
    # thresholds always get their line: the distance to them is the point.
    reach = (high - low) or abs(high) * 0.5
    off = [
        line
        for line in lines
        if line.kind == "target" and not low - reach <= line.value <= high + reach
    ]
    lines = [line for line in lines if line not in off]
    for line in lines:
        low, high = min(low, line.value), max(high, line.value)
    span = high - low
    right = 4.0 + max((CHAR * len(line.text) + 4 for line in lines if line.text), default=0)
    # an off-chart target is named above the plot, its arrow pointing where it is
    top = (6.0 if axis else 4.0) + (10.0 if off else 0.0)
    plot_bottom = height - bottom

    def y(value: float) -> float:
        if span == 0:
            return (top + plot_bottom) / 2
        return plot_bottom - (value - low) / span * (plot_bottom - top)

    step = (width - left - right) / (len(values) - 1) if len(values) > 1 else 0.0

    def x(index: int) -> float:
        return (left + width - right) / 2 if len(values) == 1 else left + index * step

    parts = [head]
    if axis:
        parts.append(
            f'<line x1="{coord(left)}" y1="{coord(plot_bottom)}" x2="{coord(width - right)}" '
            f'y2="{coord(plot_bottom)}" stroke="#d8dce3" stroke-width="1" />'
        )
    labels = []
    for line in lines:
        color, dash = LINE_STYLES.get(line.kind, LINE_STYLES["target"])
        at = y(line.value)
        parts.append(
            f'<line x1="{coord(left)}" y1="{coord(at)}" x2="{coord(width - right)}" '
            f'y2="{coord(at)}" stroke="{color}" stroke-dasharray="{dash}" stroke-width="1" />'
        )
        if line.text:
            labels.append((at, line.text, color))
    placed = _spread([(at + 3, i) for i, (at, _, _) in enumerate(labels)], 9, 8, height - 2)
    for index, (_, text, color) in enumerate(labels):
        parts.append(_text(width - right + 3, placed[index], text, fill=color))
    for line in off:
        arrow = "↑" if line.value > high else "↓"
        text = f"{line.text or 'target'} {arrow}"
        parts.append(_text(width - right, 9, text, "end", LINE_STYLES["target"][0]))
    run: list[str] = []
    runs: list[list[str]] = []
    for index, value in enumerate(values):
        if value is None:
            if run:
                runs.append(run)
            run = []
            continue
        run.append(f"{coord(x(index))},{coord(y(value))}")
    if run:
        runs.append(run)
    for points in runs:
        parts.append(
            f'<polyline fill="none" stroke="{stroke}" stroke-width="1.5" '
            f'points="{" ".join(points)}" />'
        )
    last_index = max(index for index, value in enumerate(values) if value is not None)
    parts.append(
        f'<circle cx="{coord(x(last_index))}" cy="{coord(y(values[last_index]))}" r="2.5" '
        f'fill="{stroke}" />'
    )
    if low_text is not None and high_text is not None:
        # The extremes at their own heights, the maximum lifted when they are close.
        low_y = min(y(min(known)) + 3, plot_bottom + 3)
        if min(known) == max(known):
            parts.append(_text(left - 4, low_y, low_text, "end"))
        else:
            high_y = min(y(max(known)) + 3, low_y - 9)
            if high_y < 8:
                high_y, low_y = 8.0, max(low_y, 17.0)
            parts.append(_text(left - 4, high_y, high_text, "end"))
            parts.append(_text(left - 4, low_y, low_text, "end"))
    if first is not None:
        parts.append(_text(left, height - 3, first))
        if last is not None and len(values) > 1:
            parts.append(_text(width - right, height - 3, last, "end"))
    parts.append("</svg>")
    return "".join(parts)

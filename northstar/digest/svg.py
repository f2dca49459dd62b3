"""Inline SVG sparklines: no script, no external file, coordinates rounded so the same
series always yields the same bytes."""

from __future__ import annotations

from html import escape


def _fmt(value: float) -> str:
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def sparkline(
    values: list[float | None],
    *,
    label: str,
    width: int = 160,
    height: int = 36,
    target: float | None = None,
    stroke: str = "#1f5fa8",
) -> str:
    """A line through `values` (None breaks the line), the last point marked, and an
    optional dashed target line."""
    pad = 4.0
    known = [v for v in values if v is not None]
    title = f"<title>{escape(label)}</title>"
    head = (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label, quote=True)}">{title}'
    )
    if not known:
        return head + "</svg>"
    low, high = min(known), max(known)
    if target is not None:
        low, high = min(low, target), max(high, target)
    span = high - low

    def y(value: float) -> float:
        if span == 0:
            return height / 2
        return height - pad - (value - low) / span * (height - 2 * pad)

    step = (width - 2 * pad) / (len(values) - 1) if len(values) > 1 else 0.0

    def x(index: int) -> float:
        return width / 2 if len(values) == 1 else pad + index * step

    parts = [head]
    if target is not None:
        parts.append(
            f'<line x1="{_fmt(pad)}" y1="{_fmt(y(target))}" x2="{_fmt(width - pad)}" '
            f'y2="{_fmt(y(target))}" stroke="#888888" stroke-dasharray="3 3" stroke-width="1" />'
        )
    run: list[str] = []
    runs: list[list[str]] = []
    for index, value in enumerate(values):
        if value is None:
            if run:
                runs.append(run)
            run = []
            continue
        run.append(f"{_fmt(x(index))},{_fmt(y(value))}")
    if run:
        runs.append(run)
    for points in runs:
        parts.append(
            f'<polyline fill="none" stroke="{stroke}" stroke-width="1.5" '
            f'points="{" ".join(points)}" />'
        )
    last = max(index for index, value in enumerate(values) if value is not None)
    parts.append(
        f'<circle cx="{_fmt(x(last))}" cy="{_fmt(y(values[last]))}" r="2.5" fill="{stroke}" />'
    )
    parts.append("</svg>")
    return "".join(parts)

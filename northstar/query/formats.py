"""Number and table formatting shared by `query`, `metrics`, the digest and alerts.

Formatting is deterministic (no locale, fixed rounding), so the same snapshot always prints
the same text: the digest's byte-identical output depends on it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

MISSING = "-"


def number(value: Any) -> float | None:
    """A finite float, or None (for null, NaN, booleans and non-numbers). DuckDB returns
    DECIMAL columns as Decimal, so those are converted too."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def is_number(value: Any) -> bool:
    return number(value) is not None


def fmt_number(value: Any) -> str:
    value = number(value)
    if value is None:
        return MISSING
    if abs(value) >= 1000:
        return f"{value:,.0f}" if abs(value - round(value)) < 0.05 else f"{value:,.1f}"
    text = f"{value:.2f}" if abs(value) >= 1 else f"{value:.4f}"
    text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def fmt_value(value: Any, unit: str | None) -> str:
    """A metric value in its unit: shares as percentages, the rest as plain numbers."""
    value = number(value)
    if value is None:
        return MISSING
    if unit == "ratio":
        return f"{value * 100:.1f}%"
    return fmt_number(value)


def fmt_change(change_abs: Any, change_pct: Any, unit: str | None) -> str:
    """Change vs the previous period: percentage points for shares, percent otherwise."""
    change_abs, change_pct = number(change_abs), number(change_pct)
    if unit == "ratio":
        return MISSING if change_abs is None else f"{change_abs * 100:+.1f} pp"
    return MISSING if change_pct is None else f"{change_pct * 100:+.1f}%"


def fmt_on_pace(is_on_pace: Any) -> str:
    """fct_metric_values.is_on_pace: at or beyond the target in the metric's direction."""
    return MISSING if is_on_pace is None else ("yes" if is_on_pace else "no")


def plain(value: Any) -> Any:
    """JSON/CSV-safe: dates as ISO strings, NaN as null."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain fixed-width text table (numbers are right-aligned by the caller's padding)."""
    widths = [len(header) for header in headers]
    for row in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def render_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if cell is None else plain(cell) for cell in row])
    return buffer.getvalue().rstrip("\n")


def render_json(payload: Any) -> str:
    return json.dumps(payload, indent=2, sort_keys=False, default=plain, allow_nan=False)

"""The metric tree as an inline SVG diagram: the North Star on top, its inputs under it
joined by connectors (team-level metrics under their input), and the guardrails and the
outputs drawn apart in their own panels: they are watched, not pulled.

Deterministic like the sparklines: fixed layout arithmetic, rounded coordinates.
"""

from __future__ import annotations

from html import escape
from typing import Any

from northstar.digest.svg import FONT, coord

WIDTH = 920
BOX_W, BOX_H = 168, 44
GAP = 12
ROW = 78  # vertical distance between levels of the tree
MAX_LABEL = 27
FILL = {"breach": "#fde8e8", "warn": "#fff6dd"}
BORDER = {"breach": "#c62828", "warn": "#c98a00"}


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _box(node: dict[str, Any], x: float, y: float, width: float, owner: str | None) -> str:
    """One metric: label, value (and status), the full label and owner as its tooltip."""
    status = node["status"] if node["status"] in FILL else ""
    mine = owner is not None and node.get("owner") == owner
    stroke = BORDER.get(status, "#1f5fa8" if mine else "#8a94a6")
    tip = f"{node['label']} ({node['metric_name']}), owner {node.get('owner') or '-'}"
    second = node["value"] + (f"  {status.upper()}" if status else "")
    return (
        f"<g><title>{escape(tip)}</title>"
        f'<rect x="{coord(x)}" y="{coord(y)}" width="{coord(width)}" height="{BOX_H}" rx="4" '
        f'fill="{FILL.get(status, "#ffffff")}" stroke="{stroke}" '
        f'stroke-width="{2 if mine or status else 1}" />'
        f'<text x="{coord(x + 8)}" y="{coord(y + 17)}" font-size="11" {FONT} fill="#1d2330">'
        f"{escape(_short(node['label'], int(width / 6.2)))}</text>"
        f'<text x="{coord(x + 8)}" y="{coord(y + 34)}" font-size="11" {FONT} fill="#1d2330" '
        f'font-weight="600">{escape(second)}</text>'
        f'<text x="{coord(x + width - 8)}" y="{coord(y + 34)}" font-size="9" {FONT} '
        f'fill="#5b6473" text-anchor="end">{escape(_short(node.get("owner") or "", 16))}</text></g>'
    )


def _link(x1: float, y1: float, x2: float, y2: float) -> str:
    """An elbow connector from a parent's bottom to a child's top."""
    middle = (y1 + y2) / 2
    return (
        f'<path d="M{coord(x1)},{coord(y1)} V{coord(middle)} H{coord(x2)} V{coord(y2)}" '
        'fill="none" stroke="#8a94a6" stroke-width="1" />'
    )


def _depth(node: dict[str, Any]) -> int:
    return 1 + max((_depth(child) for child in node["children"]), default=0)


def _subtree(
    node: dict[str, Any], x: float, y: float, width: float, owner: str | None, parts: list[str]
) -> None:
    """Children side by side under `node`, each in an equal share of `width`."""
    box_w = min(BOX_W, width - GAP)
    parts.append(_box(node, x + (width - box_w) / 2, y, box_w, owner))
    children = node["children"]
    if not children:
        return
    share = width / len(children)
    for index, child in enumerate(children):
        child_x = x + index * share
        parts.append(_link(x + width / 2, y + BOX_H, child_x + share / 2, y + ROW))
        _subtree(child, child_x, y + ROW, share, owner, parts)


def _panel(
    title: str, nodes: list[dict[str, Any]], x: float, y: float, width: float, owner: str | None
) -> tuple[list[str], float]:
    """A titled grid of boxes; returns the parts and the panel's height."""
    columns = max(1, int((width - GAP) // (BOX_W + GAP)))
    rows = (len(nodes) + columns - 1) // columns
    height = 30 + rows * (BOX_H + GAP) + 4
    parts = [
        f'<rect x="{coord(x)}" y="{coord(y)}" width="{coord(width)}" height="{coord(height)}" '
        'rx="6" fill="#f3f5f8" stroke="#d8dce3" />',
        f'<text x="{coord(x + 10)}" y="{coord(y + 19)}" font-size="12" {FONT} fill="#1d2330" '
        f'font-weight="600">{escape(title)}</text>',
    ]
    for index, node in enumerate(nodes):
        row, column = divmod(index, columns)
        parts.append(
            _box(
                node,
                x + GAP + column * (BOX_W + GAP),
                y + 30 + row * (BOX_H + GAP),
                BOX_W,
                owner,
            )
        )
    return parts, height


def tree_chart(tree: dict[str, Any], owner: str | None = None) -> str:
    """The digest's `tree` (north_star with its inputs; guardrails; outputs) as SVG; with
    `owner`, that owner's metrics are outlined."""
    root = tree["north_star"]
    levels = _depth(root)
    parts: list[str] = []
    _subtree(root, 0, 8, WIDTH, owner, parts)
    y = 8 + (levels - 1) * ROW + BOX_H + 26
    panels = [
        ("Guardrails: must not get worse", tree["guardrails"]),
        ("Outputs: should follow", tree["outputs"]),
    ]
    panels = [(title, nodes) for title, nodes in panels if nodes]
    total = sum(len(nodes) for _, nodes in panels) or 1
    x, height = 0.0, 0.0
    for title, nodes in panels:
        # Each panel's width in proportion to its boxes, at least one box wide.
        width = max(BOX_W + 2 * GAP, (WIDTH - GAP * (len(panels) - 1)) * len(nodes) / total)
        drawn, panel_height = _panel(title, nodes, x, y, width, owner)
        parts += drawn
        height = max(height, panel_height)
        x += width + GAP
    total_height = int(y + height + 4)
    label = "Metric tree: the North Star, its inputs under it, guardrails and outputs apart"
    return (
        f'<svg class="tree" width="{WIDTH}" height="{total_height}" '
        f'viewBox="0 0 {WIDTH} {total_height}" role="img" '
        f'aria-label="{escape(label, quote=True)}"><title>{escape(label)}</title>'
        + "".join(parts)
        + "</svg>"
    )

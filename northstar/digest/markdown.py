"""The digest as Markdown (GitHub-flavoured tables), for a chat message or an email."""

from __future__ import annotations

from typing import Any

from northstar.digest.model import typical_move

STATUS_TEXT = {"breach": "**BREACH**", "warn": "warn", "ok": "ok", "none": "-"}


def esc(text: Any) -> str:
    """Escape what would change Markdown's meaning inside prose or a table cell."""
    out = str(text if text is not None else "-")
    for char in "\\`*_[]<>|#":
        out = out.replace(char, "\\" + char)
    return out


def _value(metric: dict[str, Any]) -> str:
    """The value, with its own period when that is not the digest's (see the note)."""
    value = metric["display"]["value"]
    return (
        f"{value} ({metric['period_start']})"
        if metric["lagged"] and metric["period_start"]
        else value
    )


def _notes(metrics: list[dict[str, Any]]) -> list[str]:
    notes = [f"- {esc(m['label'])}: {esc(m['lagged_note'])}." for m in metrics if m["lagged"]]
    return ["", *notes] if notes else []


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _tree(node: dict[str, Any], depth: int, lines: list[str]) -> None:
    status = f", **{node['status']}**" if node["status"] in ("breach", "warn") else ""
    owner = f", owner {esc(node['owner'])}" if node.get("owner") else ""
    lines.append(
        f"{'  ' * depth}- {esc(node['label'])} (`{node['metric_name']}`, "
        f"{node['role'].replace('_', ' ')}{owner}): {esc(node['value'])}{status}"
    )
    for child in node["children"]:
        _tree(child, depth + 1, lines)


def render_markdown(digest: dict[str, Any]) -> str:
    period = digest["period"]
    grain = digest["grain"]
    lines = [f"# North Star digest: {esc(period['label'])}", "", esc(digest["headline"]), ""]

    mover = digest["top_mover"]
    if mover is not None:
        lines.append(
            f"- The input that moved most: **{esc(mover['label'])}**, "
            f"{esc(mover['display']['previous_value'])} to {esc(mover['display']['value'])} "
            f"({esc(mover['display']['change'])}{typical_move(mover, grain)})."
        )
    breaches = [g for g in digest["guardrails"] if g["status"] == "breach"]
    warnings = [g for g in digest["guardrails"] if g["status"] == "warn"]
    if breaches:
        names = ", ".join(esc(g["label"]) for g in breaches)
        lines.append(f"- Guardrails: **{len(breaches)} in breach** ({names}).")
    elif warnings:
        names = ", ".join(esc(g["label"]) for g in warnings)
        lines.append(f"- Guardrails: none in breach; {len(warnings)} at warning level ({names}).")
    else:
        lines.append("- Guardrails: all within their thresholds.")
    incomplete = digest["incomplete_period"]
    if incomplete is not None:
        lines.append(
            f"- The current {esc(incomplete['label'])} is incomplete and not compared "
            "with full periods."
        )
    lines.append("")

    lines += [f"## Inputs (most unusual move first, vs the previous {grain})", ""]
    lines += _table(
        ["Input", "Owner", "Previous", f"This {grain}", "Change", "Move vs typical"],
        [
            [
                f"{esc(m['label'])} (`{m['metric_name']}`)",
                esc(m["owner"]),
                esc(m["display"]["previous_value"]),
                esc(_value(m)),
                esc(m["display"]["change"]),
                esc(m["display"]["move"]),
            ]
            for m in digest["inputs"]
        ],
    )
    lines += _notes(digest["inputs"])
    lines += ["", "## Guardrails (breaches first)", ""]
    lines += _table(
        ["Status", "Guardrail", "Owner", "Value", "Warn at", "Breach at", "Direction"],
        [
            [
                STATUS_TEXT.get(g["status"], esc(g["status"])),
                f"{esc(g['label'])} (`{g['metric_name']}`)",
                esc(g["owner"]),
                esc(_value(g)),
                esc(g["display"]["warn_threshold"]),
                esc(g["display"]["breach_threshold"]),
                esc(str(g["direction"] or "-").replace("_", " ")),
            ]
            for g in digest["guardrails"]
        ],
    )
    lines += _notes(digest["guardrails"])
    if digest["outputs"]:
        lines += ["", "## Outputs", ""]
        lines += _table(
            ["Output", "Owner", "Previous", f"This {grain}", "Change"],
            [
                [
                    f"{esc(m['label'])} (`{m['metric_name']}`)",
                    esc(m["owner"]),
                    esc(m["display"]["previous_value"]),
                    esc(_value(m)),
                    esc(m["display"]["change"]),
                ]
                for m in digest["outputs"]
            ],
        )
        lines += _notes(digest["outputs"])
    lines += ["", "## Metric tree", ""]
    for root in digest["tree"]:
        _tree(root, 0, lines)
    if incomplete is not None:
        nsm = digest["north_star"]
        lines += [
            "",
            "## Current period (incomplete)",
            "",
            f"The {esc(incomplete['label'])} is still in progress (it ends "
            f"{incomplete['period_end']}, exclusive): {esc(nsm['label'])} so far "
            f"{esc(incomplete['display'])}. It is not compared with complete {grain}s.",
        ]
    snapshot = digest["snapshot"]
    lines += [
        "",
        "---",
        "",
        f"Period {period['period_start']} to {period['period_end']} (end exclusive). "
        f"Snapshot `{snapshot['run_id']}`, published {esc(snapshot['published_at'])}, "
        f"data as of {esc(snapshot['data_as_of'])}, validation {esc(snapshot['validation'])}; "
        f"northstar {esc(snapshot['northstar_version'])}.",
    ]
    return "\n".join(lines) + "\n"

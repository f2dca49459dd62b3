"""The digest as Markdown (GitHub-flavoured tables), for a chat message or an email."""

from __future__ import annotations

from typing import Any

from northstar.digest.restatements import restatement_sentence
from northstar.digest.text import alignment_sentence, mover_sentence
from northstar.query.formats import fmt_number

STATUS_TEXT = {"breach": "**BREACH**", "warn": "warn", "ok": "ok", "none": "-"}
COMPONENT_TITLES = {
    "breadth": "Breadth: active {noun}",
    "depth": "Depth: {unit} per active {one}",
    "not_active": "{noun} without an activity event",
    "numerator": "Numerator",
    "denominator": "Denominator",
}
LIFECYCLE_TITLES = {
    "new": "New",
    "returning": "Returning (active both periods)",
    "resurrected": "Resurrected",
    "dormant": "Went dormant (what they sent before)",
    "not_active": "Not active",
}


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


def component_title(component: str, drivers: dict[str, Any], unit: str | None) -> str:
    noun = drivers["entity_noun"]
    one = "entity" if noun == "entities" else noun.removesuffix("s")
    title = COMPONENT_TITLES.get(component, component)
    return title.format(noun=noun, unit=unit or "value", one=one).capitalize()


def _drivers(digest: dict[str, Any]) -> list[str]:
    drivers = digest["drivers"]
    grain = digest["grain"]
    nsm = digest["north_star"]
    lines = ["", "## What drove the move", ""]
    if not drivers["available"]:
        return [*lines, f"No split of the change: {esc(drivers['reason'])}."]
    lines.append(
        "Each table's contributions add up to the change "
        f"({esc(drivers['display_change'])}; rounded here, exact in the JSON; "
        "docs/decomposition.md)."
    )
    if drivers["components"]:
        lines += [""]
        lines += _table(
            ["Component", "Previous", f"This {grain}", "Contribution"],
            [
                [
                    esc(component_title(row["component"], drivers, nsm["unit"])),
                    esc(fmt_number(row["previous_amount"])),
                    esc(fmt_number(row["current_amount"])),
                    f"**{esc(row['display'])}**"
                    if row["component"] == drivers["driver"]
                    else esc(row["display"]),
                ]
                for row in drivers["components"]
            ]
            + [
                [
                    "Total",
                    esc(nsm["display"]["previous_value"]),
                    esc(nsm["display"]["value"]),
                    esc(drivers["display_change"]),
                ]
            ],
        )
    if drivers["lifecycle"]:
        noun = esc(drivers["entity_noun"].capitalize())
        lines += ["", "Lifecycle", ""]
        lines += _table(
            ["Group", noun, "Contribution"],
            [
                [
                    esc(LIFECYCLE_TITLES.get(row["component"], row["component"])),
                    esc(fmt_number(row["entities"])),
                    esc(row["display"]),
                ]
                for row in drivers["lifecycle"]
            ],
        )
    segments = sorted(
        drivers["segments"], key=lambda s: s["breakdown"] != drivers["headline_breakdown"]
    )
    for segment in segments:
        quotient = any(v["display_rate"] is not None for v in segment["values"])
        lines += ["", f"By {esc(segment['breakdown'])}", ""]
        headers = [esc(segment["breakdown"].capitalize()), "Contribution"]
        if quotient:
            headers += ["Rate effect", "Mix effect"]
        lines += _table(
            headers,
            [
                [esc(v["value"]), esc(v["display"])]
                + ([esc(v["display_rate"]), esc(v["display_mix"])] if quotient else [])
                for v in segment["table"]
            ],
        )
    if drivers["movers"]:
        lines += ["", "The entities that moved it most (fct_north_star_movers)", ""]
        lines += _table(
            ["", "Entity", "Lifecycle", "Segments", "Previous", f"This {grain}", "Contribution"],
            [
                [
                    esc(m["direction"]),
                    esc(m["entity_id"]),
                    esc(m["lifecycle_component"]),
                    esc(m["segments"]),
                    esc(fmt_number(m["previous_numerator"])),
                    esc(fmt_number(m["current_numerator"])),
                    esc(m["display"]),
                ]
                for m in drivers["movers"]
            ],
        )
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
    owner = digest["owner"]
    review = f", {esc(owner)}'s metrics" if owner else ""
    lines = [
        f"# North Star digest: {esc(period['label'])}{review}",
        "",
        esc(digest["headline"]),
        "",
    ]
    mover = mover_sentence(digest)
    if mover:
        label = esc(digest["top_mover"]["label"])
        lines.append(f"- {esc(mover).replace(label, f'**{label}**', 1)}")
    sentence = alignment_sentence(digest)
    if sentence:
        lines.append(f"- {esc(sentence)}")
    lines.append(f"- Guardrails: {esc(digest['guardrail_summary'])}")
    if digest["guardrail_alarm"]:
        lines.append(f"- **{esc(digest['guardrail_alarm'])}**")
    for entry in digest["restatements"]:
        lines.append(f"- **History restated:** {esc(restatement_sentence(entry))}")
    verdict = digest.get("leading")
    if verdict is not None:
        lines.append(f"- {esc(verdict['sentence'])}")
        if verdict["warning"]:
            lines.append(f"- **{esc(verdict['warning'])}**")
    incomplete = digest["incomplete_period"]
    if incomplete is not None:
        lines.append(
            f"- The current {esc(incomplete['label'])} is incomplete and not compared "
            "with full periods."
        )
    if owner:
        lines.append(
            f"- This review keeps the metrics owned by {esc(owner)}; the headline and the "
            "drivers are the whole North Star's."
        )
    lines += _drivers(digest)

    if digest["inputs"] or not owner:
        lines += [
            "",
            f"## Inputs (most unusual move first, vs the previous {grain}; "
            "inputs still maturing last)",
            "",
        ]
        lines += _table(
            [
                "Input",
                "Owner",
                "Previous",
                f"This {grain}",
                "Change",
                "Move vs typical",
                "With the North Star?",
            ],
            [
                [
                    f"{esc(m['label'])} (`{m['metric_name']}`)",
                    esc(m["owner"]),
                    esc(m["display"]["previous_value"]),
                    esc(_value(m)),
                    esc(m["display"]["change"]),
                    esc(m["display"]["move"]),
                    esc(m["display"]["alignment"]),
                ]
                for m in digest["inputs"]
            ],
        )
        lines += _notes(digest["inputs"])
    if digest["guardrails"] or not owner:
        lines += ["", "## Guardrails (breaches first)", ""]
        lines += _table(
            ["Status", "For", "Guardrail", "Owner", "Value", "Warn at", "Breach at", "Direction"],
            [
                [
                    STATUS_TEXT.get(g["status"], esc(g["status"])),
                    esc(g["display"]["lasted"]),
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
    for entry in digest["restatements"]:
        lines += [
            "",
            f"## Restated history: {esc(entry['label'])} (`{entry['metric_name']}`), "
            f"version {entry['from_version']} -> {entry['to_version']}",
            "",
        ]
        lines += _table(
            [f"{grain.capitalize()} starting", "Published", "Now", "Change"],
            [
                [
                    p["period_start"],
                    esc(p["display"]["old_value"]),
                    esc(p["display"]["new_value"]),
                    esc(p["display"]["change"]),
                ]
                for p in entry["periods"]
            ],
        )
    tree = digest["tree"]
    lines += ["", "## Metric tree", ""]
    _tree(tree["north_star"], 0, lines)
    for title, nodes in (
        ("Guardrails (apart: they must not get worse)", tree["guardrails"]),
        ("Outputs (apart: they should follow)", tree["outputs"]),
    ):
        if nodes:
            lines += ["", title, ""]
            for node in nodes:
                _tree(node, 0, lines)
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

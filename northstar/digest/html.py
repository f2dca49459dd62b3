"""The digest as one self-contained HTML page: inline CSS, inline SVG charts, no script,
no font, image or stylesheet fetched from anywhere, so it renders offline and in mail
clients. The markup is also well-formed XML (every element closed), which the tests use
to check it."""

from __future__ import annotations

from html import escape
from typing import Any

from northstar.digest.markdown import LIFECYCLE_TITLES, component_title
from northstar.digest.restatements import restatement_sentence
from northstar.digest.svg import RefLine, sparkline
from northstar.digest.text import alignment_sentence, mover_sentence
from northstar.digest.treechart import tree_chart
from northstar.query.formats import fmt_number, fmt_value

# A restated period's cells after its start, in order.
RESTATED_COLUMNS = ("old_value", "new_value", "change")
STYLE = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2330;
       max-width: 960px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 1.8em; border-bottom: 1px solid #d8dce3; }
.headline { font-size: 1.15em; }
.hero { display: flex; align-items: center; gap: 1.5em; flex-wrap: wrap; }
.big { font-size: 2.2em; font-weight: 600; }
table { border-collapse: collapse; width: 100%; font-size: 0.95em; }
th, td { text-align: left; padding: 0.35em 0.6em; border-bottom: 1px solid #e6e8ec; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.breach td { background: #fde8e8; color: #8a1111; font-weight: 600; }
tr.warn td { background: #fff6dd; }
.badge { display: inline-block; padding: 0 0.5em; border-radius: 3px; font-size: 0.85em; }
.badge.breach { background: #c62828; color: #ffffff; }
.badge.warn { background: #f2b705; color: #1d2330; }
.badge.ok { background: #2e7d32; color: #ffffff; }
.badge.none { background: #e6e8ec; color: #1d2330; }
.note { background: #f3f5f8; padding: 0.6em 0.9em; border-left: 4px solid #8a94a6; }
ul.notes { font-size: 0.9em; color: #5b6473; }
p.alarm { background: #fde8e8; color: #8a1111; padding: 0.6em 0.9em; border-left: 4px solid #c62828;
          font-weight: 600; }
td.driver { font-weight: 700; }
.with { color: #2e7d32; }
.against { color: #c62828; }
h3 { font-size: 1em; margin-bottom: 0.3em; }
.drivers { display: flex; flex-wrap: wrap; gap: 0 2em; }
.drivers > div { flex: 1 1 280px; }
footer { margin-top: 2.5em; color: #5b6473; font-size: 0.85em; }
"""


def e(value: Any) -> str:
    return escape("-" if value is None else str(value), quote=True)


def badge(status: str) -> str:
    return f'<span class="badge {e(status)}">{e(status.upper())}</span>'


def _values(metric: dict[str, Any]) -> list[float | None]:
    return [point["value"] for point in metric["series"]]


def _value(metric: dict[str, Any]) -> str:
    value = metric["display"]["value"]
    lagged = metric["lagged"] and metric["period_start"]
    return f"{value} ({metric['period_start']})" if lagged else value


def _notes(metrics: list[dict[str, Any]]) -> list[str]:
    notes = [f"<li>{e(m['label'])}: {e(m['lagged_note'])}.</li>" for m in metrics if m["lagged"]]
    return [f'<ul class="notes">{"".join(notes)}</ul>'] if notes else []


def chart(metric: dict[str, Any], grain: str, **kwargs: Any) -> str:
    """A metric's sparkline with its axis labels, its target and (a guardrail) its warn
    and breach lines."""
    unit = metric["unit"]
    values = _values(metric)
    known = [v for v in values if v is not None]
    lines = []
    if metric["target"] is not None:
        lines.append(
            RefLine(metric["target"], "target", f"target {fmt_value(metric['target'], unit)}")
        )
    for kind in ("warn", "breach"):
        threshold = metric.get(f"{kind}_threshold")
        if threshold is not None:
            lines.append(RefLine(threshold, kind, f"{kind} {fmt_value(threshold, unit)}"))
    series = metric["series"]
    return sparkline(
        values,
        label=f"{metric['label']}: last {len(series)} complete {grain}s",
        lines=lines,
        first=series[0]["period_start"][5:] if series else None,
        last=series[-1]["period_start"][5:] if series else None,
        low_text=fmt_value(min(known), unit) if known else None,
        high_text=fmt_value(max(known), unit) if known else None,
        **kwargs,
    )


def _align(metric: dict[str, Any]) -> str:
    side = metric.get("alignment")
    css = f' class="{e(side)}"' if side in ("with", "against") else ""
    return f"<td{css}>{e(metric['display']['alignment'])}</td>"


def _metric_rows(metrics: list[dict[str, Any]], grain: str, *, inputs: bool = False) -> list[str]:
    rows = [
        "<table><thead><tr><th>Metric</th><th>Owner</th><th>Previous</th>"
        f"<th>This {e(grain)}</th><th>Change</th><th>Move vs typical</th>"
        + ("<th>With the North Star?</th>" if inputs else "")
        + f"<th>Last {e(grain)}s</th></tr></thead><tbody>"
    ]
    for m in metrics:
        rows.append(
            f"<tr><td>{e(m['label'])} <code>{e(m['metric_name'])}</code></td>"
            f'<td>{e(m["owner"])}</td><td class="num">{e(m["display"]["previous_value"])}</td>'
            f'<td class="num">{e(_value(m))}</td>'
            f'<td class="num">{e(m["display"]["change"])}</td>'
            f'<td class="num">{e(m["display"]["move"])}</td>'
            + (_align(m) if inputs else "")
            + f"<td>{chart(m, grain, width=250, height=58)}</td></tr>"
        )
    rows.append("</tbody></table>")
    return rows + _notes(metrics)


def _small_table(headers: list[str], rows: list[list[str]], numeric_from: int = 1) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{cell}</td>' if i >= numeric_from else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _drivers(digest: dict[str, Any]) -> list[str]:
    drivers = digest["drivers"]
    grain = digest["grain"]
    nsm = digest["north_star"]
    out = ["<h2>What drove the move</h2>"]
    if not drivers["available"]:
        return [*out, f"<p>No split of the change: {e(drivers['reason'])}.</p>"]
    out.append(
        f"<p>Each table's contributions add up to the change ({e(drivers['display_change'])}; "
        "rounded here, exact in the JSON).</p>"
    )
    blocks = []
    if drivers["components"]:
        rows = [
            [
                e(component_title(row["component"], drivers, nsm["unit"])),
                e(fmt_number(row["previous_amount"])),
                e(fmt_number(row["current_amount"])),
                f"<strong>{e(row['display'])}</strong>"
                if row["component"] == drivers["driver"]
                else e(row["display"]),
            ]
            for row in drivers["components"]
        ]
        rows.append(
            [
                "Total",
                e(nsm["display"]["previous_value"]),
                e(nsm["display"]["value"]),
                e(drivers["display_change"]),
            ]
        )
        blocks.append(
            "<div><h3>Split</h3>"
            + _small_table(["Component", "Previous", f"This {grain}", "Contribution"], rows)
            + "</div>"
        )
    if drivers["lifecycle"]:
        rows = [
            [
                e(LIFECYCLE_TITLES.get(row["component"], row["component"])),
                e(fmt_number(row["entities"])),
                e(row["display"]),
            ]
            for row in drivers["lifecycle"]
        ]
        blocks.append(
            "<div><h3>Lifecycle</h3>"
            + _small_table(["Group", drivers["entity_noun"].capitalize(), "Contribution"], rows)
            + "</div>"
        )
    segments = sorted(
        drivers["segments"], key=lambda s: s["breakdown"] != drivers["headline_breakdown"]
    )
    for segment in segments:
        quotient = any(v["display_rate"] is not None for v in segment["values"])
        headers = [segment["breakdown"].capitalize(), "Contribution"]
        headers += ["Rate effect", "Mix effect"] if quotient else []
        rows = [
            [e(v["value"]), e(v["display"])]
            + ([e(v["display_rate"]), e(v["display_mix"])] if quotient else [])
            for v in segment["table"]
        ]
        blocks.append(
            f"<div><h3>By {e(segment['breakdown'])}</h3>{_small_table(headers, rows)}</div>"
        )
    out.append('<div class="drivers">' + "".join(blocks) + "</div>")
    if drivers["movers"]:
        rows = [
            [
                e(m["direction"]),
                f"<code>{e(m['entity_id'])}</code>",
                e(m["lifecycle_component"]),
                e(m["segments"]),
                e(fmt_number(m["previous_numerator"])),
                e(fmt_number(m["current_numerator"])),
                e(m["display"]),
            ]
            for m in drivers["movers"]
        ]
        out.append("<h3>The entities that moved it most</h3>")
        out.append(
            _small_table(
                [
                    "",
                    "Entity",
                    "Lifecycle",
                    "Segments",
                    "Previous",
                    f"This {grain}",
                    "Contribution",
                ],
                rows,
                numeric_from=4,
            )
        )
    return out


def render_html(digest: dict[str, Any]) -> str:
    period = digest["period"]
    grain = digest["grain"]
    nsm = digest["north_star"]
    snapshot = digest["snapshot"]
    owner = digest["owner"]
    title = f"North Star digest: {period['label']}" + (f", {owner}'s metrics" if owner else "")
    body = [
        f"<h1>{e(title)}</h1>",
        '<div class="hero">',
        f'<div><div class="big">{e(nsm["display"]["value"])}</div>'
        f"<div>{e(nsm['label'])}, change {e(nsm['display']['change'])}, "
        f"target {e(nsm['display']['target'])}</div></div>",
        chart(nsm, grain, width=460, height=130),
        "</div>",
        f'<p class="headline">{e(digest["headline"])}</p>',
    ]
    for sentence in (mover_sentence(digest), alignment_sentence(digest)):
        if sentence:
            body.append(f"<p>{e(sentence)}</p>")
    body.append(f"<p>Guardrails: {e(digest['guardrail_summary'])}</p>")
    if digest["guardrail_alarm"]:
        body.append(f'<p class="alarm">{e(digest["guardrail_alarm"])}</p>')
    for entry in digest["restatements"]:
        body.append(f'<p class="alarm">History restated: {e(restatement_sentence(entry))}</p>')
    verdict = digest.get("leading")
    if verdict is not None:
        body.append(f"<p>{e(verdict['sentence'])}</p>")
        if verdict["warning"]:
            body.append(f'<p class="alarm">{e(verdict["warning"])}</p>')
    incomplete = digest["incomplete_period"]
    if incomplete is not None:
        body.append(
            f'<p class="note">The current {e(incomplete["label"])} is incomplete '
            f"({e(nsm['label'])} so far: {e(incomplete['display'])}); it is not compared "
            f"with complete {e(grain)}s.</p>"
        )
    if owner:
        body.append(
            f'<p class="note">This review keeps the metrics owned by {e(owner)} (outlined in '
            "the tree); the headline and the drivers are the whole North Star's.</p>"
        )
    body += _drivers(digest)
    if digest["inputs"]:
        body += [
            f"<h2>Inputs (most unusual move first, vs the previous {e(grain)}; "
            "inputs still maturing last)</h2>"
        ]
        body += _metric_rows(digest["inputs"], grain, inputs=True)
    if digest["guardrails"] or not owner:
        body.append("<h2>Guardrails (breaches first)</h2>")
        body.append(
            "<table><thead><tr><th>Status</th><th>For</th><th>Guardrail</th><th>Owner</th>"
            "<th>Value</th><th>Warn at</th><th>Breach at</th><th>Direction</th><th>Trend</th>"
            "</tr></thead><tbody>"
        )
        for g in digest["guardrails"]:
            stroke = "#c62828" if g["status"] == "breach" else "#1f5fa8"
            body.append(
                f'<tr class="{e(g["status"])}"><td>{badge(g["status"])}</td>'
                f"<td>{e(g['display']['lasted'])}</td>"
                f"<td>{e(g['label'])} <code>{e(g['metric_name'])}</code></td>"
                f'<td>{e(g["owner"])}</td><td class="num">{e(_value(g))}</td>'
                f'<td class="num">{e(g["display"]["warn_threshold"])}</td>'
                f'<td class="num">{e(g["display"]["breach_threshold"])}</td>'
                f"<td>{e(str(g['direction'] or '-').replace('_', ' '))}</td>"
                f"<td>{chart(g, grain, width=185, height=58, stroke=stroke)}</td></tr>"
            )
        body.append("</tbody></table>")
        body += _notes(digest["guardrails"])
    if digest["outputs"]:
        body.append("<h2>Outputs</h2>")
        body += _metric_rows(digest["outputs"], grain)
    for entry in digest["restatements"]:
        body.append(
            f"<h2>Restated history: {e(entry['label'])} <code>{e(entry['metric_name'])}</code>, "
            f"version {e(entry['from_version'])} -&gt; {e(entry['to_version'])}</h2>"
        )
        body.append(
            _small_table(
                [f"{grain.capitalize()} starting", "Published", "Now", "Change"],
                [
                    [e(p["period_start"])] + [e(p["display"][k]) for k in RESTATED_COLUMNS]
                    for p in entry["periods"]
                ],
            )
        )
    body.append("<h2>Metric tree</h2>")
    body.append(tree_chart(digest["tree"], owner))
    body.append(
        f"<footer>Period {e(period['period_start'])} to {e(period['period_end'])} (end "
        f"exclusive). Snapshot <code>{e(snapshot['run_id'])}</code>, published "
        f"{e(snapshot['published_at'])}, data as of {e(snapshot['data_as_of'])}, validation "
        f"{e(snapshot['validation'])}; northstar {e(snapshot['northstar_version'])}.</footer>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1" />\n'
        f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )

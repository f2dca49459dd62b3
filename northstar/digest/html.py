"""The digest as one self-contained HTML page: inline CSS, inline SVG charts, no script,
no font, image or stylesheet fetched from anywhere, so it renders offline and in mail
clients. The markup is also well-formed XML (every element closed), which the tests use
to check it."""

from __future__ import annotations

from html import escape
from typing import Any

from northstar.digest.model import typical_move
from northstar.digest.svg import sparkline

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
ul.tree, ul.tree ul { list-style: none; padding-left: 1.2em; }
ul.tree li { margin: 0.15em 0; }
ul.notes { font-size: 0.9em; color: #5b6473; }
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


def _metric_rows(metrics: list[dict[str, Any]], grain: str) -> list[str]:
    rows = [
        "<table><thead><tr><th>Metric</th><th>Owner</th><th>Previous</th>"
        f"<th>This {e(grain)}</th><th>Change</th><th>Move vs typical</th>"
        f"<th>Last {len(metrics[0]['series'])} "
        f"{e(grain)}s</th></tr></thead><tbody>"
    ]
    for m in metrics:
        chart = sparkline(_values(m), label=f"{m['label']}: last complete {grain}s")
        rows.append(
            f"<tr><td>{e(m['label'])} <code>{e(m['metric_name'])}</code></td>"
            f'<td>{e(m["owner"])}</td><td class="num">{e(m["display"]["previous_value"])}</td>'
            f'<td class="num">{e(_value(m))}</td>'
            f'<td class="num">{e(m["display"]["change"])}</td>'
            f'<td class="num">{e(m["display"]["move"])}</td><td>{chart}</td></tr>'
        )
    rows.append("</tbody></table>")
    return rows + _notes(metrics)


def _tree(node: dict[str, Any]) -> str:
    status = f" {badge(node['status'])}" if node["status"] in ("breach", "warn") else ""
    owner = f", owner {e(node['owner'])}" if node.get("owner") else ""
    children = "".join(_tree(child) for child in node["children"])
    inner = f"<ul>{children}</ul>" if children else ""
    return (
        f"<li><strong>{e(node['label'])}</strong> <code>{e(node['metric_name'])}</code> "
        f"({e(node['role'].replace('_', ' '))}{owner}): {e(node['value'])}{status}{inner}</li>"
    )


def render_html(digest: dict[str, Any]) -> str:
    period = digest["period"]
    grain = digest["grain"]
    nsm = digest["north_star"]
    snapshot = digest["snapshot"]
    title = f"North Star digest: {period['label']}"
    body = [
        f"<h1>{e(title)}</h1>",
        '<div class="hero">',
        f'<div><div class="big">{e(nsm["display"]["value"])}</div>'
        f"<div>{e(nsm['label'])}, change {e(nsm['display']['change'])}, "
        f"target {e(nsm['display']['target'])}</div></div>",
        sparkline(
            _values(nsm),
            label=f"{nsm['label']}: last complete {grain}s (dashed: target)",
            width=420,
            height=110,
            target=nsm["target"],
        ),
        "</div>",
        f'<p class="headline">{e(digest["headline"])}</p>',
    ]
    mover = digest["top_mover"]
    if mover is not None:
        body.append(
            f"<p>The input that moved most: <strong>{e(mover['label'])}</strong>, "
            f"{e(mover['display']['previous_value'])} to {e(mover['display']['value'])} "
            f"({e(mover['display']['change'])}{e(typical_move(mover, grain))}).</p>"
        )
    breaches = [g for g in digest["guardrails"] if g["status"] == "breach"]
    if breaches:
        names = ", ".join(e(g["label"]) for g in breaches)
        body.append(
            f'<p class="note"><strong>{len(breaches)} guardrail(s) in breach:</strong> {names}.</p>'
        )
    incomplete = digest["incomplete_period"]
    if incomplete is not None:
        body.append(
            f'<p class="note">The current {e(incomplete["label"])} is incomplete '
            f"({e(nsm['label'])} so far: {e(incomplete['display'])}); it is not compared "
            f"with complete {e(grain)}s.</p>"
        )
    if digest["inputs"]:
        body += [f"<h2>Inputs (most unusual move first, vs the previous {e(grain)})</h2>"]
        body += _metric_rows(digest["inputs"], grain)
    body.append("<h2>Guardrails (breaches first)</h2>")
    body.append(
        "<table><thead><tr><th>Status</th><th>Guardrail</th><th>Owner</th><th>Value</th>"
        "<th>Warn at</th><th>Breach at</th><th>Direction</th><th>Trend</th></tr></thead><tbody>"
    )
    for g in digest["guardrails"]:
        chart = sparkline(
            _values(g),
            label=f"{g['label']}: last complete {grain}s",
            stroke="#c62828" if g["status"] == "breach" else "#1f5fa8",
        )
        body.append(
            f'<tr class="{e(g["status"])}"><td>{badge(g["status"])}</td>'
            f"<td>{e(g['label'])} <code>{e(g['metric_name'])}</code></td>"
            f'<td>{e(g["owner"])}</td><td class="num">{e(_value(g))}</td>'
            f'<td class="num">{e(g["display"]["warn_threshold"])}</td>'
            f'<td class="num">{e(g["display"]["breach_threshold"])}</td>'
            f"<td>{e(str(g['direction'] or '-').replace('_', ' '))}</td><td>{chart}</td></tr>"
        )
    body.append("</tbody></table>")
    body += _notes(digest["guardrails"])
    if digest["outputs"]:
        body.append("<h2>Outputs</h2>")
        body += _metric_rows(digest["outputs"], grain)
    body.append("<h2>Metric tree</h2>")
    body.append('<ul class="tree">' + "".join(_tree(root) for root in digest["tree"]) + "</ul>")
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

"""`northstar alerts`: is any guardrail in breach in the latest complete period?

The statuses come from `fct_metric_values.status` (computed in dbt from each guardrail's
direction and thresholds, and checked by the validation gate), read from the published
snapshot. A breach is not a data error: it is reported with its own exit code (5), apart
from "pipeline failed" (3) and "data invalid" (4).
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import duckdb

from northstar.errors import InvalidInputError, NotFoundError, WebhookError
from northstar.latest import by_metric, read_latest
from northstar.query.catalog import Catalog, shown
from northstar.query.formats import MISSING, fmt_change, fmt_value, number, plain

STATUS_ORDER = {"breach": 0, "warn": 1, "ok": 2, "none": 3}
WEBHOOK_ON = ("breach", "warn", "always")
FLAGGED = ("warn", "breach")


def status_streaks(
    con: duckdb.DuckDBPyConnection,
    *,
    grain: str,
    names: list[str],
    up_to: Any = None,
) -> dict[str, dict[str, Any]]:
    """How long each guardrail has been in its latest complete status.

    metric_name -> `periods` (consecutive complete periods, up to its latest one on or
    before `up_to`, with that same status) and `since` (the first of them), and
    `flagged_periods` / `flagged_since`: the same for "warn or breach" (a breach after two
    weeks of warnings is flagged for three). Complete periods are consecutive: a period
    with no activity has a row (value 0), never a gap.
    """
    if not names:
        return {}
    rows = con.execute(
        """
        select metric_name, period_start, coalesce(status, 'none') as status
        from fct_metric_values
        where grain = ? and segment_name = 'all' and segment_value = 'all'
            and is_complete_period and list_contains(?, metric_name)
            and (cast(? as date) is null or period_start <= cast(? as date))
        order by metric_name, period_start desc
        """,
        [grain, list(names), up_to, up_to],
    ).fetchall()
    history: dict[str, list[tuple[Any, str]]] = {}
    for name, start, status in rows:
        history.setdefault(name, []).append((start, status))
    streaks = {}
    for name, periods in history.items():
        latest = periods[0][1]
        same = _run(periods, lambda status, latest=latest: status == latest)
        flagged = _run(periods, lambda status: status in FLAGGED)
        streaks[name] = {
            "status": latest,
            "periods": len(same),
            "since": plain(same[-1][0]),
            "flagged_periods": len(flagged),
            "flagged_since": plain(flagged[-1][0]) if flagged else None,
        }
    return streaks


def _run(periods: list[tuple[Any, str]], keep: Any) -> list[tuple[Any, str]]:
    """The newest periods while `keep(status)` holds (newest first)."""
    run = []
    for period in periods:
        if not keep(period[1]):
            break
        run.append(period)
    return run


def lasted(periods: int, grain: str) -> str:
    """ "first week" / "2 weeks in a row" """
    return f"first {grain}" if periods <= 1 else f"{periods} {grain}s in a row"


def streak_text(guardrail: dict[str, Any], grain: str) -> str:
    """ "2 weeks in a row, since the week of 2026-07-13" / "first week, after 1 week at
    warning level": how long a guardrail has been in its status (warn or breach)."""
    periods = guardrail.get("periods_in_status") or 1
    text = lasted(periods, grain)
    if periods > 1:
        text += f", since the {grain} of {guardrail['status_since']}"
    before = (guardrail.get("flagged_periods") or periods) - periods
    if guardrail["status"] == "breach" and before > 0:
        text += f", after {before} {grain}{'s' if before > 1 else ''} at warning level"
    return text


@dataclass(frozen=True)
class AlertReport:
    grain: str
    period_start: str
    period_end: str
    snapshot: dict[str, Any]
    guardrails: list[dict[str, Any]] = field(repr=False)
    # The North Star's row in the same period (value, change), for the summary text.
    north_star: dict[str, Any] | None = None

    @property
    def breaches(self) -> list[dict[str, Any]]:
        return [g for g in self.guardrails if g["status"] == "breach"]

    @property
    def warnings(self) -> list[dict[str, Any]]:
        return [g for g in self.guardrails if g["status"] == "warn"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": "breach" if self.breaches else ("warn" if self.warnings else "ok"),
            "grain": self.grain,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "breach_count": len(self.breaches),
            "warn_count": len(self.warnings),
            "guardrails": self.guardrails,
            "north_star": self.north_star,
            "snapshot": self.snapshot,
            # What Slack and Teams incoming webhooks display (they ignore other keys).
            "text": summary_text(self),
        }


def evaluate(
    con: duckdb.DuckDBPyConnection, *, grain: str = "week", manifest: dict[str, Any] | None = None
) -> AlertReport:
    """Every guardrail's status in the latest complete period of `grain` (segment 'all'),
    breaches first."""
    catalog = Catalog.load(con)
    guardrails = [m for m in catalog.metrics if m["role"] == "guardrail"]
    grains = [
        row[0] for row in con.execute("select distinct grain from fct_metric_values").fetchall()
    ]
    if grain not in grains:
        raise NotFoundError(
            f"unknown grain {shown(grain)}: the snapshot has {', '.join(sorted(grains))}"
        )
    names = [m["metric_name"] for m in guardrails]
    manifest = manifest or {}
    snapshot = {
        "run_id": manifest.get("run_id"),
        "published_at": manifest.get("published_at"),
        "validation": (manifest.get("validation") or {}).get("status"),
    }
    if not names:
        return AlertReport(grain, "", "", snapshot, [])
    # Each guardrail's own latest complete period: they normally agree; one that completes
    # later is judged on its last complete value, never on a partial one.
    rows = by_metric(read_latest(con, grain=grain, metrics=names))
    if not rows:
        raise NotFoundError(
            f"no complete {grain} in the snapshot yet: guardrails cannot be checked"
        )
    latest = max(rows.values(), key=lambda row: row["period_start"])
    streaks = status_streaks(con, grain=grain, names=names)
    results = []
    for metric in guardrails:
        row = rows.get(metric["metric_name"], {})
        streak = streaks.get(metric["metric_name"], {})
        results.append(
            {
                "metric_name": metric["metric_name"],
                "label": metric["label"],
                "owner": metric.get("owner"),
                "unit": metric.get("unit"),
                "direction": metric.get("direction"),
                "period_start": plain(row.get("period_start")),
                "status": row.get("status") or "none",
                "value": plain(row.get("value")),
                "warn_threshold": plain(metric.get("warn_threshold")),
                "breach_threshold": plain(metric.get("breach_threshold")),
                "periods_in_status": streak.get("periods"),
                "status_since": streak.get("since"),
                "flagged_periods": streak.get("flagged_periods"),
            }
        )
    results.sort(key=lambda g: (STATUS_ORDER.get(g["status"], 9), g["metric_name"]))
    return AlertReport(
        grain=grain,
        period_start=plain(latest["period_start"]),
        period_end=plain(latest["period_end"]),
        snapshot=snapshot,
        guardrails=results,
        north_star=_north_star(con, catalog, grain, latest["period_start"]),
    )


def _north_star(
    con: duckdb.DuckDBPyConnection, catalog: Catalog, grain: str, period_start: Any
) -> dict[str, Any] | None:
    metric = catalog.north_star()
    if metric is None:
        return None
    rows = read_latest(con, grain=grain, metrics=[metric["metric_name"]], up_to=period_start)
    row = rows[-1] if rows else {}
    return {
        "metric_name": metric["metric_name"],
        "label": metric["label"],
        "unit": metric.get("unit"),
        "direction": metric.get("direction"),
        "period_start": plain(row.get("period_start")),
        "value": plain(row.get("value")),
        "change_abs": plain(row.get("change_abs")),
        "change_pct": plain(row.get("change_pct")),
    }


def better(change: Any, direction: str | None) -> int | None:
    """+1 when a change is an improvement for a metric of this direction, -1 when it is a
    deterioration, 0 when flat, None when unknown."""
    change = number(change)
    if change is None:
        return None
    sign = (change > 0) - (change < 0)
    return -sign if direction == "lower_is_better" else sign


def _slack(text: str) -> str:
    """Slack reads &, < and > as markup in `text`; Teams shows the entities as the
    characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def summary_text(report: AlertReport) -> str:
    """A few plain lines for a chat message: the verdict, each guardrail in breach or at
    warning level with how long, and the North Star's move beside them."""
    if not report.guardrails:
        return "northstar: no guardrails are defined in the catalog."
    period = f"{report.grain} of {report.period_start}"
    flagged = [g for g in report.guardrails if g["status"] in FLAGGED]
    if report.breaches:
        verdict = f"{len(report.breaches)} guardrail(s) in breach"
        if report.warnings:
            verdict += f", {len(report.warnings)} at warning level"
    elif report.warnings:
        verdict = f"no guardrail in breach; {len(report.warnings)} at warning level"
    elif all(g["status"] == "none" for g in report.guardrails):
        verdict = f"no guardrail has a status at {report.grain} grain"
    else:
        verdict = "every guardrail within its thresholds"
    lines = [f"northstar, {period}: {verdict}."]
    for g in flagged:
        unit = g["unit"]
        threshold = g["breach_threshold"] if g["status"] == "breach" else g["warn_threshold"]
        lines.append(
            f"- {g['status'].upper()} {g['label']}: {fmt_value(g['value'], unit)} "
            f"({g['status']} at {fmt_value(threshold, unit)}), {streak_text(g, report.grain)}"
            + (f"; owner {g['owner']}" if g["owner"] else "")
        )
    nsm = report.north_star
    if nsm is not None and nsm["value"] is not None:
        change = fmt_change(nsm["change_abs"], nsm["change_pct"], nsm["unit"])
        move = f"{nsm['label']}: {fmt_value(nsm['value'], nsm['unit'])} ({change})"
        if report.breaches and better(nsm["change_abs"], nsm["direction"]) == 1:
            names = ", ".join(g["label"] for g in report.breaches)
            move = (
                f"North Star up while guardrails are in breach: {nsm['label']} "
                f"{fmt_value(nsm['value'], nsm['unit'])} ({change}) while {names} "
                f"{'is' if len(report.breaches) == 1 else 'are'} in breach. If guardrails "
                "flash red, pause optimisation."
            )
        lines.append(move)
    lines.append(f"Snapshot {report.snapshot.get('run_id') or '?'}.")
    return _slack("\n".join(lines))


def render_text(report: AlertReport) -> str:
    if not report.guardrails:
        return "no guardrails are defined in the catalog"
    lines = [
        f"Guardrails, {report.grain} of {report.period_start} "
        f"(latest complete {report.grain}; snapshot {report.snapshot.get('run_id') or '?'})"
    ]
    for g in report.guardrails:
        unit = g["unit"]
        direction = str(g["direction"] or "").replace("_", " ")
        lines.append(
            f"  {g['status'].upper():<6}  {g['metric_name']}  {fmt_value(g['value'], unit)}"
            f"  (warn {fmt_value(g['warn_threshold'], unit)}, "
            f"breach {fmt_value(g['breach_threshold'], unit)}, {direction or MISSING})"
            f"  owner {g['owner'] or MISSING}"
            + (
                f"  [{report.grain} of {g['period_start'] or 'none complete'}]"
                if g["period_start"] != report.period_start
                else ""
            )
        )
    if report.breaches:
        names = ", ".join(g["metric_name"] for g in report.breaches)
        lines.append(f"{len(report.breaches)} guardrail(s) in breach: {names}")
    else:
        lines.append("no guardrail in breach")
    return "\n".join(lines)


def should_notify(report: AlertReport, webhook_on: str) -> bool:
    if webhook_on == "always":
        return True
    if webhook_on == "warn":
        return bool(report.breaches or report.warnings)
    return bool(report.breaches)


def redact(url: str) -> str:
    """scheme://host[:port] only: webhook paths and queries often carry a secret token."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/..."


_HOST_LABEL = re.compile(r"^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")


def webhook_url_problem(url: str) -> str | None:
    """Why urllib could not send to `url` as given, or None.

    Everything urllib or the socket would refuse only after the report is computed (a
    space or control character, an unclosed IPv6 bracket, a port out of range, a host that
    is not a DNS name or an IP address, non-ASCII) is found here, so a typo is a usage
    error before anything runs and never turns a breach (exit 5) into a crash. An
    internationalized host must be given as punycode (xn--...) and a path percent-encoded,
    as HTTP sends them.
    """
    if not url.isascii() or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url):
        return "spaces, control or non-ASCII characters: percent-encode them"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises for a port that is not a number in 0..65535
        host = parts.hostname
    except ValueError as err:
        return str(err)
    if parts.scheme not in ("http", "https"):
        return "the scheme must be http or https"
    if not host:
        return "no host"
    if port == 0:
        return "port 0"
    if "[" in parts.netloc:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "the host is not an IPv6 address"
        return None
    labels = host.removesuffix(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
        return "the host is not a valid host name or IP address"
    return None


def check_webhook_url(url: str) -> str:
    problem = webhook_url_problem(url)
    if problem:
        raise InvalidInputError(
            f"--webhook: {shown(url)} is not an http(s) URL ({problem}); "
            "e.g. https://hooks.example.com/x"
        )
    return url


def post_webhook(url: str, payload: dict[str, Any], *, timeout: float = 10.0) -> int:
    """POST the payload as JSON; return the HTTP status, or raise WebhookError."""
    check_webhook_url(url)
    body = json.dumps(payload, sort_keys=True, default=plain).encode()
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked to be http(s) above)
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "northstar-alerts"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as err:
        raise WebhookError(f"webhook {redact(url)} answered HTTP {err.code}") from err
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", err)
        raise WebhookError(f"webhook {redact(url)} unreachable: {reason}") from err

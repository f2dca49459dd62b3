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
from northstar.query.formats import MISSING, fmt_value, plain

STATUS_ORDER = {"breach": 0, "warn": 1, "ok": 2, "none": 3}
WEBHOOK_ON = ("breach", "warn", "always")


@dataclass(frozen=True)
class AlertReport:
    grain: str
    period_start: str
    period_end: str
    snapshot: dict[str, Any]
    guardrails: list[dict[str, Any]] = field(repr=False)

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
            "snapshot": self.snapshot,
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
    results = []
    for metric in guardrails:
        row = rows.get(metric["metric_name"], {})
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
            }
        )
    results.sort(key=lambda g: (STATUS_ORDER.get(g["status"], 9), g["metric_name"]))
    return AlertReport(
        grain=grain,
        period_start=plain(latest["period_start"]),
        period_end=plain(latest["period_end"]),
        snapshot=snapshot,
        guardrails=results,
    )


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

"""The digest's "restated history": what a definition_version bump published in this
snapshot changed in the periods readers had already seen (the manifest's `restatements`,
northstar/publish/versions.py), at the digest's grain."""

from __future__ import annotations

from typing import Any

from northstar.query.catalog import Catalog
from northstar.query.formats import MISSING, fmt_change, fmt_value

# Periods shown per restated metric (the latest ones); the manifest holds them all.
SHOWN_PERIODS = 12


def restatements(manifest: dict[str, Any], catalog: Catalog, grain: str) -> list[dict[str, Any]]:
    metrics = {m["metric_name"]: m for m in catalog.metrics}
    found = []
    for entry in manifest.get("restatements") or []:
        metric = metrics.get(entry["metric_name"], {})
        unit = metric.get("unit")
        periods = [p for p in entry["periods"] if p["grain"] == grain]
        found.append(
            {
                "metric_name": entry["metric_name"],
                "label": metric.get("label") or entry["metric_name"],
                "from_version": entry["from_version"],
                "to_version": entry["to_version"],
                "changed_fields": entry["changed_fields"],
                "accepted_by": entry.get("accepted_by"),
                "largest_change_pct": entry["largest_change_pct"],
                "periods_restated": len(periods),
                "periods": [
                    {
                        **p,
                        "display": {
                            "old_value": fmt_value(p["old_value"], unit),
                            "new_value": fmt_value(p["new_value"], unit),
                            "change": fmt_change(p["change"], p["change_pct"], unit),
                        },
                    }
                    for p in periods[-SHOWN_PERIODS:]
                ],
            }
        )
    return found


def restatement_sentence(entry: dict[str, Any]) -> str:
    """ "Messages sent was redefined (version 1 -> 2: numerator.where) and its published
    history restated (largest change -80.8%; accepted: --accept-restatement). ..." """
    largest = entry["largest_change_pct"]
    size = "from or to nothing" if largest is None else f"{largest * 100:+.1f}%"
    changed = ", ".join(entry["changed_fields"]) or "no definition field"
    return (
        f"{entry['label']} was redefined (version {entry['from_version']} -> "
        f"{entry['to_version']}: {changed}) and its published history restated (largest "
        f"change {size}; accepted: {entry['accepted_by'] or MISSING}). The version "
        f"{entry['from_version']} values stay in fct_metric_values_history."
    )

"""What each endpoint answers, from one snapshot: the readers behind `northstar metrics`,
`query`, `explain`, `digest` and `alerts`, with their name checks, and nothing else.

Each function takes the request's Reading, its path parameters and its (already
screened) query parameters, and returns JSON-ready data, or HTML for the digest.
"""

from __future__ import annotations

from typing import Any

from northstar.errors import InvalidInputError
from northstar.latest import read_latest
from northstar.query.catalog import Catalog, catalog_payload, metric_card, shown
from northstar.query.explain import explain, explanation_payload
from northstar.query.formats import plain
from northstar.query.series import _one_of, parse_date, query_series, series_payload
from northstar.serve.params import flag
from northstar.serve.source import Reading

# The manifest's fields a client may see; the rest (the server's file paths, checksums)
# stays on the server.
SNAPSHOT_FIELDS = (
    "run_id",
    "published_at",
    "previous_run_id",
    "data_as_of",
    "validation",
    "validation_skipped",
    "manifest_version",
    "versions",
    "exports",
    "tables",
)
DIGEST_GRAINS = ("week", "month")
Params = dict[str, str]


def snapshot(reading: Reading, path: Params, params: Params) -> dict[str, Any]:
    manifest = reading.snapshot.manifest
    return {key: manifest.get(key) for key in SNAPSHOT_FIELDS}


def metrics(reading: Reading, path: Params, params: Params) -> dict[str, Any]:
    catalog = Catalog.load(reading.con)
    return {"snapshot": reading.run_id, "metrics": catalog_payload(reading.con, catalog)}


def metric(reading: Reading, path: Params, params: Params) -> dict[str, Any]:
    card = metric_card(reading.con, Catalog.load(reading.con), path["name"])
    return {"snapshot": reading.run_id, **card}


def series(reading: Reading, path: Params, params: Params) -> dict[str, Any]:
    # Checked here first so the messages name the parameters as the URL spells them.
    start, end = (parse_date(params.get(key), key) for key in ("from", "to"))
    if start and end and start > end:
        raise InvalidInputError(f"from {start} is after to {end}")
    found = query_series(
        reading.con,
        path["metric"],
        grain=params.get("grain", "week"),
        segment=params.get("segment"),
        date_from=params.get("from"),
        date_to=params.get("to"),
        complete_only=flag(params, "complete_only"),
    )
    return {"snapshot": reading.run_id, **series_payload(found)}


def latest(reading: Reading, path: Params, params: Params) -> dict[str, Any]:
    """Each metric's latest complete period of `grain` (the total), with its status."""
    grain = params.get("grain", "week")
    grains = [
        row[0]
        for row in reading.con.execute("select distinct grain from fct_metric_values").fetchall()
    ]
    _one_of("grain", grain, grains, "the snapshot")
    rows = read_latest(reading.con, grain=grain)
    return {
        "snapshot": reading.run_id,
        "grain": grain,
        "metrics": [{key: plain(value) for key, value in row.items()} for row in rows],
    }


def decomposition(reading: Reading, path: Params, params: Params) -> dict[str, Any]:
    found = explain(
        reading.con,
        params.get("metric"),
        grain=params.get("grain", "week"),
        period=params.get("period"),
    )
    return {"snapshot": reading.run_id, **explanation_payload(found)}


def digest(reading: Reading, path: Params, params: Params) -> str:
    from northstar.digest import build_digest, render_html

    grain = params.get("grain", "week")
    if grain not in DIGEST_GRAINS:
        raise InvalidInputError(f"grain: {shown(grain)} is not one of {', '.join(DIGEST_GRAINS)}")
    content = build_digest(
        reading.con,
        reading.snapshot.manifest,
        grain=grain,
        period=params.get("period"),
        owner=params.get("owner"),
    )
    return render_html(content)

"""Reading the published snapshot: the metric catalog and metric series."""

from northstar.query.catalog import Catalog, latest_values, metric_card, render_card, render_tree
from northstar.query.series import FORMATS, Series, query_series, render

__all__ = [
    "FORMATS",
    "Catalog",
    "Series",
    "latest_values",
    "metric_card",
    "query_series",
    "render",
    "render_card",
    "render_tree",
]

"""The public tables a snapshot carries (DESIGN.md, "The public contract")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PublicTable:
    name: str
    schema: str
    required: bool
    # None: in the warehouse. A table publish itself assembles (the history carried from
    # the previous snapshot, northstar/publish/versions.py) names the in-memory catalog
    # it was made in.
    catalog: str | None = None

    @property
    def source(self) -> str:
        return f"{self.schema}.{self.name}"


PUBLIC_TABLES: tuple[PublicTable, ...] = (
    PublicTable("dim_metrics", "marts", required=True),
    PublicTable("fct_metric_values", "marts", required=True),
    PublicTable("fct_aha_moments", "marts", required=True),
    # Optional so that a warehouse built before they existed still publishes.
    PublicTable("fct_north_star_decomposition", "marts", required=False),
    PublicTable("fct_north_star_movers", "marts", required=False),
    # Convenience views and quality tables: published when the build made them.
    PublicTable("rpt_north_star", "marts", required=False),
    PublicTable("rpt_metric_latest", "marts", required=False),
    PublicTable("rpt_aha_retention", "marts", required=False),
    PublicTable("rpt_aha_discovery", "marts", required=False),
    PublicTable("rpt_cohort_retention", "marts", required=False),
    PublicTable("rpt_stickiness", "marts", required=False),
    PublicTable("rpt_active_days_distribution", "marts", required=False),
    PublicTable("rpt_feature_adoption", "marts", required=False),
    # The backtest (docs/backtest.md): the cohort view, the scores and the leading rule.
    PublicTable("rpt_north_star_backtest", "marts", required=False),
    PublicTable("rpt_north_star_backtest_scores", "marts", required=False),
    PublicTable("rpt_north_star_backtest_candidates", "marts", required=False),
    PublicTable("fct_event_quality_daily", "marts", required=False),
    PublicTable("stg_events_rejected", "staging", required=False),
)

# Tables publish assembles itself, in its in-memory catalog, and publishes after the
# warehouse's: the history of superseded definitions, carried from snapshot to snapshot
# (northstar/publish/versions.py). No dbt model: dbt rebuilds the warehouse, and this
# history must outlive any rebuild. Columns: fct_metric_values' plus superseded_by_version
# and superseded_in_run_id.
HISTORY_TABLE = PublicTable("fct_metric_values_history", "main", required=False, catalog="memory")
ASSEMBLED_TABLES: tuple[PublicTable, ...] = (HISTORY_TABLE,)


def quote_identifier(name: str) -> str:
    """A DuckDB identifier. Only ever called on names from this module or the catalog
    of the warehouse itself, never on user input."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """A DuckDB string literal, for the few statements that take no bound parameters
    (ATTACH, COPY ... TO): file paths northstar itself chose."""
    return "'" + text.replace("'", "''") + "'"

"""northstar: a dbt-based semantic metrics layer for the North Star Metric framework."""

__version__ = "0.1.0"

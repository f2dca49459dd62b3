"""Deterministic demo data for a team-messaging SaaS (see docs/demo-data.md).

`generate_demo` writes raw events, accounts and users as Parquet, with planted truths (an aha
moment, a guardrail breach, an activation lift) and the defects of a real event feed.
"""

from northstar.demo.generator import DemoResult, generate_demo

__all__ = ["DemoResult", "generate_demo"]

"""The normalizer's kind tables (macros/spec/northstar_spec_metric.sql), for tests only.

Each table is a macro returning a dict literal keyed by kind (`northstar_spec_metric_kinds`,
`northstar_spec_measure_kinds`); its keys are read with Jinja's parser, no dbt run, so a
kind added as a row is seen here with nothing else to update.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from jinja2 import nodes

NORMALIZER = Path(__file__).resolve().parents[2] / "macros" / "spec" / "northstar_spec_metric.sql"


def table_keys(macro: str, path: Path = NORMALIZER) -> list[str]:
    """The keys of the dict the macro returns (`{{ return({...}) }}`), in order."""
    env = jinja2.Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
    tree = env.parse(path.read_text())
    (found,) = [node for node in tree.find_all(nodes.Macro) if node.name == macro]
    for call in found.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name) and call.node.name == "return":
            (table,) = call.args
            assert isinstance(table, nodes.Dict), f"{macro} returns no dict literal"
            return [pair.key.as_const() for pair in table.items]
    raise AssertionError(f"{macro} in {path} returns nothing")


def metric_kinds(path: Path = NORMALIZER) -> list[str]:
    return table_keys("northstar_spec_metric_kinds", path)


def measure_kinds(path: Path = NORMALIZER) -> list[str]:
    return table_keys("northstar_spec_measure_kinds", path)

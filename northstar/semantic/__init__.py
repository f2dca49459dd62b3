"""The MetricFlow semantic layer, generated from the North Star spec.

`plan` decides which spec metrics MetricFlow can compute faithfully (and why the others
cannot), `render` writes them as dbt 1.11 semantic YAML, `sync` writes or checks the
committed file. docs/semantic-layer.md describes the result.
"""

from northstar.semantic.sync import GENERATED_FILE, CheckResult, check, generate, write

__all__ = ["GENERATED_FILE", "CheckResult", "check", "generate", "write"]

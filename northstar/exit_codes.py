"""Exit codes a scheduler can act on. Documented in docs/cli.md#exit-codes."""

OK = 0
ERROR = 1  # unexpected error or bad configuration
USAGE = 2  # Click's own code for a bad command line
PIPELINE_FAILED = 3  # dbt build (models or dbt tests) failed
DATA_INVALID = 4  # an expectation suite failed: the data is wrong
GUARDRAIL_BREACHED = 5  # data is valid, but the product is unhealthy
NOT_FOUND = 6  # missing warehouse, snapshot, input file or metric

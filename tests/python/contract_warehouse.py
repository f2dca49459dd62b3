"""A small warehouse that follows the public table contract, for tests that must not wait
for a dbt build: three weekly periods of two metrics plus a guardrail, one entity table,
a rejected-events table. Tests corrupt copies of it to prove that checks really fail.

Also: the event tables behind the quality mart (stg_events, stg_events_duplicates,
fct_event_quality_daily, consistent with stg_events_rejected) over seven weeks, and
CONTRACT_SPEC, a North Star spec (dbt vars YAML) that describes exactly this warehouse, and
CONTRACT_NORMALIZED_SPEC, the same normalized; intermediate.int_reference_time, the clock
its build pinned (2026-10-01), and (on request) intermediate.int_northstar_spec, its
normalized spec.

The public tables are created from their dbt model contracts (models/marts/*/_*.yml: every
column, its data type) and filled by name, so a column the contract adds is here too (null
where the fixture has nothing to say); test_public_contract.py holds them to the manifest."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import duckdb
import yaml

from northstar.publish.tables import PUBLIC_TABLES

MARTS = Path(__file__).resolve().parents[2] / "models" / "marts"


@cache
def contract_columns(model: str) -> tuple[tuple[str, str], ...]:
    """(name, data_type) of every column of `model`'s enforced contract, in order."""
    for path in sorted(MARTS.glob("*/_*__models.yml")):
        for entry in yaml.safe_load(path.read_text()).get("models") or []:
            if entry["name"] == model:
                assert entry["config"]["contract"]["enforced"], f"{model}: contract not enforced"
                return tuple((c["name"], c["data_type"]) for c in entry["columns"])
    raise KeyError(f"no model contract for {model} under {MARTS}")


def create_from_contract(
    con: duckdb.DuckDBPyConnection, model: str, rows_sql: str, params: list | None = None
) -> None:
    """marts.<model> with exactly its contract's columns, filled by name from `rows_sql`."""
    columns = ", ".join(f"{name} {data_type}" for name, data_type in contract_columns(model))
    con.execute(f"create table marts.{model} ({columns})")
    con.execute(f"insert into marts.{model} by name {rows_sql}", params)


DIM_METRICS = """
select * from (values
    ('messages_sent', 'Messages sent', 'north_star', null, 'leadership', 'Messages.',
     'messages', 'higher_is_better', 100.0, null, null, '1', 'count', true, 1, 'fixed', null),
    ('activation_rate', 'Activation rate', 'input', 'messages_sent', 'onboarding', 'Share.',
     'ratio', 'higher_is_better', 0.6, null, null, '1', 'activation', false, 2, 'time_bound',
     date '2026-10-04'),
    ('churn_rate', 'Churn rate', 'guardrail', 'messages_sent', 'lifecycle', 'Share.',
     'ratio', 'lower_is_better', null, 0.2, 0.35, '1', 'churn', false, 3, null, null)
) as t(metric_name, label, role, parent_metric, owner, description, unit, direction,
       target, warn_threshold, breach_threshold, definition_version, kind, is_additive,
       sort_order, target_kind, target_deadline)
"""

# activation_rate's time-bound target (CONTRACT_SPEC): 40% on 2026-09-06 to 60% by
# 2026-10-04, read on each week's last day (a Sunday): +5 points a week.
ACTIVATION_PATH = {"2026-09-07": 0.45, "2026-09-14": 0.5, "2026-09-21": 0.55, "2026-09-28": 0.6}

# metric, period_start, value, numerator, denominator, status, complete
VALUES = [
    ("messages_sent", "2026-09-07", 90.0, 90.0, None, "none", True),
    ("messages_sent", "2026-09-14", 110.0, 110.0, None, "none", True),
    ("messages_sent", "2026-09-21", 120.0, 120.0, None, "none", True),
    ("messages_sent", "2026-09-28", 30.0, 30.0, None, "none", False),
    ("activation_rate", "2026-09-07", 0.5, 5.0, 10.0, "none", True),
    ("activation_rate", "2026-09-14", 0.4, 4.0, 10.0, "none", True),
    ("activation_rate", "2026-09-21", 0.6, 6.0, 10.0, "none", True),
    ("activation_rate", "2026-09-28", None, 0.0, 0.0, "none", False),
    ("churn_rate", "2026-09-07", 0.1, 1.0, 10.0, "ok", True),
    ("churn_rate", "2026-09-14", 0.25, 2.5, 10.0, "warn", True),
    ("churn_rate", "2026-09-21", 0.4, 4.0, 10.0, "breach", True),
    ("churn_rate", "2026-09-28", 0.1, 1.0, 10.0, "ok", False),
]


def make_contract_warehouse(path: Path, *, with_spec: bool = False) -> Path:
    """Write the fixture warehouse to `path` and return it. `with_spec`: record the spec
    it was built with (CONTRACT_NORMALIZED_SPEC), as a build does; without it, the gate
    checks the project's own suites against the project's spec, as for a warehouse built
    before builds recorded it (what tests that validate it with the project's suites for
    another reason need)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute("create schema staging")
        con.execute("create schema intermediate")
        # The clock a build pinned (northstar__as_of), which the gate's freshness reads.
        con.execute(
            "create table intermediate.int_reference_time as select "
            "timestamp '2026-10-01 00:00:00' as as_of_at, 'var' as as_of_source"
        )
        if with_spec:
            # The normalized spec the build used, which the gate checks the suites against.
            con.execute(
                "create table intermediate.int_northstar_spec as select ? as spec_json",
                [json.dumps(CONTRACT_NORMALIZED_SPEC)],
            )
        create_from_contract(con, "dim_metrics", DIM_METRICS)
        create_from_contract(con, "fct_metric_values", "select 1 as value where false")
        for metric, start, value, num, den, status, complete in VALUES:
            con.execute(
                """
                insert into marts.fct_metric_values by name
                select m.metric_name, m.role, 'week' as grain,
                    cast(? as date) as period_start, cast(? as date) + 7 as period_end,
                    'all' as segment_name, 'all' as segment_value, ? as value,
                    ? as numerator, ? as denominator, t.target, ? - t.target as gap_to_target,
                    m.target_kind, case when m.target_kind = 'time_bound' then m.target end
                        as target_goal,
                    m.target_deadline,
                    case when ? and ? is not null and t.target is not null then
                        case when m.direction = 'lower_is_better' then ? <= t.target
                            else ? >= t.target end
                    end as is_on_pace,
                    ? as status, ? as is_complete_period, m.definition_version
                from marts.dim_metrics as m,
                    (select coalesce(?, m2.target) as target
                     from marts.dim_metrics as m2 where m2.metric_name = ?) as t
                where m.metric_name = ?
                """,
                [
                    start,
                    start,
                    value,
                    num,
                    den,
                    value,
                    complete,
                    value,
                    value,
                    value,
                    status,
                    complete,
                    ACTIVATION_PATH.get(start) if metric == "activation_rate" else None,
                    metric,
                    metric,
                ],
            )
        con.execute(
            """
            update marts.fct_metric_values as f set
                previous_value = p.value,
                change_abs = case when f.is_complete_period then f.value - p.value end,
                change_pct = case when f.is_complete_period
                    then (f.value - p.value) / nullif(abs(p.value), 0) end
            from marts.fct_metric_values as p
            where p.metric_name = f.metric_name and p.period_start = f.period_start - 7
            """
        )
        create_from_contract(
            con,
            "fct_aha_moments",
            """
            select * from (values
                ('account', 'a1', timestamp '2026-09-01 10:00:00',
                 timestamp '2026-09-03 10:00:00', true, 2, 120),
                ('account', 'a2', timestamp '2026-09-02 10:00:00', null, false, null, 12)
            ) as t(entity_type, entity_id, first_seen_at, aha_reached_at, has_reached_aha,
                   days_to_aha, qualifying_events_in_window)
            """,
        )
        con.execute(
            """
            create table staging.stg_events_rejected as select * from (values
                ('raw-1', null, 'message_sent', 'missing_event_id')
            ) as t(raw_row_id, event_id, event_name, reject_reason)
            """
        )
        _add_event_tables(con)
        # What dbt's on-run-end hook records after a `dbt build` whose tests all passed
        # (macros/utils/northstar_tested_marts.sql): the gate publishes only such marts.
        con.execute(
            """
            create table marts._northstar_mart_checks as
            select table_name as model, event, 'fixture-build' as invocation_id,
                timestamp '2026-10-01 00:00:00' as recorded_at, seq
            from information_schema.tables,
                (values ('built', 1), ('tested', 2)) as e(event, seq)
            where table_name in (select unnest(?))
            """,
            [[table.name for table in PUBLIC_TABLES]],
        )
    finally:
        con.close()
    return path


# Seven weeks of days up to the incomplete week of the metric values: weekdays accept 20
# events, weekends 6; one duplicate every Monday; the rejected row above is on 2026-09-15.
EVENT_DAYS = ("2026-08-10", "2026-10-01")


def _add_event_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        create table marts.fct_event_quality_daily as
        with days as (
            select cast(day as date) as event_date
            from range(cast(? as date), cast(? as date) + 1, interval 1 day) as t(day)
        ),
        counted as (
            select
                event_date,
                case when isodow(event_date) >= 6 then 6 else 20 end as accepted_rows,
                case when isodow(event_date) = 1 then 1 else 0 end as duplicate_rows,
                case when event_date = date '2026-09-15' then 1 else 0 end as rejected_rows
            from days
        )
        select
            event_date,
            accepted_rows + duplicate_rows + rejected_rows as raw_rows,
            accepted_rows,
            duplicate_rows,
            rejected_rows,
            cast(rejected_rows as double) / (accepted_rows + duplicate_rows + rejected_rows)
                as reject_rate,
            cast(duplicate_rows as double) / (accepted_rows + duplicate_rows + rejected_rows)
                as duplicate_rate,
            true as is_reconciled
        from counted
        """,
        list(EVENT_DAYS),
    )
    for table, column in (
        ("stg_events", "accepted_rows"),
        ("stg_events_duplicates", "duplicate_rows"),
    ):
        con.execute(
            f"""
            create table staging.{table} as
            select
                'e-' || strftime(q.event_date, '%Y%m%d') || '-' || n.i as event_id,
                'a' || (n.i % 3) as account_id,
                'message_sent' as event_name,
                cast(q.event_date as timestamp) + interval 9 hour as occurred_at,
                q.event_date
            from marts.fct_event_quality_daily as q, range(q.{column}) as n(i)
            """
        )


CONTRACT_SPEC = """\
northstar:
  entity: account
  grains: [week]
  segments: []
  activity_events: [message_sent]
  events:
    message_sent: {}
  aha: {events: [message_sent], threshold: 100, window_days: 14}
  north_star:
    name: messages_sent
    label: Messages sent
    owner: leadership
    unit: messages
    kind: count
    events: [message_sent]
    targets: {week: 100}
  inputs:
    - {name: activation_rate, label: Activation rate, owner: onboarding, unit: ratio,
       kind: activation, within_days: 14,
       targets: [{baseline: {value: 0.4, date: "2026-09-06"},
                  goal: {value: 0.6, by: "2026-10-04"}}]}
  guardrails:
    - {name: churn_rate, label: Churn rate, owner: lifecycle, unit: ratio, kind: churn,
       direction: lower_is_better, warn: 0.2, breach: 0.35}
  outputs: []
northstar__validation:
  bands: fixed  # three weeks are too short a history to learn a band from
  nsm_max_abs_change_pct: 0.5
  nsm_change_grains: [week]
  volume_band: [0.5, 2.0]
  volume_history_weeks: 4
  freshness_max_age_days: 7
"""


# CONTRACT_SPEC as macros/spec/ normalizes it (northstar_spec_json): what a build of this
# warehouse records in intermediate.int_northstar_spec, and what its suites are generated
# from. Written out because dbt refuses CONTRACT_SPEC itself (one input, where a real spec
# needs 3 to 5; the fixture stays small): it is dbt's output for CONTRACT_SPEC with two
# more inputs, those two removed.
CONTRACT_NORMALIZED_SPEC = {
    "entity": "account",
    "entity_column": "account_id",
    "grains": ["week"],
    "primary_grain": "week",
    "segments": [],
    "activity_events": ["message_sent"],
    "events": {"message_sent": {}},
    "aha": {"events": ["message_sent"], "threshold": 100, "window_days": 14},
    "lint": {"ignore": [], "warnings": []},
    "metrics": [
        {
            "name": "messages_sent",
            "field": "northstar.north_star",
            "role": "north_star",
            "kind": "count",
            "label": "Messages sent",
            "description": "",
            "owner": "leadership",
            "unit": "messages",
            "definition_version": "1",
            "accept_restatement": None,
            "entity_value": "numerator",
            "reads_events": ["message_sent"],
            "summed_properties": [],
            "tree_depth": 0,
            "parent_metric": None,
            "numerator": {
                "kind": "count",
                "events": ["message_sent"],
                "property": None,
                "where": None,
            },
            "denominator": None,
            "direction": "higher_is_better",
            "warn": None,
            "breach": None,
            "status_grains": ["week"],
            "target_growth_rate": None,
            "targets": [
                {
                    "grain": "week",
                    "segment_name": "all",
                    "segment_value": "all",
                    "kind": "fixed",
                    "value": 100,
                    "baseline_value": None,
                    "baseline_date": None,
                    "goal_value": None,
                    "deadline": None,
                }
            ],
            "is_additive": True,
            "is_ratio": False,
            "has_numerator": True,
            "has_denominator": False,
            "may_be_negative": False,
            "completion_lag_days": 0,
            "sort_order": 1,
        },
        {
            "name": "activation_rate",
            "field": "northstar.inputs[0]",
            "role": "input",
            "kind": "activation",
            "label": "Activation rate",
            "description": "",
            "owner": "onboarding",
            "unit": "ratio",
            "definition_version": "1",
            "accept_restatement": None,
            "entity_value": None,
            "reads_events": ["message_sent"],
            "summed_properties": [],
            "tree_depth": 1,
            "parent_metric": "messages_sent",
            "numerator": None,
            "denominator": None,
            "within_days": 14,
            "direction": "higher_is_better",
            "warn": None,
            "breach": None,
            "status_grains": ["week"],
            "target_growth_rate": None,
            "targets": [
                {
                    "grain": "week",
                    "segment_name": "all",
                    "segment_value": "all",
                    "kind": "time_bound",
                    "value": None,
                    "baseline_value": 0.4,
                    "baseline_date": "2026-09-06",
                    "goal_value": 0.6,
                    "deadline": "2026-10-04",
                }
            ],
            "is_additive": False,
            "is_ratio": True,
            "has_numerator": True,
            "has_denominator": True,
            "may_be_negative": False,
            "completion_lag_days": 14,
            "sort_order": 2,
        },
        {
            "name": "churn_rate",
            "field": "northstar.guardrails[0]",
            "role": "guardrail",
            "kind": "churn",
            "label": "Churn rate",
            "description": "",
            "owner": "lifecycle",
            "unit": "ratio",
            "definition_version": "1",
            "accept_restatement": None,
            "entity_value": None,
            "reads_events": ["message_sent"],
            "summed_properties": [],
            "tree_depth": 1,
            "parent_metric": "messages_sent",
            "numerator": None,
            "denominator": None,
            "direction": "lower_is_better",
            "warn": 0.2,
            "breach": 0.35,
            "status_grains": ["week"],
            "target_growth_rate": None,
            "targets": [],
            "is_additive": False,
            "is_ratio": True,
            "has_numerator": True,
            "has_denominator": True,
            "may_be_negative": False,
            "completion_lag_days": 0,
            "sort_order": 3,
        },
    ],
}

"""Measure the planted truths on the clean events, exactly as the metric layer should find them.

These numbers are what later features must recover from the raw files (after staging removes
duplicates and rejects malformed rows, which are extra rows: the clean events are unchanged by
them). They are computed from the generated events, not from the model's intentions, so the
summary reports what is really in the data.
"""

from __future__ import annotations

from datetime import timedelta
from string import Template
from typing import Any

import duckdb

from northstar.demo import model

_CORE = "(" + ", ".join(str(model.EVENT_NAMES.index(n)) for n in model.CORE_EVENTS) + ")"

# The truths are measured on the events the feed has delivered (received before the end):
# what a correct staging layer can see. Generation runs in chunks of teams, so each chunk adds
# what it knows to accumulator tables (per team, or sums per week; p95 from a histogram of the
# integer latencies) and `measure` reads them: the same numbers for any chunk size.
ACCUMULATORS = """
create table if not exists truth_teams (
    team_idx integer, first_ms bigint, is_post_change boolean, window_complete boolean,
    week8_observable boolean, has_aha boolean, active_week8 boolean, converted boolean
);
create table if not exists truth_weeks (
    week timestamp, active_teams bigint, messages bigint, tickets bigint, unsubscribes bigint,
    nps_sum hugeint, nps_n bigint, api_n bigint, api_5xx bigint
);
create table if not exists truth_churn (week timestamp, prev_active bigint, churned bigint);
create table if not exists truth_latency (week timestamp, latency_ms bigint, n bigint);
"""

DELIVERED = """
create or replace temp view delivered as select * from ev where rec_ms < ${end_ms}
"""

PER_TEAM = """
insert into truth_teams
with first_seen as (
    select team_idx, min(ts_ms) as first_ms
    from delivered
    group by team_idx
),

per_team as (
    select
        f.team_idx,
        f.first_ms,
        f.first_ms >= ${change_ms} as is_post_change,
        f.first_ms + ${aha_days} * ${day_ms} <= ${end_ms} as window_complete,
        f.first_ms + (${week8_day} + 7) * ${day_ms} <= ${end_ms} as week8_observable,
        -- inclusive: first event + 14 * 24 h
        count(*) filter (
            where e.ec = 3 and e.ts_ms <= f.first_ms + ${aha_days} * ${day_ms}
        ) as messages_in_window,
        count(*) filter (
            where e.ec in ${core}
                and e.ts_ms >= f.first_ms + ${week8_day} * ${day_ms}
                and e.ts_ms < f.first_ms + (${week8_day} + 7) * ${day_ms}
        ) > 0 as active_week8,
        count(*) filter (where e.ec = 13) > 0 as converted
    from first_seen as f
    inner join delivered as e on f.team_idx = e.team_idx
    group by f.team_idx, f.first_ms
)

select
    team_idx,
    first_ms,
    is_post_change,
    window_complete,
    week8_observable,
    window_complete and messages_in_window >= ${aha_messages} as has_aha,
    active_week8,
    converted
from per_team
"""

WEEKLY_ACCUMULATE = """
create or replace temp table weekly_active as
select distinct date_trunc('week', epoch_ms(ts_ms)) as week, team_idx
from delivered
where ec in ${core};

insert into truth_weeks
with active as (
    select week, count(*) as active_teams
    from weekly_active
    group by week
),

events as (
    select
        date_trunc('week', epoch_ms(ts_ms)) as week,
        count(*) filter (where ec = 3) as messages,
        count(*) filter (where ec = 8) as tickets,
        count(*) filter (where ec = 9) as unsubscribes,
        sum(prop_num) filter (where ec = 11) as nps_sum,
        count(*) filter (where ec = 11) as nps_n,
        count(*) filter (where ec = 12) as api_n,
        count(*) filter (where ec = 12 and prop_status >= 500) as api_5xx
    from delivered
    group by week
)

select e.week, coalesce(a.active_teams, 0), e.messages, e.tickets, e.unsubscribes, e.nps_sum,
    e.nps_n, e.api_n, e.api_5xx
from events as e
left join active as a on e.week = a.week;

insert into truth_churn
select
    prev.week + interval 7 day as week,
    count(*) as prev_active,
    count(*) filter (where cur.team_idx is null) as churned
from weekly_active as prev
left join weekly_active as cur
    on prev.team_idx = cur.team_idx and cur.week = prev.week + interval 7 day
group by prev.week;

insert into truth_latency
select date_trunc('week', epoch_ms(ts_ms)) as week, prop_num, count(*)
from delivered
where ec = 12
group by all;

drop table weekly_active;
"""

WEEKLY = """
with weeks as (
    select
        week,
        sum(active_teams) as active_teams,
        sum(messages) as messages,
        sum(tickets) as tickets,
        sum(unsubscribes) as unsubscribes,
        sum(nps_sum) / nullif(sum(nps_n), 0) as mean_nps,
        sum(api_5xx) / nullif(sum(api_n), 0) as error_rate
    from truth_weeks
    group by week
),

churned as (
    select week, sum(churned) / sum(prev_active) as churn_rate
    from truth_churn
    group by week
),

latency as (
    select week, latency_ms, sum(n) as n
    from truth_latency
    group by all
),

positioned as (
    -- quantile_cont over the histogram: rows [below, below + n) hold this value
    select
        week,
        latency_ms,
        sum(n) over (partition by week order by latency_ms) - n as below,
        sum(n) over (partition by week order by latency_ms) as upto,
        (sum(n) over (partition by week) - 1)::double * 0.95 as pos
    from latency
),

p95 as (
    select
        week,
        any_value(latency_ms) filter (where floor(pos) >= below and floor(pos) < upto)
            as lo,
        any_value(latency_ms) filter (where ceil(pos) >= below and ceil(pos) < upto) as hi,
        any_value(pos) as pos
    from positioned
    group by week
)

select
    strftime(w.week, '%Y-%m-%d') as week,
    w.week + interval 7 day <= epoch_ms(${end_ms}) as is_complete,
    w.active_teams,
    w.messages,
    round(w.tickets / w.active_teams, 4) as tickets_per_active_team,
    round(p.lo + (p.pos - floor(p.pos)) * (p.hi - p.lo), 1) as p95_latency_ms,
    round(w.unsubscribes / w.active_teams, 4) as unsubscribes_per_active_team,
    round(w.mean_nps, 3) as mean_nps,
    round(w.error_rate, 5) as error_rate,
    round(c.churn_rate, 4) as churn_rate
from weeks as w
left join p95 as p on w.week = p.week
left join churned as c on w.week = c.week
where w.active_teams > 0
order by w.week
"""


SHARES = """
select
    count(*) filter (where window_complete),
    count(*) filter (where has_aha),
    count(*) filter (where week8_observable and has_aha),
    count(*) filter (where week8_observable and has_aha and active_week8),
    count(*) filter (where week8_observable and not has_aha),
    count(*) filter (where week8_observable and not has_aha and active_week8),
    count(*) filter (where window_complete and not is_post_change),
    count(*) filter (where has_aha and not is_post_change),
    count(*) filter (where window_complete and is_post_change),
    count(*) filter (where has_aha and is_post_change),
    count(*) filter (where week8_observable and has_aha and converted),
    count(*) filter (where week8_observable and not has_aha and converted)
from truth_teams
"""


def _share(numerator: int, denominator: int) -> dict[str, Any]:
    rate = round(numerator / denominator, 4) if denominator else None
    return {"rate": rate, "teams": denominator}


def _extreme(rows: list[dict[str, Any]], key: str, fn=max) -> float | None:
    values = [row[key] for row in rows if row[key] is not None]
    return fn(values) if values else None


def _subs(params: model.Params) -> dict[str, str]:
    return params.substitutions() | {"core": _CORE, "week8_day": str(model.WEEK8_START_DAY)}


def accumulate(con: duckdb.DuckDBPyConnection, params: model.Params) -> None:
    """Add the truths of the chunk of teams in table `ev` to the accumulator tables."""
    subs = _subs(params)
    con.execute(ACCUMULATORS)
    con.execute(Template(DELIVERED).substitute(subs))
    con.execute(Template(PER_TEAM).substitute(subs))
    con.execute(Template(WEEKLY_ACCUMULATE).substitute(subs))


def measure(con: duckdb.DuckDBPyConnection, params: model.Params) -> dict[str, Any]:
    """The planted truths of every accumulated chunk; JSON-serialisable."""
    subs = _subs(params)
    con.execute(ACCUMULATORS)
    (
        complete,
        aha,
        aha_obs,
        aha_obs_active,
        non_obs,
        non_obs_active,
        before,
        before_aha,
        after,
        after_aha,
        aha_obs_paid,
        non_obs_paid,
    ) = con.execute(SHARES).fetchone()
    result = con.execute(Template(WEEKLY).substitute(subs))
    columns = [d[0] for d in result.description]
    weekly = [dict(zip(columns, row, strict=True)) for row in result.fetchall()]
    breach_weeks = [
        (model.BREACH_START + timedelta(days=7 * i)).isoformat()
        for i in range((model.BREACH_END - model.BREACH_START).days // 7)
    ]
    complete_weeks = [w for w in weekly if w["is_complete"]]
    normal_weeks = [w for w in complete_weeks if w["week"] not in breach_weeks]

    return {
        "aha": {
            "definition": (
                f">= {model.AHA_MESSAGES} message_sent within {model.AHA_WINDOW_DAYS} days "
                "(inclusive) of the team's first event"
            ),
            **_share(aha, complete),
        },
        "week8_retention": {
            "definition": "a core event in [first event + 56 d, first event + 63 d)",
            "aha": _share(aha_obs_active, aha_obs),
            "non_aha": _share(non_obs_active, non_obs),
        },
        "activation": {
            "change_date": model.ACTIVATION_CHANGE_DATE.isoformat(),
            "before": _share(before_aha, before),
            "after": _share(after_aha, after),
        },
        "paid_conversion": {
            "aha": _share(aha_obs_paid, aha_obs),
            "non_aha": _share(non_obs_paid, non_obs),
        },
        "breach": {
            "weeks": breach_weeks,
            "in_breach_weeks": [
                {key: w[key] for key in ("week", "tickets_per_active_team", "p95_latency_ms")}
                for w in weekly
                if w["week"] in breach_weeks
            ],
            "other_weeks_max_tickets_per_active_team": _extreme(
                normal_weeks, "tickets_per_active_team"
            ),
            "other_weeks_max_p95_latency_ms": _extreme(normal_weeks, "p95_latency_ms"),
        },
        "healthy_complete_weeks": {
            "max_unsubscribes_per_active_team": _extreme(
                complete_weeks, "unsubscribes_per_active_team"
            ),
            "min_mean_nps": _extreme(complete_weeks, "mean_nps", min),
            "max_error_rate": _extreme(complete_weeks, "error_rate"),
            "max_churn_rate": _extreme(complete_weeks, "churn_rate"),
        },
        "weekly": weekly,
    }

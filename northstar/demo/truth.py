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

PER_TEAM = """
with first_seen as (
    select team_idx, min(ts_ms) as first_ms
    from ev
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
    inner join ev as e on f.team_idx = e.team_idx
    group by f.team_idx, f.first_ms
)

select
    *,
    window_complete and messages_in_window >= ${aha_messages} as has_aha
from per_team
"""

WEEKLY = """
with weekly_active as (
    select distinct date_trunc('week', epoch_ms(ts_ms)) as week, team_idx
    from ev
    where ec in ${core}
),

active as (
    select week, count(*) as active_teams
    from weekly_active
    group by week
),

churned as (
    select
        prev.week + interval 7 day as week,
        count(*) filter (where cur.team_idx is null) / count(*) as churn_rate
    from weekly_active as prev
    left join weekly_active as cur
        on prev.team_idx = cur.team_idx and cur.week = prev.week + interval 7 day
    group by prev.week
),

events as (
    select
        date_trunc('week', epoch_ms(ts_ms)) as week,
        count(*) filter (where ec = 3) as messages,
        count(*) filter (where ec = 8) as tickets,
        count(*) filter (where ec = 9) as unsubscribes,
        avg(prop_num) filter (where ec = 11) as mean_nps,
        quantile_cont(prop_num, 0.95) filter (where ec = 12) as p95_latency_ms,
        count(*) filter (where ec = 12 and prop_status >= 500)
            / count(*) filter (where ec = 12) as error_rate
    from ev
    group by week
)

select
    strftime(e.week, '%Y-%m-%d') as week,
    e.week + interval 7 day <= epoch_ms(${end_ms}) as is_complete,
    a.active_teams,
    e.messages,
    round(e.tickets / a.active_teams, 4) as tickets_per_active_team,
    round(e.p95_latency_ms, 1) as p95_latency_ms,
    round(e.unsubscribes / a.active_teams, 4) as unsubscribes_per_active_team,
    round(e.mean_nps, 3) as mean_nps,
    round(e.error_rate, 5) as error_rate,
    round(c.churn_rate, 4) as churn_rate
from events as e
inner join active as a on e.week = a.week
left join churned as c on e.week = c.week
order by e.week
"""


SHARES = """
with per_team as (${per_team})

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
from per_team
"""


def _share(numerator: int, denominator: int) -> dict[str, Any]:
    rate = round(numerator / denominator, 4) if denominator else None
    return {"rate": rate, "teams": denominator}


def _extreme(rows: list[dict[str, Any]], key: str, fn=max) -> float | None:
    values = [row[key] for row in rows if row[key] is not None]
    return fn(values) if values else None


def measure(con: duckdb.DuckDBPyConnection, params: model.Params) -> dict[str, Any]:
    """The planted truths as found in table `ev`; JSON-serialisable."""
    subs = params.substitutions() | {"core": _CORE, "week8_day": str(model.WEEK8_START_DAY)}
    per_team = Template(PER_TEAM).substitute(subs)
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
    ) = con.execute(Template(SHARES).substitute(per_team=per_team)).fetchone()

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

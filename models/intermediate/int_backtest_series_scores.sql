{#-
    The backtest's series scope (docs/backtest.md), one row per candidate, outcome and lag
    k: rho is Pearson's correlation of the candidate's period-over-period change (the mean
    level of the active entities) with the outcome's change k periods later (active
    entities, paying entities, revenue held); `pairs` is the number of periods, few, and
    `caveat` says how few next to the number.
-#}
{%- set spec = northstar_spec() -%}
{%- set backtest = spec.backtest -%}
{%- set double = northstar_type_double() -%}
{%- set string = dbt.type_string() -%}
{#- the outcome per period: expansion has no count of its own here -#}
{%- set series_outcomes = {
    'retention': 'active_entities', 'paid_conversion': 'paying_entities',
    'revenue': 'revenue_held',
} -%}

with

pairs as (

    select * from {{ ref('int_backtest_pairs') }}

),

grid as (

    select * from {{ ref('int_backtest_entity_periods') }}

),

candidate_series as (

    -- the mean level of the active entities per complete source period
    select
        candidate_name,
        period_index,
        avg(candidate_value) as level_mean

    from pairs

    where lag = 1

    group by 1, 2

),

outcome_series as (

    select
        period_index,
        sum(case when is_active then 1 else 0 end) as active_entities,
        sum(case when revenue_held > 0 then 1 else 0 end) as paying_entities,
        sum(revenue_held) as revenue_held

    from grid

    where is_complete_period

    group by 1

),

series_changes as (

    select
        candidate_series.candidate_name,
        candidate_series.period_index,
        candidate_series.level_mean - lag(candidate_series.level_mean) over (
            partition by candidate_series.candidate_name
            order by candidate_series.period_index
        ) as level_change

    from candidate_series

),

outcome_changes as (
    {%- for outcome in backtest.outcomes if outcome in series_outcomes %}
    select
        cast({{ northstar_literal(outcome) }} as {{ string }}) as outcome_name,
        period_index,
        cast({{ series_outcomes[outcome] }} as {{ double }})
        - lag(cast({{ series_outcomes[outcome] }} as {{ double }})) over (
            order by period_index
        ) as outcome_change

    from outcome_series
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

lags as (
    {%- for lag in range(1, backtest.max_lag + 1) %}
    select {{ lag }} as lag {{ 'union all' if not loop.last }}
    {%- endfor %}
),

series_scores as (

    select
        series_changes.candidate_name,
        outcome_changes.outcome_name,
        lags.lag,
        count(*) as pairs,
        case
            when
                min(series_changes.level_change) < max(series_changes.level_change)
                and min(outcome_changes.outcome_change) < max(outcome_changes.outcome_change)
                then corr(series_changes.level_change, outcome_changes.outcome_change)
        end as rho

    from series_changes

    cross join lags

    inner join outcome_changes
        on outcome_changes.period_index = series_changes.period_index + lags.lag

    where
        series_changes.level_change is not null
        and outcome_changes.outcome_change is not null

    group by 1, 2, 3

),

series_level as (

    select
        'series' as scope,
        'all' as window_name,
        candidate_name,
        outcome_name,
        lag,
        pairs,
        cast(null as {{ dbt.type_bigint() }}) as excluded_pairs,
        rho,
        {{ northstar_fisher_bound('rho', 'pairs', -1, 1) }} as ci_low,
        {{ northstar_fisher_bound('rho', 'pairs', 1, 1) }} as ci_high,
        cast(null as {{ dbt.type_bigint() }}) as top_pairs,
        cast(null as {{ dbt.type_bigint() }}) as bottom_pairs,
        cast(null as {{ double }}) as top_mean,
        cast(null as {{ double }}) as bottom_mean,
        cast(null as {{ double }}) as lift,
        cast(null as {{ double }}) as lift_ci_low,
        cast(null as {{ double }}) as lift_ci_high,
        'only ' || cast(pairs as {{ string }})
        || ' periods of changes: a correlation within +-'
        || cast(cast(1.96 / sqrt(greatest(pairs, 1)) as decimal(4, 2)) as {{ string }})
        || ' is what chance alone gives at 95%' as caveat

    from series_scores

),


final as (

    select * from series_level

)

select * from final

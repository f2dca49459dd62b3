{#-
    The backtest's pairs: one row per candidate, lag k (1..backtest.max_lag), entity and
    source period in which the entity was active (a complete period of the primary grain),
    with the candidate's level then and the outcomes k periods later:

      retained         active in period p + k (1/0)
      paid_conversion  not paying at the end of p, paying at the end of p + k (1/0); null
                       when it already paid at p (it cannot convert)
      expansion        paying at the end of p, more revenue held at the end of p + k (1/0);
                       null when it did not pay at p
      revenue          revenue held at the end of p + k (MRR)

    `is_observable` is false when period p + k has not ended (or lies past the spine): those
    pairs carry no outcome, and the scores count them as excluded. A null candidate level
    (a ratio over 0) is left out.

    Incremental on DuckDB (northstar_backtest_pair_keys): a pair reads the entity's grid
    rows in p and p + k, so a run rewrites every source period from max_lag before the
    first period its loads touched (the revenue held is a running total, and an entity
    whose first-seen period moved has a touched day at or before it), and from max_lag
    before the last period complete at both runs (the reference time completes periods:
    new sources, outcomes now observable). A moved first period of the spine renumbers
    period_index: every pair.
-#}
{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_incremental_pre_hook('period_start', 'backtest_periods') }}",
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
-- depends_on: {{ ref('int_period_spine') }}
{%- set spec = northstar_spec() -%}
{%- set double = northstar_type_double() -%}
{%- set string = dbt.type_string() -%}
{%- set plan = northstar_incremental_plan() -%}
{%- set keys = northstar_backtest_pair_keys(plan) %}

with

grid as (

    select * from {{ ref('int_backtest_entity_periods') }}

),

written as (

    select * from grid
    where {{ northstar_backtest_pair_filter(plan, keys, 'period_start') }}

),

lags as (
    {%- for lag in range(1, spec.backtest.max_lag + 1) %}
    select {{ lag }} as lag {{ 'union all' if not loop.last }}
    {%- endfor %}
),

sources as (
    {%- if not spec.candidates %}
    -- no candidate has a value per entity: no pairs
    select
        cast(null as {{ string }}) as candidate_name,
        entity_id,
        period_start,
        period_index,
        revenue_held,
        cast(null as {{ double }}) as candidate_value
    from written
    where 1 = 0
    {%- endif %}
    {%- for candidate in spec.candidates %}
    select
        cast({{ northstar_literal(candidate.name) }} as {{ string }}) as candidate_name,
        entity_id,
        period_start,
        period_index,
        revenue_held,
        {{ candidate.name }}__value as candidate_value

    from written

    where
        is_active
        and is_complete_period
        and {{ candidate.name }}__value is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

paired as (

    select
        sources.candidate_name,
        lags.lag,
        sources.entity_id,
        sources.period_start,
        sources.period_index,
        sources.candidate_value,
        sources.revenue_held as revenue_before,
        later.revenue_held as revenue_after,
        later.is_active as is_active_later,
        coalesce(later.is_complete_period, false) as is_observable

    from sources

    cross join lags

    -- a later period is after the source: within the periods written
    left join written as later
        on
            sources.entity_id = later.entity_id
            and later.period_index = sources.period_index + lags.lag

),

final as (

    select
        candidate_name,
        lag,
        entity_id,
        period_start,
        period_index,
        candidate_value,
        is_observable,
        case
            when not is_observable then null
            when is_active_later then 1 else 0
        end as retained,
        case
            when not is_observable or revenue_before is null or revenue_before > 0 then null
            when revenue_after > 0 then 1 else 0
        end as paid_conversion,
        case
            when not is_observable or revenue_before is null or revenue_before <= 0 then null
            when revenue_after > revenue_before then 1 else 0
        end as expansion,
        case
            when is_observable then cast(revenue_after as {{ double }})
        end as revenue

    from paired

)

select * from final

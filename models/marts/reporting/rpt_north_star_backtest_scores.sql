{#-
    Does the North Star (and each candidate) lead? One row per scope (entity, series),
    window, candidate, outcome and lag k (docs/backtest.md): the entity scope of
    int_backtest_entity_scores (rank correlation of the entity's level with its outcome k
    periods later, Fisher z interval, top vs bottom quantile lift) and the series scope of
    int_backtest_series_scores (correlation of period-over-period changes, with its caveat).
-#}
{%- set spec = northstar_spec() -%}
{%- set double = northstar_type_double() -%}
{%- set north_star = spec.metrics[0].name -%}

with

entity_scope as (

    select * from {{ ref('int_backtest_entity_scores') }}

),

series_scope as (

    select * from {{ ref('int_backtest_series_scores') }}

),

unioned as (

    select * from entity_scope
    union all
    select * from series_scope

),

final as (

    select
        scope,
        window_name,
        candidate_name,
        candidate_name = {{ northstar_literal(north_star) }} as is_north_star,
        outcome_name,
        cast(lag as {{ dbt.type_int() }}) as lag,
        cast(pairs as {{ dbt.type_bigint() }}) as pairs,
        cast(excluded_pairs as {{ dbt.type_bigint() }}) as excluded_pairs,
        cast(rho as {{ double }}) as rho,
        cast(ci_low as {{ double }}) as ci_low,
        cast(ci_high as {{ double }}) as ci_high,
        cast(top_pairs as {{ dbt.type_bigint() }}) as top_pairs,
        cast(bottom_pairs as {{ dbt.type_bigint() }}) as bottom_pairs,
        cast(top_mean as {{ double }}) as top_mean,
        cast(bottom_mean as {{ double }}) as bottom_mean,
        cast(lift as {{ double }}) as lift,
        cast(lift_ci_low as {{ double }}) as lift_ci_low,
        cast(lift_ci_high as {{ double }}) as lift_ci_high,
        caveat

    from unioned

)

select * from final

{#-
    The cohort view of the backtest (docs/backtest.md): "do entities with a higher North
    Star churn less and spend more?" One row per candidate, lag k and quantile of the level
    (1 = lowest; quantiles taken within each source period, ties kept together), over the
    pairs whose outcome is observable: how many, the level's range, and k periods later the
    share still active (and churned), the share paying and the mean revenue held.
-#}
{%- set spec = northstar_spec() -%}
{%- set quantiles = spec.backtest.quantiles -%}
{%- set double = northstar_type_double() -%}
{%- set north_star = spec.metrics[0].name -%}

with

pairs as (

    select * from {{ ref('int_backtest_pairs') }}
    where is_observable

),

ranked as (

    select
        *,
        count(*) over (partition by candidate_name, lag, period_index) as period_pairs,
        rank() over (
            partition by candidate_name, lag, period_index order by candidate_value
        ) + (count(*) over (
            partition by candidate_name, lag, period_index, candidate_value
        ) - 1) / 2.0 as level_rank

    from pairs

),

quantiled as (

    select
        *,
        floor((level_rank - 0.5) * {{ quantiles }} / period_pairs) + 1 as quantile

    from ranked

),

final as (

    select
        candidate_name,
        candidate_name = {{ northstar_literal(north_star) }} as is_north_star,
        cast(lag as {{ dbt.type_int() }}) as lag,
        cast(quantile as {{ dbt.type_int() }}) as quantile,
        cast(count(*) as {{ dbt.type_bigint() }}) as pairs,
        cast(count(distinct entity_id) as {{ dbt.type_bigint() }}) as entities,
        cast(min(candidate_value) as {{ double }}) as level_min,
        cast(max(candidate_value) as {{ double }}) as level_max,
        avg(cast(candidate_value as {{ double }})) as level_mean,
        avg(cast(retained as {{ double }})) as retained_share,
        1 - avg(cast(retained as {{ double }})) as churned_share,
        avg(case when revenue > 0 then 1.0 when revenue is not null then 0.0 end)
            as paying_share,
        cast(avg(revenue) as {{ double }}) as mean_revenue

    from quantiled

    group by 1, 2, 3, 4

)

select * from final

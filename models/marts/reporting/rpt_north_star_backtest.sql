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

-- average ranks within a period from counts of equal levels, as in the scores
level_counts as (

    select
        candidate_name,
        lag,
        period_index,
        candidate_value,
        count(*) as equal_pairs

    from pairs

    group by 1, 2, 3, 4

),

level_ranks as (

    select
        *,
        sum(equal_pairs) over (
            partition by candidate_name, lag, period_index
            order by candidate_value
            rows between unbounded preceding and current row
        ) - equal_pairs as pairs_below,
        sum(equal_pairs) over (partition by candidate_name, lag, period_index) as period_pairs

    from level_counts

),

quantiled as (

    select
        pairs.*,
        {{ northstar_rank_quantile('level_ranks', quantiles) }} as quantile

    from pairs

    inner join level_ranks
        on
            pairs.candidate_name = level_ranks.candidate_name
            and pairs.lag = level_ranks.lag
            and pairs.period_index = level_ranks.period_index
            and pairs.candidate_value = level_ranks.candidate_value

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
        avg(
            case
                when revenue > 0 then cast(1 as {{ double }})
                when revenue is not null then cast(0 as {{ double }})
            end
        ) as paying_share,
        cast(avg(revenue) as {{ double }}) as mean_revenue

    from quantiled

    group by 1, 2, 3, 4

)

select * from final

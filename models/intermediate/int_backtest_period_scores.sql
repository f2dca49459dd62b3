{#-
    The backtest's entity scope per source period, one row per candidate, outcome, lag k
    and source period of int_backtest_pairs: the sums that int_backtest_entity_scores pools
    into its correlations and lifts. Levels and outcomes are ranked within their period
    (average ranks for ties, scaled to (0, 1)), so a period's row reads only its own pairs:

      observed_pairs, excluded_pairs      pairs whose outcome is observable, and not yet
      level_sum, outcome_sum, level_outcome_sum, level_square_sum, outcome_square_sum
                                          sums of the scores less 0.5 (centred, so the pooled
                                          covariance keeps its precision), their products
                                          and squares
      level_min ... outcome_max           the scores' range (a constant side has no rho)
      top_pairs, bottom_pairs, top_total, bottom_total    the top and bottom quantile's
                                          pairs and outcome totals

    Incremental on DuckDB: a run rewrites the source periods int_backtest_pairs rewrites
    (northstar_backtest_pair_keys), reading their pairs only.
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
{%- set backtest = spec.backtest -%}
{%- set quantiles = backtest.quantiles -%}
{%- set double = northstar_type_double() -%}
{%- set string = dbt.type_string() -%}
{%- set columns = {
    'retention': 'retained', 'paid_conversion': 'paid_conversion',
    'expansion': 'expansion', 'revenue': 'revenue',
} -%}
{%- set plan = northstar_incremental_plan() -%}
{%- set keys = northstar_backtest_pair_keys(plan) %}

with

pairs as (

    select * from {{ ref('int_backtest_pairs') }}
    where {{ northstar_backtest_pair_filter(plan, keys, 'period_start') }}

),

outcome_rows as (
    {%- for outcome in backtest.outcomes %}
    select
        candidate_name,
        lag,
        period_start,
        period_index,
        is_observable,
        cast({{ northstar_literal(outcome) }} as {{ string }}) as outcome_name,
        cast(candidate_value as {{ double }}) as candidate_value,
        cast({{ columns[outcome] }} as {{ double }}) as outcome_value

    from pairs
    {%- if outcome != 'retention' %}

    -- not eligible for the outcome (already paying, or not paying): no pair at all
    where not is_observable or {{ columns[outcome] }} is not null
    {%- endif %}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

excluded as (

    select
        candidate_name,
        outcome_name,
        lag,
        period_start,
        period_index,
        sum(case when is_observable then 0 else 1 end) as excluded_pairs

    from outcome_rows

    group by 1, 2, 3, 4, 5

),

observed as (

    select * from outcome_rows
    where is_observable

),

-- Average ranks within a period from counts of equal values (a running sum over the
-- distinct values, not a sort of every pair): rank = below + (equal + 1) / 2.
level_counts as (

    select
        candidate_name,
        outcome_name,
        lag,
        period_index,
        candidate_value,
        count(*) as equal_pairs

    from observed

    group by 1, 2, 3, 4, 5

),

level_ranks as (

    select
        *,
        sum(equal_pairs) over (
            partition by candidate_name, outcome_name, lag, period_index
            order by candidate_value
            rows between unbounded preceding and current row
        ) - equal_pairs as pairs_below,
        sum(equal_pairs) over (
            partition by candidate_name, outcome_name, lag, period_index
        ) as period_pairs

    from level_counts

),

outcome_counts as (

    select
        candidate_name,
        outcome_name,
        lag,
        period_index,
        outcome_value,
        count(*) as equal_pairs

    from observed

    group by 1, 2, 3, 4, 5

),

outcome_ranks as (

    select
        *,
        sum(equal_pairs) over (
            partition by candidate_name, outcome_name, lag, period_index
            order by outcome_value
            rows between unbounded preceding and current row
        ) - equal_pairs as pairs_below

    from outcome_counts

),

quantiled as (

    -- scores in (0, 1): (average rank - 0.5) / pairs of the period; as doubles, so that
    -- their products keep their precision where a quotient is a decimal (Spark, Postgres)
    select
        observed.candidate_name,
        observed.outcome_name,
        observed.lag,
        observed.period_index,
        observed.outcome_value,
        cast(
            (level_ranks.pairs_below + level_ranks.equal_pairs / 2.0)
            / level_ranks.period_pairs as {{ double }}
        ) as level_score,
        cast(
            (outcome_ranks.pairs_below + outcome_ranks.equal_pairs / 2.0)
            / level_ranks.period_pairs as {{ double }}
        ) as outcome_score,
        {{ northstar_rank_quantile('level_ranks', quantiles) }} as quantile

    from observed

    inner join level_ranks
        on
            observed.candidate_name = level_ranks.candidate_name
            and observed.outcome_name = level_ranks.outcome_name
            and observed.lag = level_ranks.lag
            and observed.period_index = level_ranks.period_index
            and observed.candidate_value = level_ranks.candidate_value

    inner join outcome_ranks
        on
            observed.candidate_name = outcome_ranks.candidate_name
            and observed.outcome_name = outcome_ranks.outcome_name
            and observed.lag = outcome_ranks.lag
            and observed.period_index = outcome_ranks.period_index
            and observed.outcome_value = outcome_ranks.outcome_value

),

period_sums as (

    select
        candidate_name,
        outcome_name,
        lag,
        period_index,
        count(*) as observed_pairs,
        sum(level_score - 0.5) as level_sum,
        sum(outcome_score - 0.5) as outcome_sum,
        sum((level_score - 0.5) * (outcome_score - 0.5)) as level_outcome_sum,
        sum((level_score - 0.5) * (level_score - 0.5)) as level_square_sum,
        sum((outcome_score - 0.5) * (outcome_score - 0.5)) as outcome_square_sum,
        min(level_score) as level_min,
        max(level_score) as level_max,
        min(outcome_score) as outcome_min,
        max(outcome_score) as outcome_max,
        sum(case when quantile = {{ quantiles }} then 1 else 0 end) as top_pairs,
        sum(case when quantile = 1 then 1 else 0 end) as bottom_pairs,
        sum(case when quantile = {{ quantiles }} then outcome_value else 0 end) as top_total,
        sum(case when quantile = 1 then outcome_value else 0 end) as bottom_total

    from quantiled

    group by 1, 2, 3, 4

),

final as (

    select
        excluded.candidate_name,
        excluded.outcome_name,
        excluded.lag,
        excluded.period_start,
        excluded.period_index,
        coalesce(period_sums.observed_pairs, 0) as observed_pairs,
        excluded.excluded_pairs,
        cast(period_sums.level_sum as {{ double }}) as level_sum,
        cast(period_sums.outcome_sum as {{ double }}) as outcome_sum,
        cast(period_sums.level_outcome_sum as {{ double }}) as level_outcome_sum,
        cast(period_sums.level_square_sum as {{ double }}) as level_square_sum,
        cast(period_sums.outcome_square_sum as {{ double }}) as outcome_square_sum,
        cast(period_sums.level_min as {{ double }}) as level_min,
        cast(period_sums.level_max as {{ double }}) as level_max,
        cast(period_sums.outcome_min as {{ double }}) as outcome_min,
        cast(period_sums.outcome_max as {{ double }}) as outcome_max,
        coalesce(period_sums.top_pairs, 0) as top_pairs,
        coalesce(period_sums.bottom_pairs, 0) as bottom_pairs,
        coalesce(period_sums.top_total, 0) as top_total,
        coalesce(period_sums.bottom_total, 0) as bottom_total

    from excluded

    left join period_sums
        on
            excluded.candidate_name = period_sums.candidate_name
            and excluded.outcome_name = period_sums.outcome_name
            and excluded.lag = period_sums.lag
            and excluded.period_index = period_sums.period_index

)

select * from final

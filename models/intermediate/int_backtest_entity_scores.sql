{#-
    The backtest's entity scope (docs/backtest.md), one row per window, candidate, outcome
    and lag k, over the pairs (entity level in period p, outcome at p + k) of
    int_backtest_pairs:

      rho              Spearman's rank correlation, ranks taken within each source period
                       (average ranks for ties, scaled to (0, 1)) and pooled, so a growing
                       product does not correlate with itself through time
      ci_low, ci_high  analytic 95% interval by Fisher's z, se sqrt(1.06 / (n - 3)); the
                       entity-periods of one entity are not independent, so it is optimistic
      top_mean, bottom_mean, lift   the outcome in the top and bottom quantile of the level
                       (within each period) and their ratio, with a 95% log rate-ratio
                       interval for the 0/1 outcomes
      window_name      `all`: every source period; `recent`: the last
                       backtest.recent_periods source periods whose outcome is observable
-#}
{%- set spec = northstar_spec() -%}
{%- set backtest = spec.backtest -%}
{%- set quantiles = backtest.quantiles -%}
{%- set double = northstar_type_double() -%}
{%- set string = dbt.type_string() -%}
{%- set columns = {
    'retention': 'retained', 'paid_conversion': 'paid_conversion',
    'expansion': 'expansion', 'revenue': 'revenue',
} -%}
{%- set binary = ['retention', 'paid_conversion', 'expansion'] -%}

with

pairs as (

    select * from {{ ref('int_backtest_pairs') }}

),

outcome_rows as (
    {%- for outcome in backtest.outcomes %}
    select
        candidate_name,
        lag,
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
        sum(case when is_observable then 0 else 1 end) as excluded_pairs

    from outcome_rows

    group by 1, 2, 3

),

observed as (

    select
        *,
        max(period_index) over (partition by candidate_name, outcome_name, lag) as last_index

    from outcome_rows

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

    -- scores in (0, 1): (average rank - 0.5) / pairs of the period
    select
        observed.candidate_name,
        observed.outcome_name,
        observed.lag,
        observed.outcome_value,
        observed.period_index > observed.last_index - {{ backtest.recent_periods }}
            as is_recent,
        (level_ranks.pairs_below + level_ranks.equal_pairs / 2.0)
        / level_ranks.period_pairs as level_score,
        (outcome_ranks.pairs_below + outcome_ranks.equal_pairs / 2.0)
        / level_ranks.period_pairs as outcome_score,
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

windowed as (

    -- `recent`: the last recent_periods source periods (ranks stay those of the period)
    select
        'all' as window_name,
        quantiled.*
    from quantiled
    union all
    select
        'recent' as window_name,
        quantiled.*
    from quantiled
    where is_recent

),

entity_scores as (

    select
        window_name,
        candidate_name,
        outcome_name,
        lag,
        count(*) as pairs,
        -- no correlation when either side is constant (corr would give NaN or null)
        case
            when min(level_score) < max(level_score) and min(outcome_score) < max(outcome_score)
                then corr(level_score, outcome_score)
        end as rho,
        sum(case when quantile = {{ quantiles }} then 1 else 0 end) as top_pairs,
        sum(case when quantile = 1 then 1 else 0 end) as bottom_pairs,
        sum(case when quantile = {{ quantiles }} then outcome_value else 0 end) as top_total,
        sum(case when quantile = 1 then outcome_value else 0 end) as bottom_total

    from windowed

    group by 1, 2, 3, 4

),

entity_level as (

    select
        'entity' as scope,
        entity_scores.window_name,
        entity_scores.candidate_name,
        entity_scores.outcome_name,
        entity_scores.lag,
        entity_scores.pairs,
        excluded.excluded_pairs,
        entity_scores.rho,
        {{ northstar_fisher_bound('entity_scores.rho', 'entity_scores.pairs', -1, 1.06) }}
            as ci_low,
        {{ northstar_fisher_bound('entity_scores.rho', 'entity_scores.pairs', 1, 1.06) }}
            as ci_high,
        entity_scores.top_pairs,
        entity_scores.bottom_pairs,
        {{ northstar_divide('entity_scores.top_total', 'entity_scores.top_pairs') }} as top_mean,
        {{ northstar_divide('entity_scores.bottom_total', 'entity_scores.bottom_pairs') }}
            as bottom_mean,
        case
            when entity_scores.top_pairs > 0 and entity_scores.bottom_pairs > 0
                then {{ northstar_divide(
                    '(entity_scores.top_total * 1.0 / entity_scores.top_pairs)',
                    '(entity_scores.bottom_total * 1.0 / entity_scores.bottom_pairs)'
                ) }}
        end as lift,
        case
            when entity_scores.outcome_name in ({{ "'" ~ binary | join("', '") ~ "'" }})
                then {{ northstar_rate_ratio_bound(
                    'entity_scores.top_total', 'entity_scores.top_pairs',
                    'entity_scores.bottom_total', 'entity_scores.bottom_pairs', -1) }}
        end as lift_ci_low,
        case
            when entity_scores.outcome_name in ({{ "'" ~ binary | join("', '") ~ "'" }})
                then {{ northstar_rate_ratio_bound(
                    'entity_scores.top_total', 'entity_scores.top_pairs',
                    'entity_scores.bottom_total', 'entity_scores.bottom_pairs', 1) }}
        end as lift_ci_high,
        cast(null as {{ string }}) as caveat

    from entity_scores

    inner join excluded
        on
            entity_scores.candidate_name = excluded.candidate_name
            and entity_scores.outcome_name = excluded.outcome_name
            and entity_scores.lag = excluded.lag

),


final as (

    select * from entity_level

)

select * from final

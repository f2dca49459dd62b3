{#-
    The backtest's entity scope (docs/backtest.md), one row per window, candidate, outcome
    and lag k, over the pairs (entity level in period p, outcome at p + k) of
    int_backtest_pairs, pooled from the per-period sums of int_backtest_period_scores:

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

    rho is the Pearson correlation of the scores, from their pooled sums (centred on 0.5):
    (Sxy - Sx Sy / n) / sqrt((Sxx - Sx^2 / n) (Syy - Sy^2 / n)). A table: it reads one row per
    candidate, outcome, lag and period, the ranking being done per period, incrementally,
    in int_backtest_period_scores.
-#}
{%- set spec = northstar_spec() -%}
{%- set backtest = spec.backtest -%}
{%- set quantiles = backtest.quantiles -%}
{%- set double = northstar_type_double() -%}
{%- set string = dbt.type_string() -%}
{%- set binary = ['retention', 'paid_conversion', 'expansion'] -%}

with

periods as (

    select * from {{ ref('int_backtest_period_scores') }}

),

excluded as (

    select
        candidate_name,
        outcome_name,
        lag,
        sum(excluded_pairs) as excluded_pairs

    from periods

    group by 1, 2, 3

),

observed as (

    select
        *,
        max(period_index) over (partition by candidate_name, outcome_name, lag) as last_index

    from periods

    where observed_pairs > 0

),

windowed as (

    -- `recent`: the last recent_periods source periods (ranks stay those of the period)
    select
        'all' as window_name,
        observed.*
    from observed
    union all
    select
        'recent' as window_name,
        observed.*
    from observed
    where period_index > last_index - {{ backtest.recent_periods }}

),

pooled as (

    select
        window_name,
        candidate_name,
        outcome_name,
        lag,
        sum(observed_pairs) as pairs,
        sum(level_sum) as level_sum,
        sum(outcome_sum) as outcome_sum,
        sum(level_outcome_sum) as level_outcome_sum,
        sum(level_square_sum) as level_square_sum,
        sum(outcome_square_sum) as outcome_square_sum,
        min(level_min) as level_min,
        max(level_max) as level_max,
        min(outcome_min) as outcome_min,
        max(outcome_max) as outcome_max,
        sum(top_pairs) as top_pairs,
        sum(bottom_pairs) as bottom_pairs,
        sum(top_total) as top_total,
        sum(bottom_total) as bottom_total

    from windowed

    group by 1, 2, 3, 4

),

entity_scores as (

    select
        window_name,
        candidate_name,
        outcome_name,
        lag,
        pairs,
        top_pairs,
        bottom_pairs,
        top_total,
        bottom_total,
        -- no correlation when either side is constant; within [-1, 1] whatever the rounding
        case
            when level_min < level_max and outcome_min < outcome_max
                then greatest(
                    -1.0,
                    least(
                        1.0,
                        (level_outcome_sum - level_sum * outcome_sum / pairs)
                        / sqrt(
                            (level_square_sum - level_sum * level_sum / pairs)
                            * (outcome_square_sum - outcome_sum * outcome_sum / pairs)
                        )
                    )
                )
        end as rho

    from pooled

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

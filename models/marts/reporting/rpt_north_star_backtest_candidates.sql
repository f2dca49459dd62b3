{#-
    The leading rule (docs/backtest.md), one row per candidate (the North Star first):
    read at the lag k whose entity-level retention correlation has the highest lower 95%
    bound (on a tie, the shorter lag), over every source period (`all`):

      leading      ci_low > 0, rho >= backtest.min_rank_correlation and lift > 1
      weak         ci_low > 0 otherwise (a real but small or inverted-extremes link)
      not_leading  the interval reaches 0 (or there are too few pairs to tell)

    recent_status applies the same rule at the same lag to the last
    backtest.recent_periods source periods: the digest warns when the North Star's is not
    `leading`. rank orders leading, weak, not_leading, then by rho; the strongest
    leading candidate is rank 1 with status leading.
-#}
{%- set spec = northstar_spec() -%}
{%- set bar = spec.backtest.min_rank_correlation -%}

with

scores as (

    select * from {{ ref('rpt_north_star_backtest_scores') }}
    where scope = 'entity' and outcome_name = 'retention'

),

best as (

    select
        *,
        row_number() over (
            partition by candidate_name
            order by coalesce(ci_low, -2) desc, lag asc
        ) as lag_order

    from scores

    where window_name = 'all'

),

judged as (

    select
        best.candidate_name,
        best.is_north_star,
        best.lag as best_lag,
        best.pairs,
        best.excluded_pairs,
        best.rho,
        best.ci_low,
        best.ci_high,
        best.lift,
        best.lift_ci_low,
        best.lift_ci_high,
        case
            when best.ci_low > 0 and best.rho >= {{ bar }} and best.lift > 1
                then 'leading'
            when best.ci_low > 0 then 'weak'
            else 'not_leading'
        end as status,
        recent.pairs as recent_pairs,
        recent.rho as recent_rho,
        recent.ci_low as recent_ci_low,
        case
            when recent.ci_low > 0 and recent.rho >= {{ bar }} and recent.lift > 1
                then 'leading'
            when recent.ci_low > 0 then 'weak'
            else 'not_leading'
        end as recent_status

    from best

    left join scores as recent
        on
            best.candidate_name = recent.candidate_name
            and best.lag = recent.lag
            and recent.window_name = 'recent'

    where best.lag_order = 1

),

ranked as (

    select
        *,
        row_number() over (
            order by
                case status when 'leading' then 1 when 'weak' then 2 else 3 end,
                coalesce(rho, -2) desc,
                candidate_name
        ) as candidate_rank

    from judged

),

final as (

    select
        candidate_name,
        is_north_star,
        cast(candidate_rank as {{ dbt.type_bigint() }}) as candidate_rank,
        status,
        best_lag,
        {{ northstar_literal(spec.primary_grain) }} as grain,
        pairs,
        excluded_pairs,
        rho,
        ci_low,
        ci_high,
        lift,
        lift_ci_low,
        lift_ci_high,
        recent_status,
        recent_pairs,
        recent_rho,
        recent_ci_low,
        candidate_rank = 1 and status = 'leading' as is_strongest

    from ranked

)

select * from final

{#-
    Portable statistics for the backtest (rpt_north_star_backtest_scores): plain ln, exp and
    sqrt, so that DuckDB and Spark compute the same numbers.
-#}

{#- northstar_fisher_bound(r: sql, n: sql, sign: 1 | -1, se_factor: 1.06 for Spearman
    (Fieller et al.), 1 for Pearson) -> sql: the 95% bound of a correlation through Fisher's
    z, tanh(atanh(r) +- 1.96 * sqrt(se_factor / (n - 3))); null for n <= 3 or |r| = 1. -#}
{% macro northstar_fisher_bound(r, n, sign, se_factor) -%}
    case
        when {{ r }} is null or {{ n }} <= 3 or abs({{ r }}) >= 1 then null
        else
            (exp(2 * (0.5 * ln((1 + {{ r }}) / (1 - {{ r }}))
                {{ '+' if sign > 0 else '-' }} 1.96 * sqrt({{ se_factor }} * 1.0 / ({{ n }} - 3)))) - 1)
            / (exp(2 * (0.5 * ln((1 + {{ r }}) / (1 - {{ r }}))
                {{ '+' if sign > 0 else '-' }} 1.96 * sqrt({{ se_factor }} * 1.0 / ({{ n }} - 3)))) + 1)
    end
{%- endmacro %}


{#- northstar_rate_ratio_bound(a, n1, c, n2, sign) -> sql: the 95% bound of the rate ratio
    (a / n1) / (c / n2) on the log scale, se = sqrt(1/a - 1/n1 + 1/c - 1/n2) (Katz); null
    when a count is 0. -#}
{% macro northstar_rate_ratio_bound(a, n1, c, n2, sign) -%}
    case
        when {{ a }} > 0 and {{ c }} > 0
            then ({{ a }} * 1.0 / {{ n1 }}) / ({{ c }} * 1.0 / {{ n2 }})
            * exp({{ '' if sign > 0 else '-' }}1.96 * sqrt(
                1.0 / {{ a }} - 1.0 / {{ n1 }} + 1.0 / {{ c }} - 1.0 / {{ n2 }}
            ))
    end
{%- endmacro %}


{#- northstar_rank_quantile(ranks: sql, quantiles: int) -> sql: the quantile (1 = lowest) of
    a value from the average rank of its ties within its period, `ranks` being the relation
    with pairs_below, equal_pairs and period_pairs: floor((below + equal / 2) * q / n) + 1.
    One definition for the scores' lift and the cohort view. -#}
{% macro northstar_rank_quantile(ranks, quantiles) -%}
    floor(
        ({{ ranks }}.pairs_below + {{ ranks }}.equal_pairs / 2.0)
        * {{ quantiles }} / {{ ranks }}.period_pairs
    ) + 1
{%- endmacro %}

{#- SQL that differs between engines, dispatched per adapter so the models stay portable
    (docs/engines.md): aggregates, division, number tests and types. -#}

{#- northstar_percentile(expr: numeric sql, fraction: float) -> aggregate sql, continuous
    (interpolated) percentile; nulls ignored. -#}
{% macro northstar_percentile(expr, fraction) -%}
    {{ return(adapter.dispatch('northstar_percentile', 'northstar')(expr, fraction)) }}
{%- endmacro %}

{% macro default__northstar_percentile(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro duckdb__northstar_percentile(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro spark__northstar_percentile(expr, fraction) -%}
    percentile({{ expr }}, {{ fraction }})
{%- endmacro %}


{#- northstar_divide(numerator: sql, denominator: sql) -> double sql, null when the
    denominator is 0 or null (a rate with nothing to divide by is unknown, not 0). -#}
{% macro northstar_divide(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ northstar_type_double() }}) / {{ denominator }}
    end
{%- endmacro %}


{#- northstar_is_finite(expr: numeric sql) -> boolean sql: true for a finite number, false
    for NaN and +/-infinity, null for null. `x <> x` is no NaN test: DuckDB, Spark and
    Postgres treat NaN as equal to itself (and greater than any number), IEEE engines do
    not. x - x is 0 exactly when x is finite (inf - inf and NaN - NaN are NaN, and NaN = 0
    is false under either rule), so one expression holds on every engine, no dispatch. -#}
{% macro northstar_is_finite(expr) -%}
    (({{ expr }}) - ({{ expr }}) = 0)
{%- endmacro %}


{#- northstar_type_double() -> an 8-byte floating point type: `float` is 4 bytes on DuckDB
    and Spark, too coarse for money and rates, and `double` is not a type on Postgres. -#}
{% macro northstar_type_double() -%}
    {{ return(adapter.dispatch('northstar_type_double', 'northstar')()) }}
{%- endmacro %}

{% macro default__northstar_type_double() -%}double precision{%- endmacro %}

{% macro duckdb__northstar_type_double() -%}double{%- endmacro %}

{% macro spark__northstar_type_double() -%}double{%- endmacro %}

{% macro bigquery__northstar_type_double() -%}float64{%- endmacro %}


{#- northstar_evaluation_fence() -> sql to end a CTE's select with, so that its columns
    are computed once. Postgres inlines a CTE used once into the query that reads it,
    writing each of its expressions into every place that names the column: staging's
    parsing expressions name the cleaned text ten times, and the reject reason names the
    parsed timestamp again, so the expressions multiplied (45 s for 40,000 rows instead of
    under 2). `offset 0` keeps a subquery apart on Postgres; DuckDB and Spark compute a
    CTE's columns once anyway, and get nothing. -#}
{% macro northstar_evaluation_fence() -%}
    {{ return(adapter.dispatch('northstar_evaluation_fence', 'northstar')()) }}
{%- endmacro %}

{% macro default__northstar_evaluation_fence() -%}{%- endmacro %}

{% macro postgres__northstar_evaluation_fence() -%}offset 0{%- endmacro %}

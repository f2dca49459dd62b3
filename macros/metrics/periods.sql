{#- Period arithmetic shared by every model that buckets time. ISO weeks start on Monday
    on DuckDB, Spark, Trino, Snowflake (WEEK_START default) and BigQuery (use isoweek). -#}

{#- northstar_period_start(grain: string, expr: timestamp|date sql) -> date sql -#}
{% macro northstar_period_start(grain, expr) -%}
    cast({{ dbt.date_trunc(grain, expr) }} as date)
{%- endmacro %}

{#- northstar_period_shift(grain: string, periods: int, expr: date sql) -> date sql -#}
{% macro northstar_period_shift(grain, periods, expr) -%}
    cast({{ dbt.dateadd(grain, periods, expr) }} as date)
{%- endmacro %}


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


{#- northstar_literal(value: any) -> sql literal: strings quoted and escaped, null for none -#}
{% macro northstar_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is boolean -%}{{ 'true' if value else 'false' }}
    {%- elif value is number -%}{{ value }}
    {%- else -%}'{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}


{#- northstar_type_double() -> an 8-byte floating point type (northstar_type_double() is 4 bytes
    on DuckDB and Spark, too coarse for money and rates). -#}
{% macro northstar_type_double() -%}
    {{ return(adapter.dispatch('northstar_type_double', 'northstar')()) }}
{%- endmacro %}

{% macro default__northstar_type_double() -%}double precision{%- endmacro %}

{% macro duckdb__northstar_type_double() -%}double{%- endmacro %}

{% macro spark__northstar_type_double() -%}double{%- endmacro %}

{% macro bigquery__northstar_type_double() -%}float64{%- endmacro %}

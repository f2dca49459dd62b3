{#- Period arithmetic shared by every model that buckets time. Weeks are ISO weeks, starting
    on Monday: dbt.date_trunc('week') gives that on DuckDB, Spark, Trino, Postgres and
    Snowflake (WEEK_START default); BigQuery's WEEK starts on Sunday, so it gets ISOWEEK. -#}

{#- northstar_period_start(grain: string, expr: timestamp|date sql) -> date sql -#}
{% macro northstar_period_start(grain, expr) -%}
    {{ return(adapter.dispatch('northstar_period_start', 'northstar')(grain, expr)) }}
{%- endmacro %}

{% macro default__northstar_period_start(grain, expr) -%}
    cast({{ dbt.date_trunc(grain, expr) }} as date)
{%- endmacro %}

{#- Written for BigQuery's documented ISOWEEK; not run here (docs/engines.md). -#}
{% macro bigquery__northstar_period_start(grain, expr) -%}
    {%- if grain == 'week' -%}
        date_trunc(cast({{ expr }} as date), isoweek)
    {%- else -%}
        cast({{ dbt.date_trunc(grain, expr) }} as date)
    {%- endif -%}
{%- endmacro %}

{#- northstar_period_shift(grain: string, periods: int, expr: date sql) -> date sql -#}
{% macro northstar_period_shift(grain, periods, expr) -%}
    cast({{ dbt.dateadd(grain, periods, expr) }} as date)
{%- endmacro %}


{#- northstar_timestamp_add(datepart: 'day'|'hour'|..., interval: int sql, expr: timestamp
    sql) -> timestamp sql, exact to the microsecond. dbt.dateadd everywhere but on Spark,
    where dbt-spark's version goes through whole unix seconds and drops the fraction
    (10:00:00.250 + 1 day would give 10:00:00, moving a boundary by up to a second);
    Spark's own timestampadd keeps it (a day is 24 h with spark.sql.session.timeZone UTC,
    as it is for DuckDB's zone-less timestamps). -#}
{% macro northstar_timestamp_add(datepart, interval, expr) -%}
    {{ return(adapter.dispatch('northstar_timestamp_add', 'northstar')(datepart, interval, expr)) }}
{%- endmacro %}

{% macro default__northstar_timestamp_add(datepart, interval, expr) -%}
    {{ dbt.dateadd(datepart, interval, expr) }}
{%- endmacro %}

{% macro spark__northstar_timestamp_add(datepart, interval, expr) -%}
    timestampadd({{ datepart | upper }}, {{ interval }}, {{ expr }})
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


{#- northstar_is_finite(expr: numeric sql) -> boolean sql: true for a finite number, false
    for NaN and +/-infinity, null for null. `x <> x` is no NaN test: DuckDB, Spark and
    Postgres treat NaN as equal to itself (and greater than any number), IEEE engines do
    not. x - x is 0 exactly when x is finite (inf - inf and NaN - NaN are NaN, and NaN = 0
    is false under either rule), so one expression holds on every engine, no dispatch. -#}
{% macro northstar_is_finite(expr) -%}
    (({{ expr }}) - ({{ expr }}) = 0)
{%- endmacro %}


{#- northstar_literal(value: any) -> sql literal: strings quoted and escaped, null for none -#}
{% macro northstar_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is boolean -%}{{ 'true' if value else 'false' }}
    {%- elif value is number -%}{{ value }}
    {%- else -%}'{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}


{#- northstar_in_list(column: sql, names: list[string]) -> boolean sql; false for no names. -#}
{% macro northstar_in_list(column, names) -%}
    {%- if names -%}
        {{ column }} in ({% for name in names %}{{ northstar_literal(name) }}{{ ', ' if not loop.last }}{% endfor %})
    {%- else -%}
        false
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

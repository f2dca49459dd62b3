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



{#- northstar_period_is_complete(grain: string, period_start: date sql, as_of_at: timestamp
    sql) -> boolean sql: the period ended at or before the reference time. The one rule
    for a complete period: int_period_spine's, and the cohort and stickiness marts'. -#}
{% macro northstar_period_is_complete(grain, period_start, as_of_at) -%}
    cast({{ northstar_period_shift(grain, 1, period_start) }} as {{ dbt.type_timestamp() }}) <= {{ as_of_at }}
{%- endmacro %}

{#-
    Event-level rows for the metrics that cannot be computed from daily totals: one row per
    accepted event that a percentile metric of the spec reads, with `<metric>__value` = the
    metric's property when the event qualifies (its events and `where`), else null. A
    percentile over these values per period is the metric (nulls are ignored). Without
    percentile metrics in the spec the table is empty.

    The one narrow pass over the events for percentiles, with each property parsed out of
    the JSON once: int_metric_values (each grain) and the semantic layer's
    fct_metric_events read it. A percentile from the compact daily table would be another
    number: continuous percentiles interpolate between individual observations.
-#}
{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_incremental_pre_hook('event_date', 'days') }}",
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
{%- set plan = northstar_incremental_plan() %}
{%- set spec = northstar_spec() %}
{%- set percentile_metrics = spec.metrics | selectattr('kind', 'equalto', 'percentile') | list %}
{%- set qualifying = [] %}
{%- for metric in percentile_metrics %}
    {%- do qualifying.append(
        '(' ~ northstar_events_sql(metric.events) ~ ' and ' ~ northstar_where_sql(metric.where) ~ ')'
    ) %}
{%- endfor %}

with

events as (

    select * from {{ ref('stg_events') }}
    where {{ northstar_incremental_filter(plan, 'event_date', 'days') }}

),

final as (

    select
        event_id,
        entity_id,
        user_id,
        event_name,
        occurred_at,
        {% for metric in percentile_metrics %}
        case
            when
                {{ northstar_events_sql(metric.events) }}
                and {{ northstar_where_sql(metric.where) }}
                then {{ northstar_json_number('properties', metric.property) }}
        end as {{ metric.name }}__value,
        {% endfor %}
        event_date

    from events

    where {{ qualifying | join(' or ') if qualifying else 'false' }}

)

select * from final

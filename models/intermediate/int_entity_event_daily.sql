{#-
    The one full pass over the events for the metrics: one row per entity, event name and
    day, with one column per spec measure. int_entity_activity_daily (entity x day, what the
    metric models read) is aggregated from it, the semantic layer's activity mart is a view
    of it (it keeps event_name as a dimension), and aha discovery reads its early days.
    No user column: only a measure with min_distinct_users > 1 needs users, and those read
    int_entity_user_daily; a user grain here made this table 2.5x larger.

    event_name is part of the grain, so a measure that only tests the event name is the
    row's event_count or 0, decided once per row after grouping; only measures that read a
    property (a sum, a `property`, a `where`) are evaluated event by event. Per-event CASE
    expressions for every measure cost twice the grouping itself.
-#}
{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_incremental_pre_hook('activity_date', 'days') }}",
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
{%- set plan = northstar_incremental_plan() %}
{%- set spec = northstar_spec() -%}
{%- set per_event = [] -%}
{%- set per_row = [] -%}
{%- for measure, column in northstar_measured_columns(spec) -%}
{%- if measure.kind == 'sum' or measure.property is not none or measure.where is not none -%}
{%- do per_event.append((measure, column)) -%}
{%- else -%}
{%- do per_row.append((measure, column)) -%}
{%- endif -%}
{%- endfor -%}

with

events as (

    select * from {{ ref('stg_events') }}
    where {{ northstar_incremental_filter(plan, 'event_date', 'days') }}

),

grouped as (

    select
        entity_id,
        event_name,
        event_date as activity_date,
        count(*) as event_count,
        {%- for measure, column in per_event %}
        sum({{ northstar_measure_event_sql(measure) }}) as {{ column }},
        {%- endfor %}
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at

    from events

    group by 1, 2, 3

),

final as (

    select
        entity_id,
        event_name,
        activity_date,
        event_count,
        case
            when {{ northstar_events_sql(spec.activity_events) }} then event_count else 0
        end as activity_event_count,
        {%- for measure, column in northstar_measured_columns(spec) %}
        {%- if (measure, column) in per_row %}
        case
            when {{ northstar_events_sql(measure.events) }} then event_count else 0
        end as {{ column }},
        {%- else %}
        {{ column }},
        {%- endif %}
        {%- endfor %}
        first_event_at,
        last_event_at

    from grouped

)

select * from final

{#-
    The compact table every metric reads: one row per entity and UTC day with activity,
    with one column per spec measure, aggregated from int_entity_event_daily (so the events
    are not scanned again). Also per row: the day's events of the aha moment (int_aha_moments
    needs only the day of the threshold-th one at event level) and, for an `entities`
    measure with min_distinct_events > 1, one flag per event name of the measure.
    Incremental on the days the new loads touched, as int_entity_event_daily: its rows are
    a function of one entity's day there, so recomputing those days is exact.
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

with

event_days as (

    select * from {{ ref('int_entity_event_daily') }}
    where {{ northstar_incremental_filter(plan, 'activity_date', 'days') }}

),

final as (

    select
        entity_id,
        activity_date,
        sum(event_count) as event_count,
        sum(activity_event_count) as activity_event_count,
        sum(
            case when {{ northstar_events_sql(spec.aha.events) }} then event_count else 0 end
        ) as aha_event_count,
        {%- for measure, column in northstar_measured_columns(spec) %}
        {{ northstar_measure_day_sql(measure, column) | indent(8) }},
        {%- endfor %}
        min(first_event_at) as first_event_at,
        max(last_event_at) as last_event_at

    from event_days

    group by 1, 2

)

select * from final

{#-
    The raw rows counted once, as they are staged: one row per load, day, received day,
    reject reason and lateness, with how many raw rows share them. fct_event_quality_daily
    reads this instead of rescanning every event (parsed, accepted) on every build.

    Incremental on DuckDB: a row's day, received day, reason and lateness depend on the row
    alone, so a run appends the counts of its new loads. Which accepted copy of an event is
    kept can change with a later load; that is stg_events_duplicates' (a small table), which
    the mart subtracts.
-#}
{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_incremental_pre_hook(none, none) }}",
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
{%- set plan = northstar_incremental_plan() %}

with

classified as (

    select
        _northstar_load_id,
        received_at,
        reject_reason,
        is_late_arrival,
        coalesce(event_date, rejected_event_date) as event_date
    from {{ ref('stg_northstar_raw__events_classified') }}
    where {{ northstar_incremental_filter(plan, '_northstar_load_id', 'loads') }}

),

final as (

    select
        _northstar_load_id,
        event_date,
        cast(received_at as date) as received_date,
        reject_reason,
        is_late_arrival,
        count(*) as raw_rows
    from classified
    group by 1, 2, 3, 4, 5

)

select * from final

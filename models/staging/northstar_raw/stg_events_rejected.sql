{#- Every raw row that was not accepted, with its raw values as text and one reject_reason.
    Incremental on DuckDB: a row's reason depends on the row alone, so a run appends the
    rejects of its new raw files. -#}

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

    select * from {{ ref('stg_northstar_raw__events_classified') }}

),

final as (

    select
        raw_row_id,
        reject_reason,
        raw_file,
        raw_file_row_number,
        {% for name in northstar_raw_contract('events').columns %}
        raw_{{ name }},
        {% endfor %}
        cast(occurred_at as date) as occurred_date,
        cast(received_at as date) as received_date,
        rejected_event_date as event_date
    from classified
    where
        reject_reason is not null
        and {{ northstar_incremental_filter(plan, '_northstar_load_id', 'loads') }}

)

select * from final

{{
    config(
        materialized='view',
        tags=['northstar_reads_raw_events'],
    )
}}

{#-
    Every raw event row exactly once, with its fate: row_status 'accepted' (in stg_events),
    'duplicate' (an accepted row whose event_id went to a better copy: in
    stg_events_duplicates) or 'rejected' (reject_reason says why: in stg_events_rejected).
    A view over the one event-sized table (stg_northstar_raw__events_classified) and the
    small duplicates table: the fate of a row is known only once the copies are resolved,
    and writing every row again to record it would double the cost of staging. Tagged as a
    reader of the raw events, which it shows, so that selecting it alone still runs the
    raw-input checks of on-run-start.
-#}

with

classified as (

    select * from {{ ref('stg_northstar_raw__events_classified') }}

),

duplicates as (

    select
        raw_row_id,
        event_id_rank
    from {{ ref('stg_events_duplicates') }}

),

final as (

    select
        classified.raw_row_id,
        classified.raw_file,
        classified.raw_file_row_number,
        case
            when classified.reject_reason is not null then 'rejected'
            when duplicates.raw_row_id is not null then 'duplicate'
            else 'accepted'
        end as row_status,
        classified.reject_reason,
        case
            when classified.reject_reason is null then coalesce(duplicates.event_id_rank, 1)
        end as event_id_rank,
        {% for name in northstar_raw_contract('events').columns %}
        classified.raw_{{ name }},
        {% endfor %}
        classified.event_id,
        classified.event_name,
        classified.occurred_at,
        classified.received_at,
        coalesce(classified.event_date, classified.rejected_event_date) as event_date,
        classified.user_id,
        classified.account_id,
        classified.session_id,
        classified.platform,
        classified.country,
        classified.properties,
        classified.is_late_arrival,
        classified._northstar_load_id
    from classified
    left join duplicates
        on classified.raw_row_id = duplicates.raw_row_id

)

select * from final

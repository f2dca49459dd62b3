{#- Accepted rows that lost the tie-break to another copy of the same event_id. -#}

with

parsed as (

    select * from {{ ref('stg_northstar_raw__events_parsed') }}

),

duplicates as (

    select * from parsed
    where row_status = 'duplicate'

),

kept as (

    select
        event_id,
        raw_row_id as kept_raw_row_id
    from parsed
    where row_status = 'accepted'

),

final as (

    select
        duplicates.raw_row_id,
        duplicates.raw_file,
        duplicates.raw_file_row_number,
        duplicates.event_id,
        kept.kept_raw_row_id,
        duplicates.event_id_rank,
        duplicates.event_name,
        duplicates.occurred_at,
        duplicates.received_at,
        duplicates.event_date,
        duplicates.user_id,
        duplicates.account_id,
        duplicates.properties
    from duplicates
    inner join kept
        on duplicates.event_id = kept.event_id

)

select * from final

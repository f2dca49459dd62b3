{{ config(materialized='view') }}

{#-
    Accepted, deduplicated events: the contract the intermediate layer builds on.

    A view, so events are written once (in stg_northstar_raw__events_classified): a reader
    pays a scan of the columns it reads plus an anti-join with the few duplicate copies,
    which costs far less than writing every event a second time.
-#}

with

classified as (

    select * from {{ ref('stg_northstar_raw__events_classified') }}

),

duplicates as (

    select raw_row_id from {{ ref('stg_events_duplicates') }}

),

final as (

    select
        cast(classified.event_id as {{ dbt.type_string() }}) as event_id,
        cast(classified.event_name as {{ dbt.type_string() }}) as event_name,
        cast(classified.occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(classified.received_at as {{ dbt.type_timestamp() }}) as received_at,
        cast(classified.event_date as date) as event_date,
        cast(classified.user_id as {{ dbt.type_string() }}) as user_id,
        cast(classified.account_id as {{ dbt.type_string() }}) as account_id,
        cast(
            classified.{{ northstar_spec().entity_column }}
            as {{ dbt.type_string() }}
        ) as entity_id,
        cast(classified.session_id as {{ dbt.type_string() }}) as session_id,
        cast(classified.platform as {{ dbt.type_string() }}) as platform,
        cast(classified.country as {{ dbt.type_string() }}) as country,
        cast(classified.properties as {{ dbt.type_string() }}) as properties,
        cast(classified.is_late_arrival as {{ dbt.type_boolean() }}) as is_late_arrival,
        {#- The load that staged it: data tests check only the loads not verified yet. #}
        classified._northstar_load_id
    from classified
    left join duplicates
        on classified.raw_row_id = duplicates.raw_row_id
    where
        classified.reject_reason is null
        and duplicates.raw_row_id is null

)

select * from final

{#- Accepted, deduplicated events: the contract the intermediate layer builds on. -#}

with

parsed as (

    select * from {{ ref('stg_northstar_raw__events_parsed') }}

),

final as (

    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(event_name as {{ dbt.type_string() }}) as event_name,
        cast(occurred_at as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(received_at as {{ dbt.type_timestamp() }}) as received_at,
        cast(event_date as date) as event_date,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        cast(account_id as {{ dbt.type_string() }}) as account_id,
        cast({{ var('northstar', {}).get('entity', 'account') }}_id as {{ dbt.type_string() }})
            as entity_id,
        cast(session_id as {{ dbt.type_string() }}) as session_id,
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(country as {{ dbt.type_string() }}) as country,
        cast(properties as {{ dbt.type_string() }}) as properties,
        cast(is_late_arrival as {{ dbt.type_boolean() }}) as is_late_arrival
    from parsed
    where row_status = 'accepted'

)

select * from final

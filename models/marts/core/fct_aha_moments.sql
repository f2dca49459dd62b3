with

aha_moments as (

    select * from {{ ref('int_aha_moments') }}

),

final as (

    select
        entity_type,
        entity_id,
        first_seen_at,
        aha_reached_at,
        has_reached_aha,
        days_to_aha,
        -- a sum of counts upstream: a 128-bit HUGEINT on DuckDB
        cast(qualifying_events_in_window as {{ dbt.type_bigint() }}) as qualifying_events_in_window

    from aha_moments

)

select * from final

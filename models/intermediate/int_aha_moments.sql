{#-
    The aha moment per entity: the time its `threshold`-th qualifying event happened, if
    that was within `window_days` (exactly, by timestamp: first seen + N * 24 h, inclusive)
    of the entity's first event. days_to_aha counts whole elapsed days (0 = within 24 h).
-#}
{%- set spec = northstar_spec() -%}
{%- set aha = spec.aha -%}

with

events as (

    select * from {{ ref('stg_events') }}

),

entities as (

    select * from {{ ref('int_entities') }}

),

qualifying as (

    select
        events.entity_id,
        events.event_id,
        events.occurred_at,
        row_number() over (
            partition by events.entity_id
            order by events.occurred_at, events.event_id
        ) as event_number

    from events

    inner join entities
        on events.entity_id = entities.entity_id

    where
        {{ northstar_events_sql(aha.events) }}
        and events.occurred_at
        <= {{ northstar_timestamp_add('day', aha.window_days, 'entities.first_seen_at') }}

),

per_entity as (

    select
        entity_id,
        count(*) as qualifying_events_in_window,
        max(
            case when event_number = {{ aha.threshold }} then occurred_at end
        ) as aha_reached_at

    from qualifying

    group by 1

),

final as (

    select
        entities.entity_type,
        entities.entity_id,
        entities.first_seen_at,
        per_entity.aha_reached_at,
        per_entity.aha_reached_at is not null as has_reached_aha,
        cast(floor(
            {{ dbt.datediff('entities.first_seen_at', 'per_entity.aha_reached_at', 'second') }}
            / 86400.0
        ) as {{ dbt.type_int() }}) as days_to_aha,
        coalesce(per_entity.qualifying_events_in_window, 0) as qualifying_events_in_window

    from entities

    left join per_entity
        on entities.entity_id = per_entity.entity_id

)

select * from final

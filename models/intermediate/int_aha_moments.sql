{#-
    The aha moment per entity: the time its `threshold`-th qualifying event happened, if
    that was within `window_days` (exactly, by timestamp: first seen + N * 24 h, inclusive)
    of the entity's first event. days_to_aha counts whole elapsed days (0 = within 24 h).

    Numbering every qualifying event of every entity (a row_number() over a sort of about
    half the events) is not needed to find one of them: the daily counts of the compact
    table say on which day the threshold-th event falls, and only the events of that day
    and of the window's last day (cut at the exact end of the window) are read one by one.
    Days before the last one lie wholly inside the window (an entity's events all come
    at or after its first event), so their counts are exact.

    Incremental on DuckDB: a run recomputes only the entities a new load can have moved
    (macros/staging/northstar_incremental_aha.sql), reading the events of their windows'
    days only.
-#}
{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_incremental_pre_hook('entity_id', 'aha_entities') }}",
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
{%- set spec = northstar_spec() -%}
{%- set aha = spec.aha -%}
{%- set plan = northstar_incremental_plan() -%}

with

events as (

    select * from {{ ref('stg_events') }}
    where {{ northstar_incremental_filter(plan, 'event_date', 'aha_days') }}

),

activity as (

    select * from {{ ref('int_entity_activity_daily') }}
    where {{ northstar_incremental_filter(plan, 'entity_id', 'aha_entities') }}

),

entities as (

    select * from {{ ref('int_entities') }}
    where {{ northstar_incremental_filter(plan, 'entity_id', 'aha_entities') }}

),

windows as (

    select
        entity_id,
        first_seen_at,
        {{ northstar_timestamp_add('day', aha.window_days, 'first_seen_at') }} as window_end

    from entities

),

windows_days as (

    select
        *,
        cast(window_end as date) as last_day

    from windows

),

full_days as (

    select
        activity.entity_id,
        activity.activity_date,
        activity.aha_event_count,
        sum(activity.aha_event_count) over (
            partition by activity.entity_id
            order by activity.activity_date
            rows between unbounded preceding and current row
        ) as events_through_day

    from activity

    inner join windows_days
        on activity.entity_id = windows_days.entity_id

    where
        activity.aha_event_count > 0
        and activity.activity_date < windows_days.last_day

),

before_last_day as (

    select
        entity_id,
        sum(aha_event_count) as events_before_last_day

    from full_days

    group by 1

),

crossing_day as (

    -- the full day holding the threshold-th event, and its rank within that day
    select
        entity_id,
        activity_date as aha_date,
        {{ aha.threshold }} - (events_through_day - aha_event_count) as aha_rank

    from full_days

    where
        events_through_day >= {{ aha.threshold }}
        and events_through_day - aha_event_count < {{ aha.threshold }}

),

aha_days as (

    -- without a crossing day, the threshold-th event can only be on the last day
    select
        windows_days.entity_id,
        windows_days.window_end,
        windows_days.last_day,
        coalesce(before_last_day.events_before_last_day, 0) as events_before_last_day,
        coalesce(crossing_day.aha_date, windows_days.last_day) as aha_date,
        coalesce(
            crossing_day.aha_rank,
            {{ aha.threshold }} - coalesce(before_last_day.events_before_last_day, 0)
        ) as aha_rank

    from windows_days

    left join before_last_day
        on windows_days.entity_id = before_last_day.entity_id

    left join crossing_day
        on windows_days.entity_id = crossing_day.entity_id

),

read_days as (

    select
        entity_id,
        last_day as read_date,
        window_end

    from aha_days

    union all

    select
        entity_id,
        aha_date as read_date,
        window_end

    from aha_days

    where aha_date < last_day

),

day_events as (

    select
        events.entity_id,
        events.event_date,
        events.occurred_at,
        row_number() over (
            partition by events.entity_id, events.event_date
            order by events.occurred_at, events.event_id
        ) as rank_in_day

    from events

    inner join read_days
        on
            events.entity_id = read_days.entity_id
            and events.event_date = read_days.read_date

    where
        {{ northstar_events_sql(aha.events) }}
        and events.occurred_at <= read_days.window_end

),

per_entity as (

    select
        aha_days.entity_id,
        max(aha_days.events_before_last_day)
        + sum(
            case when day_events.event_date = aha_days.last_day then 1 else 0 end
        ) as qualifying_events_in_window,
        max(
            case
                when
                    day_events.event_date = aha_days.aha_date
                    and day_events.rank_in_day = aha_days.aha_rank
                    then day_events.occurred_at
            end
        ) as aha_reached_at

    from aha_days

    inner join day_events
        on aha_days.entity_id = day_events.entity_id

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
        coalesce(
            per_entity.qualifying_events_in_window, aha_days.events_before_last_day
        ) as qualifying_events_in_window

    from entities

    inner join aha_days
        on entities.entity_id = aha_days.entity_id

    left join per_entity
        on entities.entity_id = per_entity.entity_id

)

select * from final

{#-
    One row per entity whose retention window is over: retained when it has any activity
    event on days retention_start_day to retention_end_day after the day it was first seen
    (var northstar__aha_discovery; default 56 to 62, week 8). The one definition of
    "retained" that rpt_aha_retention and rpt_aha_discovery share.
-#}
{%- set discovery = northstar_aha_discovery() -%}

with

entities as (

    select * from {{ ref('int_entities') }}

),

activity as (

    select * from {{ ref('int_entity_activity_daily') }}

),

spine as (

    select * from {{ ref('int_period_spine') }}

),

as_of as (

    select max(as_of_at) as as_of_at from spine

),

eligible as (

    select
        entities.entity_id,
        entities.first_seen_at

    from entities

    cross join as_of

    where
        {{ dbt.dateadd(
            'day', discovery.retention_end_day + 1, 'cast(entities.first_seen_at as date)'
        ) }}
        <= as_of.as_of_at

),

retained as (

    select distinct eligible.entity_id

    from activity

    inner join eligible
        on activity.entity_id = eligible.entity_id

    where
        activity.activity_event_count > 0
        and {{ dbt.datediff(
            'cast(eligible.first_seen_at as date)', 'activity.activity_date', 'day'
        ) }} between {{ discovery.retention_start_day }} and {{ discovery.retention_end_day }}

),

final as (

    select
        eligible.entity_id,
        eligible.first_seen_at,
        case when retained.entity_id is not null then 1 else 0 end as is_retained

    from eligible

    left join retained
        on eligible.entity_id = retained.entity_id

)

select * from final

{#-
    Does the aha moment separate retained from churned entities? For every entity whose
    week 8 is over (days 56 to 62 after the day it was first seen): the share with any
    activity in week 8, split by whether it reached the aha moment.
-#}
with

aha_moments as (

    select * from {{ ref('int_aha_moments') }}

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

    select aha_moments.*

    from aha_moments

    cross join as_of

    where
        {{ dbt.dateadd('day', 63, 'cast(aha_moments.first_seen_at as date)') }}
        <= as_of.as_of_at

),

week_8 as (

    select distinct eligible.entity_id

    from activity

    inner join eligible
        on activity.entity_id = eligible.entity_id

    where
        activity.activity_event_count > 0
        and {{ dbt.datediff(
            'cast(eligible.first_seen_at as date)', 'activity.activity_date', 'day'
        ) }} between 56 and 62

),

final as (

    select
        eligible.has_reached_aha,
        count(*) as entities,
        sum(case when week_8.entity_id is not null then 1 else 0 end) as active_in_week_8,
        {{ northstar_divide(
            'sum(case when week_8.entity_id is not null then 1 else 0 end)', 'count(*)'
        ) }} as week_8_retention

    from eligible

    left join week_8
        on eligible.entity_id = week_8.entity_id

    group by 1

)

select * from final

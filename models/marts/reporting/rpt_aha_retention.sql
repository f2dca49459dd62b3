{#-
    Does the aha moment separate retained from churned entities? For every entity whose
    week 8 (weeks since its first-seen week) is complete: the share still active in its
    week 8, split by whether it reached the aha moment.
-#}
with

aha_moments as (

    select * from {{ ref('int_aha_moments') }}

),

entity_periods as (

    select * from {{ ref('int_entity_periods') }}

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
        {{ dbt.dateadd('week', 9, northstar_period_start('week', 'aha_moments.first_seen_at')) }}
        <= as_of.as_of_at

),

week_8 as (

    select entity_id

    from entity_periods

    where
        grain = 'week'
        and periods_since_first_seen = 8
        and is_active

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

    group by eligible.has_reached_aha

)

select * from final

{#-
    Does the aha moment separate retained from churned entities? For every entity whose
    retention window is over (int_entity_retention: week 8, days 56 to 62 after the day it
    was first seen, unless northstar__aha_discovery moves it): the share retained, split by
    whether it reached the aha moment.
-#}
with

aha_moments as (

    select * from {{ ref('int_aha_moments') }}

),

retention as (

    select * from {{ ref('int_entity_retention') }}

),

final as (

    select
        aha_moments.has_reached_aha,
        count(*) as entities,
        cast(sum(retention.is_retained) as {{ dbt.type_bigint() }}) as active_in_week_8,
        {{ northstar_divide('sum(retention.is_retained)', 'count(*)') }} as week_8_retention

    from retention

    inner join aha_moments
        on retention.entity_id = aha_moments.entity_id

    group by 1

)

select * from final

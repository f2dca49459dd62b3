{#- Lifecycle identity, counted independently: for every grain, period and segment
    ('all' included), the entities with an activity event in the period are
    new + returning + resurrecting, and active_entities, in int_lifecycle_periods.
    The active entities are counted here from the entity-day activity table and the period
    spine (a day belongs to the period that contains it), not from int_entity_periods'
    is_active or lifecycle states, so the identity is not true by construction. Plain
    comparisons and joins only: portable. Returns the mismatches. -#}
with

activity as (

    select * from {{ ref('int_entity_activity_daily') }}

),

days as (

    select * from {{ ref('int_day_spine') }}

),

spine as (

    select * from {{ ref('int_period_spine') }}

),

entity_segments as (

    select * from {{ ref('int_entity_segments') }}

),

lifecycle as (

    select * from {{ ref('int_lifecycle_periods') }}

),

active_days as (

    select distinct
        entity_id,
        activity_date

    from activity

    where activity_event_count > 0

),

period_days as (

    -- every day of the spine in the period of each grain that contains it
    select
        spine.grain,
        spine.period_start,
        days.day_date

    from spine

    inner join days
        on
            spine.period_start <= days.day_date
            and spine.period_end > days.day_date

),

counted as (

    select
        period_days.grain,
        period_days.period_start,
        entity_segments.segment_name,
        entity_segments.segment_value,
        count(distinct active_days.entity_id) as active_entities

    from active_days

    inner join period_days
        on active_days.activity_date = period_days.day_date

    inner join entity_segments
        on active_days.entity_id = entity_segments.entity_id

    group by 1, 2, 3, 4

),

compared as (

    select
        lifecycle.active_entities as lifecycle_active_entities,
        coalesce(lifecycle.grain, counted.grain) as grain,
        coalesce(lifecycle.period_start, counted.period_start) as period_start,
        coalesce(lifecycle.segment_name, counted.segment_name) as segment_name,
        coalesce(lifecycle.segment_value, counted.segment_value) as segment_value,
        coalesce(counted.active_entities, 0) as counted_active_entities,
        lifecycle.new_entities
        + lifecycle.returning_entities
        + lifecycle.resurrecting_entities as new_returning_resurrecting_entities

    from lifecycle

    full outer join counted
        on
            lifecycle.grain = counted.grain
            and lifecycle.period_start = counted.period_start
            and lifecycle.segment_name = counted.segment_name
            and lifecycle.segment_value = counted.segment_value

),

final as (

    select * from compared

    where
        -- active entities in a period or segment the lifecycle table has no row for
        lifecycle_active_entities is null
        or new_returning_resurrecting_entities is null
        or new_returning_resurrecting_entities <> counted_active_entities
        or lifecycle_active_entities <> counted_active_entities

)

select * from final

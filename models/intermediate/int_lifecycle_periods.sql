{#-
    Lifecycle counts per grain, period and segment on the full zero-filled spine:
    active = new + returning + resurrecting; dormant = active last period, not now.
    These feed acquisition, retention, resurrection and churn, and the lifecycle report.
-#}
with

entity_periods as (

    select * from {{ ref('int_entity_periods') }}

),

entity_segments as (

    select * from {{ ref('int_entity_segments') }}

),

spine as (

    select * from {{ ref('int_period_spine') }}

),

segment_values as (

    select distinct
        segment_name,
        segment_value

    from entity_segments

),

counts as (

    select
        entity_periods.grain,
        entity_periods.period_start,
        entity_segments.segment_name,
        entity_segments.segment_value,
        sum(case when entity_periods.is_active then 1 else 0 end) as active_entities,
        sum(case when entity_periods.is_first_seen_period then 1 else 0 end) as first_seen_entities,
        sum(case when entity_periods.lifecycle_state = 'new' then 1 else 0 end) as new_entities,
        sum(
            case when entity_periods.lifecycle_state = 'returning' then 1 else 0 end
        ) as returning_entities,
        sum(
            case when entity_periods.lifecycle_state = 'resurrecting' then 1 else 0 end
        ) as resurrecting_entities

    from entity_periods

    inner join entity_segments
        on entity_periods.entity_id = entity_segments.entity_id

    group by 1, 2, 3, 4

),

filled as (

    select
        spine.grain,
        spine.period_start,
        spine.period_end,
        spine.is_complete_period,
        segment_values.segment_name,
        segment_values.segment_value,
        coalesce(counts.active_entities, 0) as active_entities,
        coalesce(counts.first_seen_entities, 0) as first_seen_entities,
        coalesce(counts.new_entities, 0) as new_entities,
        coalesce(counts.returning_entities, 0) as returning_entities,
        coalesce(counts.resurrecting_entities, 0) as resurrecting_entities

    from spine

    cross join segment_values

    left join counts
        on
            spine.grain = counts.grain
            and spine.period_start = counts.period_start
            and segment_values.segment_name = counts.segment_name
            and segment_values.segment_value = counts.segment_value

),

windowed as (

    select
        *,
        coalesce(lag(active_entities) over (
            partition by grain, segment_name, segment_value
            order by period_start
        ), 0) as previous_active_entities,
        sum(first_seen_entities) over (
            partition by grain, segment_name, segment_value
            order by period_start
            rows between unbounded preceding and current row
        ) as cumulative_entities

    from filled

),

final as (

    select
        *,
        previous_active_entities - returning_entities as dormant_entities,
        -- seen before this period and not active in the previous one
        cumulative_entities
        - first_seen_entities
        - previous_active_entities as dormant_pool_entities

    from windowed

)

select * from final

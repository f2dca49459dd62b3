{#-
    The cohort x age retention matrix, one row per cell: of the entities first seen in a
    week or month (int_entities.first_seen_at, as the metrics' new entities), how many
    had an activity event `age` weeks or months later. Both grains whatever the spec's
    grains are. Every cell from age 0 to the current period is present; a cell whose
    period is not over (northstar_period_is_complete, the metrics' rule) is flagged and
    its counts are null, so a partial period never reads as a drop to zero. A week or
    month in which nobody was first seen has no cohort.

    A table over the compact tables: it is cohorts x ages (about 500 rows for 30 weeks)
    and one pass over the active entity-days, so recomputing it costs less than tracking
    which cells a load touched.
-#}
{%- set cohort_grains = ['week', 'month'] %}

with

activity as (

    select * from {{ ref('int_entity_activity_daily') }}
    where activity_event_count > 0

),

entities as (

    select * from {{ ref('int_entities') }}

),

days as (

    select * from {{ ref('int_day_spine') }}

),

entity_cohorts as (
    {% for grain in cohort_grains %}
    select
        entity_id,
        '{{ grain }}' as cohort_grain,
        {{ northstar_period_start(grain, 'first_seen_at') }} as cohort_start

    from entities
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

active_periods as (
    {% for grain in cohort_grains %}
    select distinct
        entity_id,
        '{{ grain }}' as cohort_grain,
        {{ northstar_period_start(grain, 'activity_date') }} as period_start

    from activity
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

periods as (
    {% for grain in cohort_grains %}
    select distinct
        '{{ grain }}' as cohort_grain,
        {{ northstar_period_start(grain, 'day_date') }} as period_start,
        {{ northstar_period_is_complete(
            grain, northstar_period_start(grain, 'day_date'), 'as_of_at') }} as is_complete

    from days
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

cohorts as (

    select
        cohort_grain,
        cohort_start,
        count(*) as entities_in_cohort

    from entity_cohorts

    group by 1, 2

),

retained as (

    select
        entity_cohorts.cohort_grain,
        entity_cohorts.cohort_start,
        active_periods.period_start,
        count(*) as retained_entities

    from active_periods

    inner join entity_cohorts
        on
            active_periods.entity_id = entity_cohorts.entity_id
            and active_periods.cohort_grain = entity_cohorts.cohort_grain

    group by 1, 2, 3

),

cells as (

    select
        cohorts.cohort_grain,
        cohorts.cohort_start,
        case cohorts.cohort_grain
            {%- for grain in cohort_grains %}
            when '{{ grain }}'
                then {{ dbt.datediff('cohorts.cohort_start', 'periods.period_start', grain) }}
            {%- endfor %}
        end as age,
        periods.period_start,
        cohorts.entities_in_cohort,
        periods.is_complete,
        coalesce(retained.retained_entities, 0) as retained_entities

    from cohorts

    inner join periods
        on
            cohorts.cohort_grain = periods.cohort_grain
            and cohorts.cohort_start <= periods.period_start

    left join retained
        on
            cohorts.cohort_grain = retained.cohort_grain
            and cohorts.cohort_start = retained.cohort_start
            and periods.period_start = retained.period_start

),

final as (

    select
        cohort_grain,
        cohort_start,
        cast(age as {{ dbt.type_int() }}) as age,
        period_start,
        cast(entities_in_cohort as {{ dbt.type_bigint() }}) as entities_in_cohort,
        cast(
            case when is_complete then retained_entities end as {{ dbt.type_bigint() }}
        ) as retained_entities,
        case
            when is_complete
                then {{ northstar_divide('retained_entities', 'entities_in_cohort') }}
        end as retention_rate,
        is_complete

    from cells

)

select * from final

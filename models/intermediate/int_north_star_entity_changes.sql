{#-
    The North Star per entity, this period against the previous one: one row per entity,
    grain and period (that has a previous period) in which the entity had a row in either.
    Both public decomposition marts sum these rows, so lifecycle components, segment sums
    and top movers come from one join. Empty for a North Star that is not a sum over
    entities (northstar_decompositions: medians, percentiles, lifecycle shares).

    lifecycle_component: new | returning | resurrected (active now, by int_entity_periods'
    lifecycle_state), dormant (active in the previous period only), not_active (rows with
    events but no activity event in both periods).
    `*_numerator` is everything the entity contributed; `*_active_numerator` the part of
    active periods, so the not-active remainder keeps the lifecycle split exact.
-#}
{%- set spec = northstar_spec() -%}
{%- set north_star = spec.metrics[0] -%}
{%- set facts = northstar_decompositions(north_star) -%}
{%- set numerator, denominator = northstar_entity_parts(north_star) -%}

with

entity_periods as (

    select
        entity_id,
        grain,
        period_start,
        is_active,
        lifecycle_state,
        cast({{ numerator if facts.entity_level else '0' }} as {{ northstar_type_double() }})
            as numerator,
        cast({{ denominator if facts.entity_level else '0' }} as {{ northstar_type_double() }})
            as denominator

    from {{ ref('int_entity_periods') }}
    {%- if not facts.entity_level %}

    where 1 = 0
    {%- endif %}

),

spine as (

    select
        grain,
        period_start,
        lag(period_start) over (
            partition by grain
            order by period_start
        ) as previous_period_start

    from {{ ref('int_period_spine') }}

),

periods as (

    select * from spine
    where previous_period_start is not null

),

current_rows as (

    select
        periods.grain,
        periods.period_start,
        periods.previous_period_start,
        entity_periods.entity_id,
        entity_periods.is_active,
        entity_periods.lifecycle_state,
        entity_periods.numerator,
        entity_periods.denominator

    from periods

    inner join entity_periods
        on
            periods.grain = entity_periods.grain
            and periods.period_start = entity_periods.period_start

),

previous_rows as (

    select
        periods.grain,
        periods.period_start,
        periods.previous_period_start,
        entity_periods.entity_id,
        entity_periods.is_active,
        entity_periods.numerator,
        entity_periods.denominator

    from periods

    inner join entity_periods
        on
            periods.grain = entity_periods.grain
            and periods.previous_period_start = entity_periods.period_start

),

joined as (

    select
        current_rows.lifecycle_state,
        coalesce(current_rows.entity_id, previous_rows.entity_id) as entity_id,
        coalesce(current_rows.grain, previous_rows.grain) as grain,
        coalesce(current_rows.period_start, previous_rows.period_start) as period_start,
        coalesce(current_rows.previous_period_start, previous_rows.previous_period_start)
            as previous_period_start,
        coalesce(current_rows.is_active, false) as is_active,
        coalesce(previous_rows.is_active, false) as was_active,
        coalesce(current_rows.numerator, 0) as current_numerator,
        coalesce(previous_rows.numerator, 0) as previous_numerator,
        coalesce(current_rows.denominator, 0) as current_denominator,
        coalesce(previous_rows.denominator, 0) as previous_denominator

    from current_rows

    full outer join previous_rows
        on
            current_rows.grain = previous_rows.grain
            and current_rows.period_start = previous_rows.period_start
            and current_rows.entity_id = previous_rows.entity_id

),

final as (

    select
        entity_id,
        grain,
        period_start,
        previous_period_start,
        is_active,
        was_active,
        current_numerator,
        previous_numerator,
        current_denominator,
        previous_denominator,
        case
            when lifecycle_state = 'resurrecting' then 'resurrected'
            when is_active then lifecycle_state
            when was_active then 'dormant'
            else 'not_active'
        end as lifecycle_component,
        case when is_active then current_numerator else 0 end as current_active_numerator,
        case when was_active then previous_numerator else 0 end as previous_active_numerator

    from joined

)

select * from final

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

    One pass over int_entity_periods: each entity row reads its predecessor (lag) for the
    "previous" side, and, when the entity has no row in the next period, also stands for
    that period's row (current side zero: dormant or not_active).

    Incremental on DuckDB: a row reads the entity's rows of its period and the one before,
    whose lifecycle looked back one more; so a run recomputes the periods holding a touched
    day and the two after them, every row of the entities whose first-seen period moved,
    and the periods from the last one held on (those the spine gained since hold rows of
    the entities active just before them) (northstar_period_keys).
-#}
{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_incremental_pre_hook('period_start', 'period_changes') }}",
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
-- depends_on: {{ ref('int_entities') }}
{%- set spec = northstar_spec() -%}
{%- set north_star = spec.metrics[0] -%}
{%- set facts = northstar_decompositions(north_star) -%}
{%- set numerator, denominator = northstar_entity_parts(north_star) -%}
{%- set plan = northstar_incremental_plan() -%}
{%- set keys = northstar_period_keys(plan, after=2, tail=true) %}

with

spine as (

    select
        grain,
        min(period_start) as first_period_start,
        max(period_start) as last_period_start

    from {{ ref('int_period_spine') }}

    group by 1

),

entity_periods as (

    select
        entity_id,
        grain,
        period_start,
        first_seen_period,
        is_active,
        lifecycle_state,
        cast({{ numerator if facts.entity_level else '0' }} as {{ northstar_type_double() }})
            as numerator,
        cast({{ denominator if facts.entity_level else '0' }} as {{ northstar_type_double() }})
            as denominator

    from {{ ref('int_entity_periods') }}

    where
        {{ northstar_period_filter(plan, keys, 'read', 'period_start')
            if facts.entity_level else '1 = 0' }}

),

neighbours as (

    select
        entity_periods.*,
        {{ northstar_period_start_shift_case(spec.grains, -1, 'entity_periods.period_start') }}
            as previous_period_start,
        {{ northstar_period_start_shift_case(spec.grains, 1, 'entity_periods.period_start') }}
            as next_period_start,
        lag(entity_periods.period_start) over (
            partition by entity_periods.entity_id, entity_periods.grain
            order by entity_periods.period_start
        ) as lag_period_start,
        lag(entity_periods.is_active) over (
            partition by entity_periods.entity_id, entity_periods.grain
            order by entity_periods.period_start
        ) as lag_is_active,
        lag(entity_periods.numerator) over (
            partition by entity_periods.entity_id, entity_periods.grain
            order by entity_periods.period_start
        ) as lag_numerator,
        lag(entity_periods.denominator) over (
            partition by entity_periods.entity_id, entity_periods.grain
            order by entity_periods.period_start
        ) as lag_denominator,
        lead(entity_periods.period_start) over (
            partition by entity_periods.entity_id, entity_periods.grain
            order by entity_periods.period_start
        ) as lead_period_start

    from entity_periods

),

-- each entity row stands for its own period ('current') and, when the entity has no row
-- in the next period, for that one too ('next'): a join with two constant rows reads the
-- window's output once on every engine, where a union of two selects may compute it twice
sides as (

    select 'current' as side
    union all
    select 'next' as side

),

joined as (

    select
        neighbours.entity_id,
        neighbours.grain,
        neighbours.first_seen_period,
        sides.side,
        case
            when sides.side = 'current' then neighbours.period_start
            else neighbours.next_period_start
        end as period_start,
        case
            when sides.side = 'current' then neighbours.previous_period_start
            else neighbours.period_start
        end as previous_period_start,
        case when sides.side = 'current' then neighbours.lifecycle_state end as lifecycle_state,
        sides.side = 'current' and neighbours.is_active as is_active,
        case
            when sides.side = 'next' then neighbours.is_active
            when neighbours.lag_period_start = neighbours.previous_period_start
                then neighbours.lag_is_active
            else false
        end as was_active,
        case when sides.side = 'current' then neighbours.numerator else 0 end
            as current_numerator,
        case
            when sides.side = 'next' then neighbours.numerator
            when neighbours.lag_period_start = neighbours.previous_period_start
                then neighbours.lag_numerator
            else 0
        end as previous_numerator,
        case when sides.side = 'current' then neighbours.denominator else 0 end
            as current_denominator,
        case
            when sides.side = 'next' then neighbours.denominator
            when neighbours.lag_period_start = neighbours.previous_period_start
                then neighbours.lag_denominator
            else 0
        end as previous_denominator

    from neighbours

    cross join sides

    inner join spine
        on neighbours.grain = spine.grain

    where
        (
            sides.side = 'current'
            and neighbours.period_start > spine.first_period_start
        )
        or (
            sides.side = 'next'
            and neighbours.next_period_start <= spine.last_period_start
            and (
                neighbours.lead_period_start is null
                or neighbours.lead_period_start <> neighbours.next_period_start
            )
        )

),

final as (

    select
        entity_id,
        grain,
        period_start,
        previous_period_start,
        first_seen_period,
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

    where {{ northstar_incremental_filter(plan, 'period_start', 'period_changes') }}

)

select * from final

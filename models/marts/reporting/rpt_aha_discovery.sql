{#-
    Aha discovery: which early action, and how many of it, best separates retained from
    churned entities? For every candidate event and every count threshold N of the grid
    (var northstar__aha_discovery, macros/spec/northstar_aha_discovery.sql): over the
    entities whose retention window is over, how many did the event at least N times in
    the early window, and how retention differs between those and the rest: reach,
    retention of each side (precision), lift and the phi coefficient of the 2x2 table.

    The early window is measured as int_aha_moments measures it, on event timestamps:
    occurred_at <= first seen + window_days * 24 h (day offsets on the daily table would
    count a different set of events). Retention is int_entity_retention's, the one
    rpt_aha_retention reports: any activity event on days retention_start_day to
    retention_end_day after the first-seen day.

    The days before the window's last day lie wholly inside it, so their counts come from
    int_entity_event_daily; only the last day, cut at the exact end of the window, is read
    event by event.
-#}
{#- Counts as bigint: DuckDB sums integers into a 128-bit HUGEINT (the contract says bigint). -#}
{%- set bigint = dbt.type_bigint() -%}
{%- set discovery = northstar_aha_discovery() -%}

with

events as (

    select * from {{ ref('stg_events') }}

),

event_days as (

    select * from {{ ref('int_entity_event_daily') }}

),

cohort as (

    select * from {{ ref('int_entity_retention') }}

),

candidates as (

    {% for candidate in discovery.candidates -%}
    select {{ northstar_literal(candidate.name) }} as event_name
    {{- ' union all' if not loop.last }}
    {% endfor %}
),

thresholds as (

    {% for threshold in discovery.thresholds -%}
    select {{ threshold }} as threshold
    {{- ' union all' if not loop.last }}
    {% endfor %}
),

grid as (

    select
        candidates.event_name,
        thresholds.threshold

    from candidates

    cross join thresholds

),

totals as (

    select
        count(*) as eligible_entities,
        coalesce(sum(is_retained), 0) as retained_entities

    from cohort

),

windows as (

    select
        entity_id,
        {{ northstar_timestamp_add(
            'day', discovery.window_days, 'first_seen_at'
        ) }} as window_end

    from cohort

),

windows_days as (

    select
        *,
        cast(window_end as date) as last_day

    from windows

),

window_counts as (

    select
        event_days.entity_id,
        event_days.event_name,
        event_days.event_count

    from event_days

    inner join windows_days
        on event_days.entity_id = windows_days.entity_id

    where
        {{ northstar_events_sql(discovery.candidate_events) }}
        and event_days.activity_date < windows_days.last_day

    union all

    select
        events.entity_id,
        events.event_name,
        1 as event_count

    from events

    inner join windows_days
        on
            events.entity_id = windows_days.entity_id
            and events.event_date = windows_days.last_day

    where
        {{ northstar_events_sql(discovery.candidate_events) }}
        and events.occurred_at <= windows_days.window_end

),

event_counts as (

    select
        entity_id,
        event_name,
        sum(event_count) as events_in_window

    from window_counts

    group by 1, 2

),

candidate_counts as (

    {% for candidate in discovery.candidates -%}
    select
        entity_id,
        {{ northstar_literal(candidate.name) }} as event_name,
        sum(events_in_window) as events_in_window

    from event_counts

    where {{ northstar_events_sql(candidate.events) }}

    group by 1
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

reached as (

    select
        grid.event_name,
        grid.threshold,
        count(*) as reached_entities,
        sum(cohort.is_retained) as retained_reached_entities

    from grid

    inner join candidate_counts
        on
            grid.event_name = candidate_counts.event_name
            and grid.threshold <= candidate_counts.events_in_window

    inner join cohort
        on candidate_counts.entity_id = cohort.entity_id

    group by 1, 2

),

cells as (

    select
        grid.event_name,
        grid.threshold,
        totals.eligible_entities,
        totals.retained_entities,
        totals.eligible_entities - totals.retained_entities as churned_entities,
        coalesce(reached.reached_entities, 0) as reached_entities,
        coalesce(reached.retained_reached_entities, 0) as retained_reached_entities,
        totals.eligible_entities
        - coalesce(reached.reached_entities, 0) as not_reached_entities,
        totals.retained_entities
        - coalesce(reached.retained_reached_entities, 0) as retained_not_reached_entities

    from grid

    cross join totals

    left join reached
        on
            grid.event_name = reached.event_name
            and grid.threshold = reached.threshold

),

cells_2x2 as (

    select
        *,
        reached_entities - retained_reached_entities as churned_reached_entities,
        not_reached_entities
        - retained_not_reached_entities as churned_not_reached_entities

    from cells

),

terms as (

    -- phi of the 2x2 table reached x retained, (n11 n00 - n10 n01) / sqrt(n1. n0. n.1 n.0),
    -- in doubles so that the products cannot overflow an integer
    select
        *,
        {{ northstar_divide('reached_entities', 'eligible_entities') }} as reach,
        {{ northstar_divide('retained_reached_entities', 'reached_entities') }}
            as retention_reached,
        {{ northstar_divide('retained_not_reached_entities', 'not_reached_entities') }}
            as retention_not_reached,
        cast(retained_reached_entities as {{ northstar_type_double() }})
        * churned_not_reached_entities
        - cast(churned_reached_entities as {{ northstar_type_double() }})
        * retained_not_reached_entities as phi_numerator,
        sqrt(
            cast(reached_entities as {{ northstar_type_double() }})
            * not_reached_entities
            * retained_entities
            * churned_entities
        ) as phi_denominator

    from cells_2x2

),

rates as (

    select
        *,
        {{ northstar_divide('retention_reached', 'retention_not_reached') }} as lift,
        {{ northstar_divide('phi_numerator', 'phi_denominator') }} as phi

    from terms

),

ranked as (

    select
        *,
        row_number() over (
            partition by event_name
            order by case when phi is null then 1 else 0 end asc, phi desc, threshold asc
        ) as phi_rank_for_event,
        row_number() over (
            order by
                case when phi is null then 1 else 0 end asc,
                phi desc,
                threshold asc,
                event_name asc
        ) as phi_rank_overall

    from rates

),

final as (

    select
        event_name,
        threshold,
        {{ discovery.window_days }} as window_days,
        {{ discovery.retention_start_day }} as retention_start_day,
        {{ discovery.retention_end_day }} as retention_end_day,
        cast(eligible_entities as {{ bigint }}) as eligible_entities,
        cast(retained_entities as {{ bigint }}) as retained_entities,
        cast(reached_entities as {{ bigint }}) as reached_entities,
        cast(retained_reached_entities as {{ bigint }}) as retained_reached_entities,
        cast(not_reached_entities as {{ bigint }}) as not_reached_entities,
        cast(retained_not_reached_entities as {{ bigint }}) as retained_not_reached_entities,
        reach,
        retention_reached,
        retention_not_reached,
        lift,
        phi,
        {%- if discovery.is_configured %}
        (
            event_name = {{ northstar_literal(discovery.aha.name) }}
            and threshold = {{ discovery.aha.threshold | int }}
        ) as is_configured,
        {%- else %}
        false as is_configured,
        {%- endif %}
        phi is not null and phi_rank_for_event = 1 as is_best_for_event,
        phi is not null and phi_rank_overall = 1 as is_best_overall

    from ranked

)

select * from final

{#-
    For every day of the spine, window of 7 and 28 days ending on it (that day included)
    and count N of days: how many entities were active (an activity event) on exactly N
    days of that window. The L7 / L28 distributions, whose sums are WAU and MAU.

    An entity's count for the window ending on day d changes only when one of its active
    days enters the window (d = the active day) or leaves it (d = the active day + the
    window), so each active day makes two change rows per window, a running sum per
    entity turns those into the spans over which it had N days, and a running sum per N
    over the day spine counts the entities: work in proportion to active entity-days and
    output, never active entity-days x 28 as a range join would be.

    Incremental on DuckDB: a touched day is in the windows ending on it and the 27 days
    after it, so a run writes those days, and the days the spine gained since the last
    run (the windows move on with no new event); it reads the active days 27 days before
    each written day, and its running sums start at the first day it reads. A count on a
    written day is exact from those days alone: an entity's running sum at a day counts
    the active days read within the window ending there, and every day of a written day's
    window is read (northstar_day_window_keys).
-#}
{{
    config(
        materialized=northstar_incremental_materialization(),
        incremental_strategy='append',
        on_schema_change='sync_all_columns',
        pre_hook="{{ northstar_incremental_pre_hook('day_date', 'day_windows') }}",
        post_hook="{{ northstar_incremental_post_hook() }}",
    )
}}
{%- set windows = northstar_active_day_windows() -%}
{%- set reach = windows | max - 1 -%}
{%- set plan = northstar_incremental_plan() -%}
{%- set keys = northstar_day_window_keys(plan, reach) %}

with

active_days as (

    select
        entity_id,
        activity_date

    from {{ ref('int_entity_activity_daily') }}

    where
        activity_event_count > 0
        and {{ northstar_day_window_filter(plan, keys, reach, 'read', 'activity_date') }}

),

days as (

    select * from {{ ref('int_day_spine') }}
    where {{ northstar_day_window_filter(plan, keys, reach, 'grid', 'day_date') }}

),

windows as (
    {% for window in windows %}
    select {{ window }} as window_days{{ ' union all' if not loop.last }}
    {%- endfor %}
),

day_counts as (
    {% for n in range(1, windows | max + 1) %}
    select {{ n }} as active_days{{ ' union all' if not loop.last }}
    {%- endfor %}
),

entity_changes as (

    select
        entity_id,
        window_days,
        change_date,
        sum(delta) as delta

    from (

        select
            active_days.entity_id,
            windows.window_days,
            active_days.activity_date as change_date,
            1 as delta

        from active_days

        cross join windows

        union all

        select
            active_days.entity_id,
            windows.window_days,
            {{ northstar_period_shift('day', 'windows.window_days', 'active_days.activity_date') }}
                as change_date,
            -1 as delta

        from active_days

        cross join windows

    ) as changes

    group by 1, 2, 3

),

entity_spans as (

    -- the entity had `active_days` days in the window from span_start to the day before span_end
    select
        window_days,
        change_date as span_start,
        lead(change_date) over (
            partition by entity_id, window_days order by change_date
        ) as span_end,
        sum(delta) over (
            partition by entity_id, window_days
            order by change_date
            rows between unbounded preceding and current row
        ) as active_days

    from entity_changes

),

count_changes as (

    select
        window_days,
        active_days,
        change_date,
        sum(delta) as delta

    from (

        select
            window_days,
            active_days,
            span_start as change_date,
            1 as delta

        from entity_spans

        where active_days > 0

        union all

        -- a span with active days always ends: the last change of an entity is back to 0
        select
            window_days,
            active_days,
            span_end as change_date,
            -1 as delta

        from entity_spans

        where active_days > 0

    ) as spans

    group by 1, 2, 3

),

grid as (

    select
        days.day_date,
        windows.window_days,
        day_counts.active_days

    from days

    cross join windows

    inner join day_counts
        on windows.window_days >= day_counts.active_days

),

counted as (

    select
        grid.day_date,
        grid.window_days,
        grid.active_days,
        sum(coalesce(count_changes.delta, 0)) over (
            partition by grid.window_days, grid.active_days
            order by grid.day_date
            rows between unbounded preceding and current row
        ) as entities

    from grid

    left join count_changes
        on
            grid.window_days = count_changes.window_days
            and grid.active_days = count_changes.active_days
            and grid.day_date = count_changes.change_date

),

final as (

    -- the running sums start at the first day read; only the written days are exact
    select * from counted
    where {{ northstar_incremental_filter(plan, 'day_date', 'day_windows') }}

)

select * from final

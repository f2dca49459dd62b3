{#-
    Stickiness per day: DAU, WAU and MAU (entities with an activity event on the day, in
    the 7 and in the 28 days ending on it) and DAU/MAU, WAU/MAU. WAU and MAU are the sums
    of the L7 and L28 distributions (int_active_days_windows), so the two tables agree by
    construction. MAU is 28 days, not a calendar month: four whole weeks, so every window
    holds each weekday four times. A day not over yet is flagged and its values are null;
    the first 27 days' windows reach before the data and are flagged (is_full_window).
-#}
with

active_days as (

    select * from {{ ref('int_entity_activity_daily') }}
    where activity_event_count > 0

),

windows as (

    select * from {{ ref('int_active_days_windows') }}

),

days as (

    select * from {{ ref('int_day_spine') }}

),

first_day as (

    select min(day_date) as first_date

    from days

),

daily as (

    select
        activity_date,
        count(*) as dau

    from active_days

    group by 1

),

windowed as (

    select
        day_date,
        sum(case when window_days = 7 then entities else 0 end) as wau,
        sum(case when window_days = 28 then entities else 0 end) as mau

    from windows

    group by 1

),

counts as (

    select
        days.day_date,
        {{ northstar_period_is_complete('day', 'days.day_date', 'days.as_of_at') }} as is_complete,
        {{ northstar_period_shift('day', 27, 'first_day.first_date') }}
        <= days.day_date as is_full_window,
        coalesce(daily.dau, 0) as dau,
        windowed.wau,
        windowed.mau

    from days

    cross join first_day

    left join daily
        on days.day_date = daily.activity_date

    left join windowed
        on days.day_date = windowed.day_date

),

final as (

    select
        day_date as as_of_date,
        cast(case when is_complete then dau end as {{ dbt.type_bigint() }}) as dau,
        cast(case when is_complete then wau end as {{ dbt.type_bigint() }}) as wau,
        cast(case when is_complete then mau end as {{ dbt.type_bigint() }}) as mau,
        case when is_complete then {{ northstar_divide('dau', 'mau') }} end as dau_mau,
        case when is_complete then {{ northstar_divide('wau', 'mau') }} end as wau_mau,
        is_full_window,
        is_complete

    from counts

)

select * from final

{#-
    L7 / L28: for every day and window of 7 or 28 days ending on it, how many entities
    were active on exactly 1, 2, ... N days of the window (int_active_days_windows). A
    day that is not over yet is flagged and its counts are null; a window that reaches
    before the first day of data is flagged (is_full_window), its counts are what the
    data holds.
-#}
with

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

final as (

    select
        windows.day_date as as_of_date,
        cast(windows.window_days as {{ dbt.type_int() }}) as window_days,
        cast(windows.active_days as {{ dbt.type_int() }}) as active_days,
        cast(
            case
                when {{ northstar_period_is_complete('day', 'days.day_date', 'days.as_of_at') }}
                    then windows.entities
            end as {{ dbt.type_bigint() }}
        ) as entities,
        {{ northstar_period_shift('day', '(windows.window_days - 1)', 'first_day.first_date') }}
        <= windows.day_date as is_full_window,
        {{ northstar_period_is_complete('day', 'days.day_date', 'days.as_of_at') }} as is_complete

    from windows

    inner join days
        on windows.day_date = days.day_date

    cross join first_day

)

select * from final

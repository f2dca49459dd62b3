{#-
    One row per day from the first accepted event to the reference time
    (northstar_reference_time: var northstar__as_of, else the raw manifest's as_of, else
    the latest accepted event): the calendar every period spine and MetricFlow's time
    spine are cut from.
-#}
{%- set reference = northstar_reference_time() -%}
{%- set as_of_at = northstar_timestamp_literal(reference.at) if reference.at
    else 'max(last_event_at)' -%}

with

activity as (

    -- the compact table has each day's first and last event: no pass over the events
    select * from {{ ref('int_entity_activity_daily') }}

),

bounds as (

    select
        min(activity_date) as first_date,
        {{ as_of_at }} as as_of_at

    from activity

),

digits as (

    {% for digit in range(10) -%}
    select {{ digit }} as digit{{ ' union all ' if not loop.last }}
    {% endfor %}

),

day_numbers as (

    -- up to 100,000 days (about 270 years) of history
    select
        ones.digit
        + 10 * tens.digit
        + 100 * hundreds.digit
        + 1000 * thousands.digit
        + 10000 * ten_thousands.digit as day_number

    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
    cross join digits as ten_thousands

),

final as (

    select
        {{ northstar_period_shift('day', 'day_numbers.day_number', 'bounds.first_date') }}
            as day_date,
        bounds.as_of_at

    from day_numbers

    cross join bounds

    where
        day_numbers.day_number
        <= {{ dbt.datediff('bounds.first_date', 'bounds.as_of_at', 'day') }}

)

select * from final

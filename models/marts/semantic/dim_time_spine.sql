{#-
    MetricFlow's time spine (configured in _semantic__models.yml): one row per day from the
    first accepted event to the reference time, the same days int_period_spine covers. So
    metrics that join to the time spine get exactly the periods of fct_metric_values, with
    missing activity as 0, and no rows before the data starts or after the reference time.
-#}

with

events as (

    select * from {{ ref('stg_events') }}

),

period_spine as (

    select * from {{ ref('int_period_spine') }}

),

first_event as (

    select min(event_date) as first_date

    from events

),

reference_time as (

    select cast(max(as_of_at) as date) as last_date

    from period_spine

),

bounds as (

    -- the bounds int_period_spine uses: the first event's day and the reference time
    -- (its week and month periods start before the first day, so they cannot give it)
    select
        first_event.first_date,
        reference_time.last_date

    from first_event

    cross join reference_time

),

digits as (

    select 0 as digit
    union all
    select 1 as digit
    union all
    select 2 as digit
    union all
    select 3 as digit
    union all
    select 4 as digit
    union all
    select 5 as digit
    union all
    select 6 as digit
    union all
    select 7 as digit
    union all
    select 8 as digit
    union all
    select 9 as digit

),

day_numbers as (

    -- up to 100,000 days (about 270 years), as int_period_spine
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
            as date_day

    from day_numbers

    cross join bounds

    where
        day_numbers.day_number
        <= {{ dbt.datediff('bounds.first_date', 'bounds.last_date', 'day') }}

)

select * from final

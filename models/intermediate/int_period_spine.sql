{#-
    Every period of every configured grain from the first event to the reference time
    (var northstar__as_of, else the latest accepted event). A period is complete when it
    ended at or before the reference time; the current, partial period is not.
-#}
{%- set spec = northstar_spec() -%}
{%- set as_of = var('northstar__as_of', '') -%}

with

events as (

    select * from {{ ref('stg_events') }}

),

bounds as (

    select
        min(event_date) as first_date,
        {% if as_of | trim -%}
        {{ northstar_as_of_timestamp() }}
        {%- else -%}
            max(occurred_at)
        {%- endif %} as as_of_at

    from events

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

days as (

    select
        {{ northstar_period_shift('day', 'day_numbers.day_number', 'bounds.first_date') }}
            as day_date,
        bounds.as_of_at

    from day_numbers

    cross join bounds

    where
        day_numbers.day_number
        <= {{ dbt.datediff('bounds.first_date', 'bounds.as_of_at', 'day') }}

),

periods as (
    {% for grain in spec.grains %}
    select distinct
        '{{ grain }}' as grain,
        {{ northstar_period_start(grain, 'day_date') }} as period_start,
        as_of_at

    from days
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

bounded as (

    select
        grain,
        period_start,
        case grain
            {%- for grain in spec.grains %}
            when '{{ grain }}' then {{ northstar_period_shift(grain, 1, 'period_start') }}
            {%- endfor %}
        end as period_end,
        as_of_at

    from periods

),

final as (

    select
        grain,
        period_start,
        period_end,
        as_of_at,
        cast(period_end as {{ dbt.type_timestamp() }}) <= as_of_at as is_complete_period

    from bounded

)

select * from final

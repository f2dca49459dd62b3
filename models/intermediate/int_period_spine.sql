{#-
    Every period of every configured grain over the day spine. A period is complete when
    it ended at or before the reference time; the current, partial period is not.
-#}
{%- set spec = northstar_spec() -%}

with

days as (

    select * from {{ ref('int_day_spine') }}

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
        case grain
            {%- for grain in spec.grains %}
            when '{{ grain }}'
                then {{ northstar_period_is_complete(grain, 'period_start', 'as_of_at') }}
            {%- endfor %}
        end as is_complete_period

    from bounded

)

select * from final

{#-
    MetricFlow's year time spine (configured in _semantic__models.yml): one row per year
    of dim_time_spine, cut by northstar_period_start as every period of the project is.

    One spine per grain: see dim_time_spine_week.sql for why.
-#}

with

days as (

    select * from {{ ref('dim_time_spine') }}

),

final as (

    select distinct {{ northstar_period_start('year', 'days.date_day') }} as date_year

    from days

)

select * from final

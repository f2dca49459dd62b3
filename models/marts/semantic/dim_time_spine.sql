{#-
    MetricFlow's time spine (configured in _semantic__models.yml): the days of
    int_day_spine, from the first accepted event to the reference time. Metrics that join
    to it get exactly the periods of fct_metric_values, with missing activity as 0, and no
    rows before the data starts or after the reference time.
-#}

with

days as (

    select * from {{ ref('int_day_spine') }}

),

final as (

    select day_date as date_day

    from days

)

select * from final

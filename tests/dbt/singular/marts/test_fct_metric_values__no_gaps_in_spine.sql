{#- Every series (metric, grain, segment) covers every period of its grain from the first
    to the last, each period starting where the previous one ended. Returns gaps. -#}
with

metric_values as (

    select * from {{ ref('fct_metric_values') }}

),

spine as (

    select * from {{ ref('int_period_spine') }}

),

series as (

    select distinct
        metric_name,
        grain,
        segment_name,
        segment_value

    from metric_values

),

expected as (

    select
        series.*,
        spine.period_start

    from series

    inner join spine
        on series.grain = spine.grain

),

missing as (

    select
        expected.*,
        'missing period' as problem

    from expected

    left join metric_values
        on
            expected.metric_name = metric_values.metric_name
            and expected.grain = metric_values.grain
            and expected.segment_name = metric_values.segment_name
            and expected.segment_value = metric_values.segment_value
            and expected.period_start = metric_values.period_start

    where metric_values.metric_name is null

),

chained as (

    select
        metric_name,
        grain,
        segment_name,
        segment_value,
        period_start,
        lag(period_end) over (
            partition by metric_name, grain, segment_name, segment_value
            order by period_start
        ) as previous_period_end

    from metric_values

),

broken as (

    select
        metric_name,
        grain,
        segment_name,
        segment_value,
        period_start,
        'does not start where the previous period ended' as problem

    from chained

    where previous_period_end is not null and previous_period_end <> period_start

)

select * from missing
union all
select * from broken

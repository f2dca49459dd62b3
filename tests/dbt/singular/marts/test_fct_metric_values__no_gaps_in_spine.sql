{#- Every series (metric, grain, segment) covers every period of its grain from the first
    to the last (so it reaches the latest), each period starting where the previous one
    ended; every row is a period of the spine, with the spine's period_end (a start off
    its grain's boundary, a last period of the wrong length). Returns the faults. -#}
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

),

misplaced as (

    select
        metric_values.metric_name,
        metric_values.grain,
        metric_values.segment_name,
        metric_values.segment_value,
        metric_values.period_start,
        'not a period of its grain, or not ending where that period ends' as problem

    from metric_values

    left join spine
        on
            metric_values.grain = spine.grain
            and metric_values.period_start = spine.period_start

    where spine.period_start is null or metric_values.period_end <> spine.period_end

)

select * from missing
union all
select * from broken
union all
select * from misplaced

{#- Segment breakdowns add up to the total: every entity has exactly one value per
    segment, so for each segment the values of an additive metric (and the numerators and
    denominators of every rate) sum to the 'all' row. Returns the rows that do not. -#}
with

metric_values as (

    select * from {{ ref('fct_metric_values') }}

),

metrics as (

    select * from {{ ref('dim_metrics') }}

),

totals as (

    select * from metric_values
    where segment_name = 'all'

),

by_segment as (

    select
        metric_name,
        grain,
        period_start,
        segment_name,
        sum(value) as value_sum,
        sum(numerator) as numerator_sum,
        sum(denominator) as denominator_sum

    from metric_values

    where segment_name <> 'all'

    group by 1, 2, 3, 4

),

compared as (

    select
        by_segment.*,
        totals.value as total_value,
        totals.numerator as total_numerator,
        totals.denominator as total_denominator,
        metrics.is_additive

    from by_segment

    inner join totals
        on
            by_segment.metric_name = totals.metric_name
            and by_segment.grain = totals.grain
            and by_segment.period_start = totals.period_start

    inner join metrics
        on by_segment.metric_name = metrics.metric_name

)

select * from compared
where
    (is_additive and abs(value_sum - total_value) > 1e-6 * greatest(1, abs(total_value)))
    or abs(coalesce(numerator_sum, 0) - coalesce(total_numerator, 0))
    > 1e-6 * greatest(1, abs(coalesce(total_numerator, 0)))
    or abs(coalesce(denominator_sum, 0) - coalesce(total_denominator, 0))
    > 1e-6 * greatest(1, abs(coalesce(total_denominator, 0)))

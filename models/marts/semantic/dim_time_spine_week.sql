{#-
    MetricFlow's week time spine (configured in _semantic__models.yml): one row per week
    of dim_time_spine, cut by northstar_period_start as every period of the project is.

    Why one spine per grain: with only the day spine, MetricFlow (0.213) joins a week or
    month query to the days truncated to that grain and must deduplicate them; its
    source-scan optimizer drops that DISTINCT when it merges the numerator and denominator
    of a ratio read from one semantic model, so a ratio queried alone came back once per
    day of each period (issue 9). MetricFlow joins to the spine with the largest grain a
    query allows, so with a spine per grain no query at day or coarser needs the DISTINCT.
-#}

with

days as (

    select * from {{ ref('dim_time_spine') }}

),

final as (

    select distinct {{ northstar_period_start('week', 'days.date_day') }} as date_week

    from days

)

select * from final

{#- The latest complete period of every metric at every grain (total only), with its
    status: what a "health of the North Star" tile or an alert reads. -#}
{{ config(materialized='view') }}

with

metric_values as (

    select * from {{ ref('fct_metric_values') }}

),

metrics as (

    select * from {{ ref('dim_metrics') }}

),

ranked as (

    select
        metric_values.*,
        row_number() over (
            partition by metric_values.metric_name, metric_values.grain
            order by metric_values.period_start desc
        ) as recency_rank

    from metric_values

    where
        metric_values.segment_name = 'all'
        and metric_values.is_complete_period

),

final as (

    select
        ranked.metric_name,
        metrics.label,
        ranked.role,
        metrics.owner,
        metrics.unit,
        ranked.grain,
        ranked.period_start,
        ranked.period_end,
        ranked.value,
        ranked.previous_value,
        ranked.change_abs,
        ranked.change_pct,
        ranked.target,
        ranked.gap_to_target,
        ranked.target_kind,
        ranked.target_goal,
        ranked.target_deadline,
        ranked.is_on_pace,
        metrics.warn_threshold,
        metrics.breach_threshold,
        ranked.status,
        metrics.sort_order

    from ranked

    inner join metrics
        on ranked.metric_name = metrics.metric_name

    where ranked.recency_rank = 1

)

select * from final

{#- The North Star alone, total only: the series a dashboard's headline chart reads. -#}
{{ config(materialized='view') }}

with

metric_values as (

    select * from {{ ref('fct_metric_values') }}

),

final as (

    select
        metric_name,
        grain,
        period_start,
        period_end,
        value,
        previous_value,
        change_abs,
        change_pct,
        target,
        gap_to_target,
        target_kind,
        target_goal,
        target_deadline,
        is_on_pace,
        is_complete_period,
        definition_version

    from metric_values

    where
        role = 'north_star'
        and segment_name = 'all'

)

select * from final

{#-
    Event-level rows for the percentile metrics (int_metric_events): one row per accepted
    event that a percentile metric of the spec reads, with `<metric>__value` = the metric's
    property when the event qualifies, else null. The semantic layer's percentiles read it.
-#}

with

metric_events as (

    select * from {{ ref('int_metric_events') }}

),

final as (

    select * from metric_events

)

-- the value columns depend on the spec: a wildcard on purpose
select * from final  -- noqa: AM04

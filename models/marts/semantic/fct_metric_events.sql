{#-
    Event-level rows for the percentile metrics (int_metric_events): one row per accepted
    event that a percentile metric of the spec reads, with `<metric>__value` = the metric's
    property when the event qualifies, else null. The semantic layer's percentiles read it.
    A view, as fct_entity_activity_daily is: a table was a second copy of an event-sized
    table on every run (10 s of a one-day incremental run at 100M raw events).
-#}
{{ config(materialized='view') }}

with

metric_events as (

    select * from {{ ref('int_metric_events') }}

),

final as (

    select * from metric_events

)

-- the value columns depend on the spec: a wildcard on purpose
select * from final  -- noqa: AM04

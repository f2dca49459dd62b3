{#-
    The entity x event x day activity table as a public mart (a view: no second copy of the
    data): one row per entity, event name and day, with one column per spec measure
    (`<metric>__numerator`, `<metric>__denominator`). The semantic layer's counts, sums,
    ratios and distinct-entity measures read it.

    For an `entities` measure whose minimums are all 1, `<column>__qualifies` is 1 when the
    row alone meets the measure's condition (northstar_measure_value over the row's own
    count, event name and day). With minimums of 1, an entity meets the condition in
    a period exactly when one of its rows there does, so a distinct count of entities over
    qualifying rows is the measure at any grain. Larger minimums (min_active_days included)
    are conditions on period totals and get no column (the semantic layer leaves those
    metrics out).
-#}
{{ config(materialized='view') }}
{%- set spec = northstar_spec() %}
{%- set row_measures = [] %}
{#- entities measures with every minimum at 1: (measure, column) -#}
{%- for metric in spec.metrics %}
{%- for side in ['numerator', 'denominator'] %}
{%- set measure = metric[side] %}
{%- if measure is not none and measure.kind == 'entities'
    and [measure.min_events, measure.min_distinct_users, measure.min_distinct_events,
        measure.min_active_days] == [1, 1, 1, 1] %}
{%- do row_measures.append((measure, metric.name ~ '__' ~ side)) %}
{%- endif %}
{%- endfor %}
{%- endfor %}

with

activity as (

    select * from {{ ref('int_entity_event_daily') }}

),

row_counts as (

    -- northstar_measure_aggregates' distinct event names and days, over one row
    select
        {% for measure, column in row_measures %}
        case
            when activity.{{ column }} > 0 and activity.event_name is not null then 1
            else 0
        end as {{ column }}__events,
        case
            when activity.{{ column }} > 0 and activity.activity_date is not null then 1
            else 0
        end as {{ column }}__days,
        {% endfor %}
        activity.*

    from activity

),

final as (

    select
        {% for measure, column in row_measures %}
        {{ northstar_measure_value(measure, column) | indent(8) }}
            as {{ column }}__qualifies,
        {% endfor %}
        row_counts.*

    from row_counts

)

-- the activity table's columns depend on the spec: a wildcard on purpose
select * from final  -- noqa: AM04

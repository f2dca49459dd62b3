{#-
    The compact table every metric reads: one row per entity, user, event name and day,
    with one column per spec measure. The large events table is scanned here once per
    build (plus the aha moment and percentile metrics, which need event-level rows).
-#}
{%- set spec = northstar_spec() -%}

with

events as (

    select * from {{ ref('stg_events') }}

),

final as (

    select
        entity_id,
        user_id,
        event_name,
        event_date as activity_date,
        count(*) as event_count,
        sum(
            case when {{ northstar_events_sql(spec.activity_events) }} then 1 else 0 end
        ) as activity_event_count,
        {%- for metric in spec.metrics %}
        {%- for side in ['numerator', 'denominator'] %}
        {%- if northstar_measure_has_column(metric[side]) %}
        sum({{ northstar_measure_event_sql(metric[side]) }}) as {{ metric.name }}__{{ side }},
        {%- endif %}
        {%- endfor %}
        {%- endfor %}
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at

    from events

    group by 1, 2, 3, 4

)

select * from final

{#-
    The one full pass over the events for the metrics: one row per entity, event name and
    day, with one column per spec measure. int_entity_activity_daily (entity x day, what the
    metric models read) is aggregated from it, the semantic layer's activity mart is a view
    of it (it keeps event_name as a dimension), and aha discovery reads its early days.
    No user column: only a measure with min_distinct_users > 1 needs users, and those read
    int_entity_user_daily; a user grain here made this table 2.5x larger.
-#}
{%- set spec = northstar_spec() -%}

with

events as (

    select * from {{ ref('stg_events') }}

),

final as (

    select
        entity_id,
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

    group by 1, 2, 3

)

select * from final

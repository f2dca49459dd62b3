{#-
    One row per entity (account or user, per the spec) with its segment values, its aha
    moment and, per activation metric of the spec, whether it was activated: the numerator
    of that metric (1 when the aha moment came within `within_days` of its first event, as
    int_metric_values counts it). The semantic layer's primary entity.
-#}
{%- set spec = northstar_spec() %}
{%- set activation_metrics = spec.metrics | selectattr('kind', 'equalto', 'activation') | list %}

with

entities as (

    select * from {{ ref('int_entities') }}

),

aha_moments as (

    select * from {{ ref('int_aha_moments') }}

),

final as (

    select
        entities.entity_type,
        entities.entity_id,
        entities.first_seen_at,
        entities.last_seen_at,
        entities.lifetime_events,
        {% for segment in spec.segments %}
        entities.segment_{{ segment.name }},
        {% endfor %}
        entities.has_attributes,
        aha_moments.aha_reached_at,
        coalesce(aha_moments.has_reached_aha, false) as has_reached_aha,
        aha_moments.days_to_aha,
        {% for metric in activation_metrics %}
        case
            when
                aha_moments.aha_reached_at
                <= {{ northstar_timestamp_add(
                    'day', metric.within_days, 'aha_moments.first_seen_at'
                ) }}
                then 1
            else 0
        end as {{ metric.name }}__numerator,
        {% endfor %}
        1 as entity_count

    from entities

    left join aha_moments
        on entities.entity_id = aha_moments.entity_id

)

select * from final

{#-
    One row per entity (account or user, per the spec): when it was first seen and its
    segment values. Segments are attributes of the entity, not of single events, so every
    entity has exactly one value per segment and segment breakdowns add up to the total.
    `source: entity` reads the accounts/users table; `source: first_event` takes the value
    on the entity's first event that carries one (int_entity_first_events, which follows
    the loads). Missing values become 'unknown'.
-#}
{%- set spec = northstar_spec() -%}
{%- set entity_segments = spec.segments | selectattr('source', 'equalto', 'entity') | list -%}
{%- set event_segments = spec.segments | selectattr('source', 'equalto', 'first_event') | list -%}
{%- set attributes_model = 'stg_accounts' if spec.entity == 'account' else 'stg_users' -%}
{{- northstar_check_entity_segments(entity_segments, ref(attributes_model)) -}}

with

activity as (

    select * from {{ ref('int_entity_activity_daily') }}

),
{%- if event_segments %}

first_events as (

    select * from {{ ref('int_entity_first_events') }}

),
{%- endif %}

attributes as (

    select * from {{ ref(attributes_model) }}

),

first_seen as (

    select
        entity_id,
        min(first_event_at) as first_seen_at,
        max(last_event_at) as last_seen_at,
        sum(event_count) as lifetime_events

    from activity

    group by 1

),
{%- if event_segments %}

first_event_values as (

    select
        {%- for segment in event_segments %}
        max(
            case when segment_name = '{{ segment.name }}' then segment_value end
        ) as {{ segment.name }},
        {%- endfor %}
        entity_id

    from first_events

    group by {{ event_segments | length + 1 }}

),
{%- endif %}

final as (

    select
        '{{ spec.entity }}' as entity_type,
        first_seen.entity_id,
        first_seen.first_seen_at,
        first_seen.last_seen_at,
        first_seen.lifetime_events,
        {%- for segment in entity_segments %}
        coalesce(
            cast(attributes.{{ segment.name }} as {{ dbt.type_string() }}), 'unknown'
        ) as segment_{{ segment.name }},
        {%- endfor %}
        {%- for segment in event_segments %}
        coalesce(
            first_event_values.{{ segment.name }}, 'unknown'
        ) as segment_{{ segment.name }},
        {%- endfor %}
        attributes.{{ spec.entity_column }} is not null as has_attributes

    from first_seen

    left join attributes
        on first_seen.entity_id = attributes.{{ spec.entity_column }}
    {%- if event_segments %}

    left join first_event_values
        on first_seen.entity_id = first_event_values.entity_id
    {%- endif %}

)

select * from final

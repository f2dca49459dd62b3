{#-
    One row per entity (account or user, per the spec): when it was first seen and its
    segment values. Segments are attributes of the entity, not of single events, so every
    entity has exactly one value per segment and segment breakdowns add up to the total.
    `source: entity` reads the accounts/users table; `source: first_event` takes the value
    on the entity's first event that carries one. Missing values become 'unknown'.
-#}
{%- set spec = northstar_spec() -%}
{%- set entity_segments = spec.segments | selectattr('source', 'equalto', 'entity') | list -%}
{%- set event_segments = spec.segments | selectattr('source', 'equalto', 'first_event') | list -%}
{%- set attributes_model = 'stg_accounts' if spec.entity == 'account' else 'stg_users' -%}
{{- northstar_check_entity_segments(entity_segments, ref(attributes_model)) -}}

with

events as (

    select * from {{ ref('stg_events') }}

),

attributes as (

    select * from {{ ref(attributes_model) }}

),

first_seen as (

    select
        entity_id,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as lifetime_events

    from events

    group by 1

),
{% for segment in event_segments %}
first_{{ segment.name }} as (

    select
        entity_id,
        {{ segment.name }},
        row_number() over (
            partition by entity_id
            order by occurred_at, event_id
        ) as value_rank

    from events

    where {{ segment.name }} is not null

),
{% endfor %}
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
            first_{{ segment.name }}.{{ segment.name }}, 'unknown'
        ) as segment_{{ segment.name }},
        {%- endfor %}
        attributes.{{ spec.entity_column }} is not null as has_attributes

    from first_seen

    left join attributes
        on first_seen.entity_id = attributes.{{ spec.entity_column }}
    {%- for segment in event_segments %}

    left join first_{{ segment.name }}
        on
            first_seen.entity_id = first_{{ segment.name }}.entity_id
            and first_{{ segment.name }}.value_rank = 1
    {%- endfor %}

)

select * from final
